// The bad-input catalogue of hosts: a Docker Engine and a Kubernetes API server that accept the
// connection and never answer (named with the time waited, within that time plus a margin), and
// kubeconfigs that define nothing. Each case runs the built CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../../scripts/lib/setup.mjs';
import { closedPort, expectRefused } from '../../support/badInput';
import { startSilentHost, writeSilentKubeconfig, type SilentHost } from '../../support/silentHost';

const SECONDS = 2;
const env = { MLOPS_REMOTE_TIMEOUT_SECONDS: String(SECONDS) };
/** For the CLI to start and print, beyond the time it waits. */
const MARGIN_MS = 10_000;
const customers = join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace', 'data', 'customers.csv');

let silent: SilentHost;
let dir = '';
before(async () => {
  silent = await startSilentHost();
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-hosts-'));
});
after(() => silent.close());

/** Runs a case against the silent host and checks it waited the timeout, not much more. */
async function silentCase(args: string[], message: RegExp): Promise<void> {
  const before = silent.accepted();
  const result = await expectRefused({ args, env, message, timeoutMs: SECONDS * 1000 + MARGIN_MS });
  assert.ok(silent.accepted() > before, 'the CLI reached the silent host');
  assert.ok(result.ms >= SECONDS * 1000, `gave up after ${result.ms} ms, before the ${SECONDS} s timeout`);
  assert.ok(result.ms < SECONDS * 1000 + MARGIN_MS, `took ${result.ms} ms`);
}

test('a Docker Engine that accepts and never answers (mlops status --docker-host tcp://…)', async () => {
  await silentCase(
    ['status', '--docker-host', `tcp://127.0.0.1:${silent.port}`, '--name', 'churn'],
    new RegExp(`The Docker Engine at tcp://127\\.0\\.0\\.1:${silent.port} did not answer within ${SECONDS} s\\.`),
  );
});

test('a Docker Engine that never answers a back-test (mlops backtest --docker-host tcp://…)', async () => {
  await silentCase(
    [
      'backtest',
      '--candidate',
      'mlops/churn:1',
      '--data',
      customers,
      '--label',
      'churned',
      '--docker-host',
      `tcp://127.0.0.1:${silent.port}`,
    ],
    new RegExp(`The Docker Engine at tcp://127\\.0\\.0\\.1:${silent.port} did not answer within ${SECONDS} s\\.`),
  );
});

test('a Kubernetes API server that accepts and never answers (mlops status --target kubernetes)', async () => {
  const kubeconfig = join(dir, 'silent-kubeconfig');
  writeSilentKubeconfig(kubeconfig, silent.port);
  await silentCase(
    ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    new RegExp(
      `The Kubernetes API server of context "silent" \\(https://127\\.0\\.0\\.1:${silent.port}\\) did not answer within ${SECONDS} s when trying to read deployment churn in ml\\.`,
    ),
  );
});

test('a Kubernetes API server that never answers a listing (mlops history --target kubernetes)', async () => {
  const kubeconfig = join(dir, 'silent-kubeconfig-history');
  writeSilentKubeconfig(kubeconfig, silent.port);
  await silentCase(
    ['history', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    new RegExp(`\\(https://127\\.0\\.0\\.1:${silent.port}\\) did not answer within ${SECONDS} s when trying to`),
  );
});

const HOST_FORMS = /unix:\/\/\/var\/run\/docker\.sock, tcp:\/\/HOST:2375 .* or ssh:\/\/ with USER@HOST\[:PORT\]/;

/** A Docker host the CLI must refuse before connecting, without Node's URL deprecation warning. */
async function malformedHost(host: string, message: RegExp): Promise<void> {
  const before = silent.accepted();
  const result = await expectRefused({
    args: ['status', '--docker-host', host, '--name', 'churn'],
    env,
    message: [message, HOST_FORMS],
  });
  assert.doesNotMatch(result.stderr, /DEP0170|DeprecationWarning/);
  assert.equal(silent.accepted(), before, 'the CLI connected to a host it should have refused');
}

test('a tcp:// Docker host with a port that is not a number (--docker-host tcp://127.0.0.1:notaport)', async () => {
  await malformedHost(
    'tcp://127.0.0.1:notaport',
    /The Docker host 'tcp:\/\/127\.0\.0\.1:notaport' \(--docker-host or mlops\.dockerHost\) is not an address of a Docker Engine: the port 'notaport' is not a number from 1 to 65535\./,
  );
});

test('a Docker host of an unknown scheme (--docker-host ftp://engine:2375)', async () => {
  await malformedHost(
    'ftp://engine:2375',
    /The Docker host 'ftp:\/\/engine:2375' .* ftp:\/\/ is not a scheme for a Docker Engine\./,
  );
});

test('an ssh:// Docker host with a port out of range (--docker-host ssh://deploy@127.0.0.1:99999)', async () => {
  await malformedHost(
    'ssh://deploy@127.0.0.1:99999',
    /The Docker host 'ssh:\/\/\*\*\*@127\.0\.0\.1:99999' .* the port '99999' is not a number from 1 to 65535\./,
  );
});

test('an ssh:// Docker host with a password (--docker-host ssh://deploy:secret@…)', async () => {
  const result = await expectRefused({
    args: ['status', '--docker-host', `ssh://deploy:s3cret@127.0.0.1:${silent.port}`, '--name', 'churn'],
    env,
    message: /'ssh:\/\/\*\*\*@127\.0\.0\.1:\d+' .* ssh:\/\/ takes no password/,
  });
  assert.doesNotMatch(result.stderr, /s3cret/);
});

test('a malformed DOCKER_HOST (tcp://127.0.0.1:x)', async () => {
  await expectRefused({
    args: ['status', '--name', 'churn'],
    env: { ...env, DOCKER_HOST: 'tcp://127.0.0.1:x' },
    message: [
      /The Docker host 'tcp:\/\/127\.0\.0\.1:x' \(DOCKER_HOST\) is not an address of a Docker Engine: the port 'x'/,
      HOST_FORMS,
    ],
  });
});

test('an ssh:// Docker host that refuses the connection (no DEP0170 warning)', async () => {
  const port = await closedPort();
  const result = await expectRefused({
    args: ['status', '--docker-host', `ssh://deploy@127.0.0.1:${port}`, '--name', 'churn'],
    env,
    message: new RegExp(`No Docker Engine answered at ssh://\\*\\*\\*@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
  });
  assert.doesNotMatch(result.stderr, /DEP0170|DeprecationWarning/);
});

test('a remote timeout that is not a number of seconds (MLOPS_REMOTE_TIMEOUT_SECONDS=soon)', async () => {
  await expectRefused({
    args: ['status', '--docker-host', `tcp://127.0.0.1:${silent.port}`, '--name', 'churn'],
    env: { MLOPS_REMOTE_TIMEOUT_SECONDS: 'soon' },
    message: /MLOPS_REMOTE_TIMEOUT_SECONDS is 'soon', which is not a number of seconds above 0/,
  });
});

test('a 0-byte kubeconfig', async () => {
  const kubeconfig = join(dir, 'empty-kubeconfig');
  writeFileSync(kubeconfig, '');
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    message: [
      new RegExp(`The kubeconfig ${kubeconfig} is empty: it defines no context, no cluster and no user\\.`),
      /kubectl config view --raw/,
    ],
    unchanged: [kubeconfig],
  });
});

test('a kubeconfig of comments only', async () => {
  const kubeconfig = join(dir, 'comments-kubeconfig');
  writeFileSync(kubeconfig, '# filled in later\n\n');
  await expectRefused({
    args: ['history', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    message: new RegExp(`The kubeconfig ${kubeconfig} is empty: it defines no context, no cluster and no user\\.`),
    unchanged: [kubeconfig],
  });
});

test('a kubeconfig with no contexts, clusters or users (apiVersion and kind only)', async () => {
  const kubeconfig = join(dir, 'bare-kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    message: new RegExp(`The kubeconfig ${kubeconfig} defines no context, no cluster and no user\\.`),
    unchanged: [kubeconfig],
  });
});

test('a kubeconfig with a cluster but no context or user', async () => {
  const kubeconfig = join(dir, 'cluster-only-kubeconfig');
  writeFileSync(
    kubeconfig,
    'apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: "https://127.0.0.1:6443"}\n',
  );
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'churn'],
    message: new RegExp(`The kubeconfig ${kubeconfig} defines no context and no user\\.`),
    unchanged: [kubeconfig],
  });
});

test('a kubeconfig asked for a context when it defines none (--context prod)', async () => {
  const kubeconfig = join(dir, 'no-context-kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--context', 'prod', '--name', 'churn'],
    message: new RegExp(
      `The kubeconfig ${kubeconfig} has no context "prod": it defines no context, no cluster and no user\\.`,
    ),
    unchanged: [kubeconfig],
  });
});
