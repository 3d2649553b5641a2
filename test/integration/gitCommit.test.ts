// A run's git commit (mlflow.source.git.commit) opens as the commit with its patch, or as a diff
// of the working tree against it, read from a real repository with simple-git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { showCommit } from '../../src/experiments/gitCommit';
import { MlopsError } from '../../src/shared/errors';

function repository(): { dir: string; commit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-git-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  git('init', '-q');
  writeFileSync(join(dir, 'train.py'), 'n_estimators = 100\n');
  git('add', '.');
  git('commit', '-q', '-m', 'Train with 100 trees');
  const commit = git('rev-parse', 'HEAD').trim();
  writeFileSync(join(dir, 'train.py'), 'n_estimators = 400\n');
  return { dir, commit };
}

test('the commit of a run shows with its message and patch', async () => {
  const { dir, commit } = repository();
  const shown = await showCommit(dir, commit, 'parent');
  assert.match(shown, /Train with 100 trees/);
  assert.match(shown, /\+n_estimators = 100/);
});

test('the working tree is diffed against the commit of a run', async () => {
  const { dir, commit } = repository();
  const diff = await showCommit(dir, commit.slice(0, 10), 'workingTree');
  assert.match(diff, /-n_estimators = 100/);
  assert.match(diff, /\+n_estimators = 400/);
});

test('an unknown or malformed commit says so', async () => {
  const { dir } = repository();
  await assert.rejects(
    showCommit(dir, 'deadbeefdeadbeef', 'parent'),
    (error: unknown) => error instanceof MlopsError && /not in the repository/.test(error.message),
  );
  await assert.rejects(showCommit(dir, '--output=/tmp/x', 'parent'), /not a git commit id/);
});
