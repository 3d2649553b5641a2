// The bad-input catalogue: hosts that nothing answers on (a closed port, a socket file that is not
// there). Each is named with what to do, at once, with exit code 1. Hosts that accept and then
// stay silent are in hosts.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closedPort, expectRefused } from '../../support/badInput';

let dir = '';
let port = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-hosts-'));
  port = await closedPort();
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Refused fast: a closed port answers at once, so no case may wait for a timeout. */
const FAST_MS = 20_000;

test('a Docker host on a closed port (tcp://127.0.0.1:PORT): named, with how to start Docker', async () => {
  await expectRefused({
    args: ['status', '--target', 'swarm', '--docker-host', `tcp://127.0.0.1:${port}`, '--name', 'model'],
    message: [
      new RegExp(`No Docker Engine answered at \\w+://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
      /Start Docker .*or point mlops\.dockerHost or DOCKER_HOST at a running engine/,
    ],
    timeoutMs: FAST_MS,
  });
});

test('a Docker host on a closed port, with --json: the error is JSON on stderr', async () => {
  const result = await expectRefused({
    args: ['history', '--target', 'swarm', '--docker-host', `tcp://127.0.0.1:${port}`, '--name', 'model', '--json'],
    message: new RegExp(
      `^\\{"error":"No Docker Engine answered at \\w+://127\\.0\\.0\\.1:${port}: [^"]*","remedy":"Start Docker[^"]*"\\}\\n$`,
    ),
    timeoutMs: FAST_MS,
  });
  assert.equal(result.stdout, '', 'a script reading stdout gets nothing to mistake for history');
});

test('DOCKER_HOST naming a socket file that does not exist: the socket is named', async () => {
  const socket = join(dir, 'docker.sock');
  await expectRefused({
    args: ['status', '--target', 'swarm', '--name', 'model'],
    env: { DOCKER_HOST: `unix://${socket}` },
    message: new RegExp(`No Docker Engine answered at ${socket}: connect ENOENT`),
    unchanged: [socket],
    timeoutMs: FAST_MS,
  });
});

test('a Kubernetes API server on a closed port: the context and the server are named', async () => {
  const kubeconfig = join(dir, 'closed.yaml');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:${port}
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: not-a-real-token
contexts:
- name: closed
  context:
    cluster: c
    user: u
current-context: closed
`,
  );
  await expectRefused({
    args: ['status', '--target', 'kubernetes', '--kubeconfig', kubeconfig, '--name', 'model'],
    message: [
      new RegExp(
        `The Kubernetes API server of context "closed" \\(https://127\\.0\\.0\\.1:${port}\\) cannot be reached \\(ECONNREFUSED: nothing listens there\\)`,
      ),
      /Check that the cluster is running/,
    ],
    unchanged: [kubeconfig],
    timeoutMs: FAST_MS,
  });
});

test('a tracking server on a closed port: named, with what to check', async () => {
  await expectRefused({
    args: ['experiments', '--tracking-uri', `http://127.0.0.1:${port}`],
    message: [
      new RegExp(`The tracking server at http://127\\.0\\.0\\.1:${port} cannot be reached`),
      /Check that the server runs, or change mlops\.trackingUri/,
    ],
    timeoutMs: FAST_MS,
  });
});
