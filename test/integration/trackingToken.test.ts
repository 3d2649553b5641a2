// A tracking token goes to the server it was set for and to no other: two recording proxies in
// front of one real `mlflow server` stand for two hosts, and each sees only its own token, from
// the extension's resolution (SecretStorage per origin) and from the command line's
// (MLFLOW_TRACKING_TOKEN for MLFLOW_TRACKING_URI's server).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mlflowPaths, startMlflowServer } from '../../scripts/lib/mlflow.mjs';
import { resolveModelDir } from '../../src/containerize/mlflow/mlflowModel';
import { openStore } from '../../src/experiments/storeLocator';
import { trackingCredentials } from '../../src/experiments/trackingAuth';
import { setHostSecret } from '../../src/shared/hostSecrets';
import { runCli } from '../support/badInput';
import { mlflowUnavailableReason } from '../support/mlflow';
import { needService } from '../support/services';
import { MemorySecrets } from '../support/memorySecrets';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;

interface Recorder {
  url: string;
  /** The Authorization header of each request, '' when there was none. */
  authorizations: string[];
  server: Server;
}

/** A listener that records each request's Authorization header and passes the request on to `target`. */
async function recordingProxy(target: string): Promise<Recorder> {
  const authorizations: string[] = [];
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    authorizations.push(incoming.headers.authorization ?? '');
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorizations, server };
}

let mlflow: Awaited<ReturnType<typeof startMlflowServer>> | undefined;
let hostA: Recorder;
let hostB: Recorder;
const folder = mkdtempSync(join(tmpdir(), 'mlops-token-hosts-'));

before(async () => {
  if (unavailable) return;
  mlflow = await startMlflowServer({ backendStoreUri: `sqlite:///${join(folder, 'mlflow.db')}` });
  hostA = await recordingProxy(mlflow.url);
  hostB = await recordingProxy(mlflow.url);
});

after(async () => {
  hostA?.server.close();
  hostB?.server.close();
  await mlflow?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** Reads the experiments as the Experiments view does: credentials for the URI, then the store. */
async function experimentsAt(url: string, sources: Parameters<typeof trackingCredentials>[1]): Promise<string[]> {
  const store = openStore(url, { rest: await trackingCredentials(url, sources) });
  try {
    return (await store.listExperiments()).map((e) => e.name);
  } finally {
    await store.close();
  }
}

test('a token kept for one server reaches that server and never another', { timeout: 240_000 }, async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const secrets = new MemorySecrets();
  await setHostSecret(secrets, 'trackingToken', hostA.url, 'token-for-a');

  assert.deepEqual(
    await experimentsAt(hostA.url, { env: {}, secrets }),
    ['Default'],
    'the real server answers through A',
  );
  assert.ok(
    hostA.authorizations.length > 0 && hostA.authorizations.every((header) => header === 'Bearer token-for-a'),
    hostA.authorizations.join(', '),
  );

  // The workspace now points the URI at B: B answers (through to the same MLflow) but gets no token.
  assert.deepEqual(await experimentsAt(hostB.url, { env: {}, secrets }), ['Default']);
  assert.ok(hostB.authorizations.length > 0, 'B was asked');
  assert.deepEqual([...new Set(hostB.authorizations)], [''], 'B never receives an Authorization header');

  // B's own token goes to B, and A's still does not.
  await setHostSecret(secrets, 'trackingToken', `${hostB.url}/some/path`, 'token-for-b');
  hostB.authorizations.length = 0;
  await experimentsAt(hostB.url, { env: {}, secrets });
  assert.deepEqual([...new Set(hostB.authorizations)], ['Bearer token-for-b']);
});

test(
  "the command line sends MLFLOW_TRACKING_TOKEN to MLFLOW_TRACKING_URI's server only",
  { timeout: 240_000 },
  async (t) => {
    if (!needService(t, !unavailable, why)) return;
    hostA.authorizations.length = 0;
    hostB.authorizations.length = 0;
    const env = { MLFLOW_TRACKING_URI: hostA.url, MLFLOW_TRACKING_TOKEN: 'env-token-for-a' };
    const toA = await runCli(['experiments', '--json'], { env });
    assert.equal(toA.code, 0, toA.stderr);
    assert.deepEqual([...new Set(hostA.authorizations)], ['Bearer env-token-for-a']);

    const toB = await runCli(['experiments', '--json', '--tracking-uri', hostB.url], { env });
    assert.equal(toB.code, 0, toB.stderr);
    assert.deepEqual(
      (JSON.parse(toB.stdout) as { name: string }[]).map((e) => e.name),
      ['Default'],
    );
    assert.ok(hostB.authorizations.length > 0, 'B was asked');
    assert.deepEqual([...new Set(hostB.authorizations)], [''], 'B never receives the token');
  },
);

test(
  "MLflow's own client (Containerise a model) sends a server only its own token",
  { timeout: 240_000 },
  async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const saved = { ...process.env };
    Object.assign(process.env, { MLFLOW_TRACKING_URI: hostA.url, MLFLOW_TRACKING_TOKEN: 'env-token-for-a' });
    try {
      hostB.authorizations.length = 0;
      await assert.rejects(
        resolveModelDir('runs:/0123456789abcdef0123456789abcdef/model', mlflowPaths().python, { uri: hostB.url }),
        /MLflow could not resolve runs:\/0123456789abcdef0123456789abcdef\/model/,
      );
      assert.ok(hostB.authorizations.length > 0, 'B was asked');
      assert.deepEqual([...new Set(hostB.authorizations)], [''], "B never receives A's token");

      hostB.authorizations.length = 0;
      await assert.rejects(
        resolveModelDir('runs:/0123456789abcdef0123456789abcdef/model', mlflowPaths().python, {
          uri: hostB.url,
          credentials: { token: 'token-for-b' },
        }),
      );
      assert.deepEqual([...new Set(hostB.authorizations)], ['Bearer token-for-b']);
    } finally {
      for (const name of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_TOKEN']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  },
);
