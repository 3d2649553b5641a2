// The data token of a deployment on a real single-node swarm: a Swarm secret made at the first
// deploy and mounted into the model and router-api services, read back for `mlops token`; from the
// host (outside every container) the request log and feedback refuse a request without it, and
// take it as X-Mlops-Token or a bearer token; feedback for an id never answered is refused; the
// model tasks refuse a neighbour container without it; redeploys and rollbacks keep it, removal
// deletes it; and a model server run without a token answers its log on loopback only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { DOCKER_SOCKET, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { dataTokenSecretName, hasDataToken } from '../../src/deploy/targets/swarm/dataTokenSecret';
import { openSwarmTarget, type SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { pullRequestLog } from '../../src/monitor/observe';
import { REQUESTS_TABLE } from '../../src/monitor/requestsTable';
import { deploymentSource } from '../../src/monitor/sources';
import { runCli } from '../support/badInput';
import { swarmWithModelImages } from '../support/modelImages';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
const ROW = JSON.stringify({ dataframe_records: [{ tenure_months: 3, monthly_charges: 90, support_calls: 4 }] });
let unavailable = '';
let target: SwarmTarget;
let v1 = '';
let v2 = '';
const names: string[] = [];
const containers: Dockerode.Container[] = [];
const folder = mkdtempSync(join(tmpdir(), 'mlops-data-token-'));

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: Record<string, unknown>;
}

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // request log lines or a plain answer
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs python3 in a container and returns what it printed (stdout and stderr) and its exit code. */
async function execPython(container: Dockerode.Container, script: string): Promise<{ code: number; output: string }> {
  const exec = await container.exec({ Cmd: ['python3', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  let output = '';
  out.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  container.modem.demuxStream(stream, out, out);
  await new Promise((resolve) => stream.on('end', resolve));
  return { code: (await exec.inspect()).ExitCode ?? -1, output };
}

/** A GET from inside a container: the status and the error code of the answer. */
const GET_STATUS = (url: string, headers: Record<string, string> = {}) => `
import json, urllib.request, urllib.error
try:
    answer = urllib.request.urlopen(urllib.request.Request(${JSON.stringify(url)}, headers=${JSON.stringify(headers)}), timeout=5)
    print(answer.status, "-")
except urllib.error.HTTPError as error:
    print(error.code, json.loads(error.read()).get("error_code"))
`;

async function runningContainer(service: string): Promise<Dockerode.Container> {
  const tasks = (await docker.listTasks({
    filters: JSON.stringify({ service: [service], 'desired-state': ['running'] }),
  })) as { Status?: { ContainerStatus?: { ContainerID?: string } } }[];
  const id = tasks.map((task) => task.Status?.ContainerStatus?.ContainerID).find(Boolean);
  assert.ok(id, `${service} has a running container`);
  return docker.getContainer(id);
}

async function secretIds(name: string): Promise<string[]> {
  const secrets = await docker.listSecrets({ filters: JSON.stringify({ name: [dataTokenSecretName(name)] }) });
  return secrets.filter((secret) => secret.Spec?.Name === dataTokenSecretName(name)).map((secret) => secret.ID);
}

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

before(async () => {
  const built = await swarmWithModelImages();
  if (!built.ok) return void (unavailable = built.reason);
  ({ v1, v2 } = built);
  target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
});

after(async () => {
  for (const container of containers) await container.remove({ force: true }).catch(() => undefined);
  if (!unavailable) for (const name of names) await target.remove(name).catch(() => undefined);
  rmSync(folder, { recursive: true, force: true });
});

describe('the data token of a deployment on a single-node swarm', { timeout: 900_000 }, () => {
  test('made at deploy, read back, asked for by the log and feedback from outside, kept by redeploys and rollbacks, deleted with the deployment', async (t) => {
    if (!ready(t)) return;
    const name = `token-${Date.now().toString(36)}`;
    names.push(name);
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host', replicas: 2 });

    const [secret] = await secretIds(name);
    assert.ok(secret, 'a Swarm secret holds the token');
    for (const service of [name, `${name}-router-api`])
      assert.ok(hasDataToken((await docker.getService(service).inspect()).Spec), `${service} mounts it`);
    const token = await target.dataToken(name);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const printed = await runCli(['token', '--target', 'swarm', '--name', name]);
    assert.deepEqual([printed.code, printed.stdout], [0, `${token}\n`], printed.stderr);
    const json = await runCli(['token', '--target', 'swarm', '--name', name, '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { name, token, header: 'X-Mlops-Token' });

    // Prediction stays open; the ids the proxy gives carry the token's signature.
    const predicted = await call(port, 'POST', '/invocations', {}, ROW);
    assert.equal(predicted.status, 200, predicted.text);
    const issued = predicted.headers['x-request-id']!;
    assert.match(issued, /^[0-9a-f-]{36}\.[0-9a-f]{16}$/);
    const own = await call(port, 'POST', '/invocations', { 'X-Request-Id': `order-${name}` }, ROW);
    assert.equal(own.status, 200);
    for (const path of ['/ping', '/health', '/version', '/metrics', '/router/health', '/router/backends/metrics'])
      assert.equal((await call(port, 'GET', path)).status, 200, path);

    // From the host, without the token or with a wrong one: 401, and nothing is recorded.
    const feedback = (headers: Record<string, string>, requestId = issued) =>
      call(port, 'POST', '/feedback', headers, JSON.stringify({ request_id: requestId, label: 1 }));
    for (const headers of [
      {},
      { 'X-Mlops-Token': 'not-the-token-0123456789' },
      { Authorization: `Basic ${token}` },
    ] as Record<string, string>[]) {
      for (const answer of [
        await call(port, 'GET', '/router/backends/requests', headers),
        await call(port, 'GET', '/requests', headers),
        await feedback(headers),
      ]) {
        assert.equal(answer.status, 401, answer.text);
        assert.equal(answer.json.error_code, 'UNAUTHORIZED');
        assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer realm="mlops"/);
      }
    }
    // With it, as X-Mlops-Token or as a bearer token.
    const log = await call(port, 'GET', '/router/backends/requests', { 'X-Mlops-Token': token });
    assert.equal(log.status, 200);
    assert.equal(log.headers['x-mlops-unreachable'], undefined, 'the router reads both tasks with its token');
    assert.ok(log.text.includes(issued), 'the request is in the log');
    assert.equal(
      (await call(port, 'GET', '/router/backends/requests', { Authorization: `Bearer ${token}` })).status,
      200,
    );
    assert.equal((await feedback({ 'X-Mlops-Token': token })).status, 202);
    assert.equal(
      (await feedback({ Authorization: `Bearer ${token}` }, `order-${name}`)).status,
      202,
      "a client's own id is found on the task that logged it",
    );
    const unknown = await feedback({ 'X-Mlops-Token': token }, 'never-answered');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error_code, 'UNKNOWN_REQUEST_ID');
    assert.match(String(unknown.json.message), /no request with id "never-answered" was answered here/);
    const forged = `${issued.split('.')[0]}.0123456789abcdef`;
    assert.equal(
      (await feedback({ 'X-Mlops-Token': token }, forged)).json.error_code,
      'UNKNOWN_REQUEST_ID',
      'an id made to look issued',
    );

    // A neighbour container on the overlay network reaches the model tasks directly: they ask for the token too.
    const router = await runningContainer(`${name}-router-api`);
    assert.equal(
      (await execPython(router, GET_STATUS(`http://tasks.${name}:8080/requests`))).output.trim(),
      '401 UNAUTHORIZED',
    );
    assert.equal(
      (
        await execPython(router, GET_STATUS(`http://tasks.${name}:8080/requests`, { 'X-Mlops-Token': token }))
      ).output.trim(),
      '200 -',
    );

    // The monitor reads the log with the token and brings every request and outcome into the lake.
    const lake = openLake(join(folder, 'lake'));
    try {
      await pullRequestLog(lake, await deploymentSource(target, name), { targetId: 'swarm:test', name });
      const rows = await lake.query(`SELECT count(*) FROM ${REQUESTS_TABLE} WHERE deployment = '${name}'`);
      assert.equal(Number(rows.rows[0]![0]), 2);
    } finally {
      await lake.close();
    }

    // A new revision and a rollback keep the secret and the token.
    await target.deploy({ name, image: v2, publishedPort: port, publishMode: 'host', replicas: 2 });
    await target.rollback(name);
    assert.deepEqual(await secretIds(name), [secret]);
    assert.equal(
      await (await openSwarmTarget({ proxyImage: PROXY_IMAGE })).dataToken(name),
      token,
      'read again from a task of the new revision',
    );
    assert.equal((await call(port, 'GET', '/router/backends/requests', { 'X-Mlops-Token': token })).status, 200);

    await target.remove(name);
    assert.deepEqual(await secretIds(name), [], 'removing the deployment deletes its secret');
    const gone = await runCli(['token', '--target', 'swarm', '--name', name]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`No deployment named ${name} on `));
  });

  test('a model server run without a token answers its log on loopback only', async (t) => {
    if (!ready(t)) return;
    const port = await freePort();
    const container = await docker.createContainer({
      Image: v1,
      Labels: { 'mlops.test': 'data-token' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
    });
    containers.push(container);
    await container.start();
    for (let attempt = 0; (await call(port, 'GET', '/ping').catch(() => ({ status: 0 }))).status !== 200; attempt++) {
      assert.ok(attempt < 120, 'the model server answers /ping');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const outside = await call(port, 'GET', '/requests', { 'X-Mlops-Token': 'anything-0123456789abcdef' });
    assert.equal(outside.status, 403);
    assert.equal(outside.json.error_code, 'FORBIDDEN');
    assert.match(
      String(outside.json.message),
      /answers on loopback only, as this server has no data token: set MLOPS_DATA_TOKEN_FILE/,
    );
    assert.equal((await call(port, 'POST', '/feedback', {}, '{"request_id": "x", "label": 1}')).status, 403);
    assert.equal((await call(port, 'POST', '/invocations', {}, ROW)).status, 200, 'prediction stays open');
    assert.equal(
      (await execPython(container, GET_STATUS('http://127.0.0.1:8080/requests'))).output.trim(),
      '200 -',
      'inside the container, on loopback',
    );
  });
});
