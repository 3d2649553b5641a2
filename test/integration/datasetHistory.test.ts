// A dataset's git history read from a real repository: the commits that touched it and the file
// as it was at each of them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { datasetAtCommit, datasetCommits } from '../../src/datasets/gitHistory';
import { profile } from '../../src/datasets/profile';
import { compareVersionsMarkdown } from '../../src/datasets/versionComparison';
import { MlopsError } from '../../src/shared/errors';

function repositoryWithHistory() {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-data-history-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.invalid', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  git('init', '-q');
  mkdirSync(join(dir, 'data'));
  const file = join(dir, 'data', 'customers.csv');
  writeFileSync(file, 'id,age\n1,34\n2,51\n');
  writeFileSync(join(dir, 'README.md'), 'x');
  git('add', '.');
  git('commit', '-q', '-m', 'First customers');
  const first = git('rev-parse', 'HEAD').trim();
  writeFileSync(join(dir, 'README.md'), 'y');
  git('commit', '-q', '-am', 'Docs only');
  writeFileSync(file, 'id,age,churned\n1,34,0\n2,51,1\n3,29,0\n');
  git('commit', '-q', '-am', 'Add churn labels');
  return { dir, file, first };
}

test('lists the commits that touched a dataset, newest first', async () => {
  const { dir, file } = repositoryWithHistory();
  const commits = await datasetCommits(dir, file);
  assert.deepEqual(
    commits.map((c) => c.message),
    ['Add churn labels', 'First customers'],
  );
  assert.equal(commits[0].author, 'Ada');
  assert.match(commits[0].hash, /^[0-9a-f]{40}$/);
});

test('gives the dataset as it was at a commit', async () => {
  const { dir, file, first } = repositoryWithHistory();
  const copy = await datasetAtCommit(dir, file, first);
  assert.equal(readFileSync(copy, 'utf8'), 'id,age\n1,34\n2,51\n');
  await assert.rejects(
    datasetAtCommit(dir, join(dir, 'data', 'missing.csv'), first),
    (error: unknown) => error instanceof MlopsError && /does not exist at commit/.test(error.message),
  );
  await assert.rejects(datasetAtCommit(dir, file, '--output=/tmp/x'), /not a git commit id/);
});

test('compares a past version with the working copy: rows, schema and statistics', async () => {
  const { dir, file, first } = repositoryWithHistory();
  const old = await datasetAtCommit(dir, file, first);
  const markdown = compareVersionsMarkdown(
    'data/customers.csv',
    { label: first.slice(0, 8), profile: await profile(old) },
    { label: 'working copy', profile: await profile(file) },
  );
  assert.match(markdown, /\| rows \| 2 \| 3 \(\+1\) \|/);
  assert.match(markdown, /churned added \(BIGINT\)/);
  assert.match(markdown, /\| age \| mean \| 42\.5 \| \*\*38\*\* \|/);
});
