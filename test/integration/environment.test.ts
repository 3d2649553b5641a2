// The environment checks against the real interpreter, git and file system, and `mlops doctor`
// as a user runs it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { checkEnvironment } from '../../src/environment/checks';

const cli = join(repoRoot, 'dist', 'cli.js');

test('the real Python and git are found, an unreachable engine is named', async () => {
  const checks = await checkEnvironment({ cwd: repoRoot, dockerHost: 'tcp://127.0.0.1:9', env: {} });
  const byId = Object.fromEntries(checks.map((check) => [check.id, check]));
  const pythonVersion = execFileSync('python3', ['-c', 'import sys; print(sys.version.split()[0])'], {
    encoding: 'utf8',
  }).trim();
  assert.equal(byId.python.status, 'ok');
  assert.ok(byId.python.detail.includes(pythonVersion), byId.python.detail);
  assert.ok(byId['python:mlflow'], 'reports mlflow');
  assert.equal(byId.docker.status, 'missing');
  assert.match(byId.docker.detail, /tcp:\/\/127\.0\.0\.1:9/);
  assert.ok(byId.docker.remedy);
  assert.equal(byId.git.status, 'ok');
});

test('a wrong interpreter is reported with the path and a remedy', async () => {
  const checks = await checkEnvironment({
    pythonPath: '/nonexistent/python',
    dockerHost: 'tcp://127.0.0.1:9',
    env: {},
  });
  const python = checks.find((check) => check.id === 'python')!;
  assert.equal(python.status, 'missing');
  assert.match(python.detail, /\/nonexistent\/python/);
  assert.match(python.remedy ?? '', /mlops\.pythonPath/);
});

test('a multi-file KUBECONFIG is read; a current context that no file defines is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-kube-'));
  writeFileSync(join(dir, 'clusters'), 'apiVersion: v1\nkind: Config\nclusters: []\n');
  writeFileSync(join(dir, 'contexts'), 'apiVersion: v1\nkind: Config\ncurrent-context: "staging"\n');
  const env = { KUBECONFIG: [join(dir, 'missing'), join(dir, 'clusters'), join(dir, 'contexts')].join(delimiter) };
  const checks = await checkEnvironment({ dockerHost: 'tcp://127.0.0.1:9', env });
  const kube = checks.find((check) => check.id === 'kubernetes')!;
  assert.equal(kube.status, 'warning');
  assert.match(
    kube.detail,
    new RegExp(`The kubeconfig ${join(dir, 'clusters')}, ${join(dir, 'contexts')} has no context "staging"`),
  );
  assert.ok(!kube.detail.includes('missing'), 'a listed file that does not exist is passed over');
  const none = (
    await checkEnvironment({ dockerHost: 'tcp://127.0.0.1:9', env: { KUBECONFIG: join(dir, 'missing') } })
  ).find((check) => check.id === 'kubernetes')!;
  assert.deepEqual([none.status, none.detail], ['warning', `no kubeconfig at ${join(dir, 'missing')}`]);
});

test('mlops doctor --json prints the checks as JSON on stdout', () => {
  const result = spawnSync(process.execPath, [cli, 'doctor', '--json', '--docker-host', 'tcp://127.0.0.1:9'], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const { checks } = JSON.parse(result.stdout);
  assert.ok(checks.some((check: { id: string; status: string }) => check.id === 'python' && check.status === 'ok'));
});

test('mlops --version prints the package version; a bad option exits with 2', () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  assert.equal(execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim(), version);
  const bad = spawnSync(process.execPath, [cli, 'doctor', '--frobnicate'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--frobnicate/);
});
