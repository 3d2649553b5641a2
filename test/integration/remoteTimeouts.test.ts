// The remote timeout through the core functions: a host that accepts and never answers is named
// with the time waited (the Docker client, a swarm target, the Deployments view's image list, a
// Kubernetes target's calls, logs and watches, the doctor), and on the real engine, with a
// timeout of 1 s, the long operations outlive it: a build with a silent step, a log follow that
// waits, and the event stream. (kubernetes.test.ts does the same for watches and rollouts.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { dockerCli } from '../../scripts/lib/docker.mjs';
import { diagnoseTarget, listLocalImages } from '../../src/deploy/deployments/engine';
import { connectDocker } from '../../src/containerize/docker/dockerClient';
import { buildImage } from '../../src/containerize/image/buildImage';
import { openKubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { checkEnvironment } from '../../src/environment/checks';
import { dockerAvailable, testBusyboxImage } from '../support/docker';
import { needService } from '../support/services';
import { startSilentHost, writeSilentKubeconfig, type SilentHost } from '../support/silentHost';

const SHORT_MS = 1000;
/** A name no other test process on the shared engine uses. */
const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}`;
/** How much later than the timeout a refusal may come. */
const MARGIN_MS = 3000;

let silent: SilentHost;
let where = '';
before(async () => {
  silent = await startSilentHost();
  where = `tcp://127.0.0.1:${silent.port}`;
});
after(() => silent.close());

/** Awaits `promise`, expecting a refusal that names the silent engine and the time waited, in time. */
async function refusedInTime(promise: Promise<unknown>, seconds: string): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.message, `The Docker Engine at ${where} did not answer within ${seconds}.`);
    return true;
  });
  const waited = Date.now() - started;
  assert.ok(waited < Number.parseFloat(seconds) * 1000 + MARGIN_MS, `refused after ${waited} ms`);
}

test('a silent Docker Engine is named with the time waited: the client, a swarm target and the image list', async () => {
  await refusedInTime(connectDocker(where, { timeoutMs: SHORT_MS }), '1 s');
  const previous = process.env.MLOPS_REMOTE_TIMEOUT_SECONDS;
  process.env.MLOPS_REMOTE_TIMEOUT_SECONDS = '1.5';
  try {
    await refusedInTime(openSwarmTarget({ dockerHost: where }), '1.5 s');
    await refusedInTime(listLocalImages(where), '1.5 s');
  } finally {
    if (previous === undefined) delete process.env.MLOPS_REMOTE_TIMEOUT_SECONDS;
    else process.env.MLOPS_REMOTE_TIMEOUT_SECONDS = previous;
  }
});

test('the Deployments view shows a silent swarm target as unreachable after one time limit, not two', async () => {
  const previous = process.env.MLOPS_REMOTE_TIMEOUT_SECONDS;
  process.env.MLOPS_REMOTE_TIMEOUT_SECONDS = '1.5';
  try {
    // As the view lists a target: open it (the ping times out), then ask why it failed.
    const accepted = silent.accepted();
    const started = Date.now();
    const listError: unknown = await openSwarmTarget({ dockerHost: where }).then(
      () => assert.fail('a silent engine opened'),
      (error: unknown) => error,
    );
    const problem = await diagnoseTarget(where, where, listError);
    const waited = Date.now() - started;
    assert.deepEqual(problem, {
      kind: 'unreachable',
      message: `The Docker Engine at ${where} did not answer within 1.5 s. ${(listError as { remedy: string }).remedy}`,
    });
    assert.equal(silent.accepted() - accepted, 1, 'the diagnosis connected again');
    assert.ok(waited >= 1500 && waited < 1500 + MARGIN_MS / 2, `unreachable after ${waited} ms`);
  } finally {
    if (previous === undefined) delete process.env.MLOPS_REMOTE_TIMEOUT_SECONDS;
    else process.env.MLOPS_REMOTE_TIMEOUT_SECONDS = previous;
  }
});

test('a silent Kubernetes API server is named with the time waited: a status, a listing, a history and logs; a watch gives up without hanging', async () => {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'mlops-silent-kube-')), 'kubeconfig');
  writeSilentKubeconfig(kubeconfig, silent.port);
  const target = await openKubernetesTarget({ kubeconfig, timeoutMs: SHORT_MS });
  const server = `https://127\\.0\\.0\\.1:${silent.port}`;
  const calls: [string, () => Promise<unknown>][] = [
    ['read deployment churn in ml', () => target.status('churn')],
    ['list deployments in ml', () => target.list()],
    ['(read|list) ', () => target.history('churn')],
    ['(read|list) ', () => target.logs('churn', { onLine: () => undefined })],
  ];
  for (const [what, call] of calls) {
    const started = Date.now();
    await assert.rejects(call(), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `^The Kubernetes API server of context "silent" \\(${server}\\) did not answer within 1 s when trying to ${what}`,
        ),
      );
      return true;
    });
    assert.ok(Date.now() - started < SHORT_MS + MARGIN_MS, `${what}: refused after ${Date.now() - started} ms`);
  }
  // A live watch (the Deployments view's) that cannot connect gives up and tries again later, and never hangs.
  const abort = new AbortController();
  const started = Date.now();
  assert.equal(await target.watch(() => undefined, abort.signal), true);
  abort.abort();
  assert.ok(Date.now() - started < SHORT_MS + MARGIN_MS, `the watch took ${Date.now() - started} ms`);
});

test('the doctor names a silent Docker Engine and a silent Kubernetes API server within a few seconds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-silent-doctor-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeSilentKubeconfig(kubeconfig, silent.port);
  const started = Date.now();
  const checks = await checkEnvironment({ dockerHost: where, kubeconfig, env: {} });
  assert.ok(Date.now() - started < 3000 + MARGIN_MS + 15_000, 'the checks run side by side (Python takes the longest)');
  const byId = Object.fromEntries(checks.map((check) => [check.id, check]));
  assert.equal(byId.docker!.status, 'missing');
  assert.equal(byId.docker!.detail, `no engine answered at ${where}: no answer within 2 s`);
  assert.equal(byId.kubernetes!.status, 'warning');
  assert.match(
    byId.kubernetes!.detail,
    new RegExp(
      `current context silent \\(https://127\\.0\\.0\\.1:${silent.port}\\): The Kubernetes API server of context "silent" .* did not answer within 3 s when trying to read its version\\.`,
    ),
  );
});

async function engineReady(t: TestContext): Promise<string | undefined> {
  const engine = await dockerAvailable();
  if (!needService(t, engine.ok, engine.reason)) return undefined;
  const busybox = await testBusyboxImage();
  if (!needService(t, busybox.ok, busybox.reason)) return undefined;
  return busybox.image;
}

test('with a 1 s timeout on the real engine, a build whose step is silent for 3 s is not cut', async (t) => {
  const busybox = await engineReady(t);
  if (!busybox) return;
  const docker = await connectDocker(undefined, { timeoutMs: SHORT_MS });
  const context = mkdtempSync(join(tmpdir(), 'mlops-slow-build-'));
  mkdirSync(join(context, 'files'));
  writeFileSync(join(context, 'files', 'note.txt'), 'a file to send\n');
  writeFileSync(join(context, 'Dockerfile'), `FROM ${busybox}\nCOPY files /files\nRUN sleep 3 && echo slept\n`);
  const tag = `mlops-test-slow-build:${uniqueName('t')}`;
  const lines: string[] = [];
  try {
    const started = Date.now();
    const id = await buildImage(docker, context, tag, { noCache: true, onLine: (line) => lines.push(line) });
    assert.ok(Date.now() - started >= 3000, 'the build ran its silent step');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(
      lines.some((line) => line.includes('slept')),
      lines.join('\n'),
    );
  } finally {
    await dockerCli(['image', 'rm', '--force', tag]);
  }
});

test('with a 1 s timeout on the real engine, a log follow waits 3 s for its line, and events still arrive after 3 s of quiet', async (t) => {
  const busybox = await engineReady(t);
  if (!busybox) return;
  const docker = await connectDocker(undefined, { timeoutMs: SHORT_MS });
  const name = uniqueName('mlops-slow-logs');
  const container = await docker.createContainer({
    Image: busybox,
    name,
    Cmd: ['sh', '-c', 'sleep 3; echo late; sleep 1'],
  });
  const abort = new AbortController();
  try {
    await container.start();
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const text = await new Promise<string>((resolve, reject) => {
      let seen = '';
      stream.on('data', (chunk: Buffer) => (seen += chunk.toString('utf8')));
      stream.on('end', () => resolve(seen));
      stream.on('error', reject);
    });
    assert.match(text, /late/);

    // The event stream (the Deployments view's live updates come from it), of this test's containers only: quiet for 3 s, then an event.
    const label = `mlops.test=${name}`;
    const events = (await docker.getEvents({
      filters: JSON.stringify({ label: [label] }),
    })) as NodeJS.ReadableStream & { destroy(): void };
    abort.signal.addEventListener('abort', () => events.destroy(), { once: true });
    let seen = '';
    let closed = false;
    events.on('data', (chunk: Buffer) => (seen += chunk.toString('utf8')));
    events.on('close', () => (closed = true));
    events.on('error', () => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(closed, false, 'the event stream is open after 3 s of quiet');
    assert.equal(seen, '');
    const other = await docker.createContainer({
      Image: busybox,
      name: `${name}-event`,
      Labels: { 'mlops.test': name },
      Cmd: ['true'],
    });
    await other.remove({ force: true });
    for (let i = 0; i < 50 && !seen.includes('"create"'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(seen, /"Action":"create"/, 'the event stream outlived the timeout');
  } finally {
    abort.abort();
    await container.remove({ force: true }).catch(() => undefined);
  }
});
