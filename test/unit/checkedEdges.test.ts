// Data from outside checked at the edge: a malformed answer or file gives a message naming its
// source (endpoint, file and line, config) and the field, and the good lines of a file are kept.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type Docker from 'dockerode';
import * as v from 'valibot';
import { readMlflowModel } from '../../src/containerize/mlflow/mlflowModel';
import { listRevisions } from '../../src/deploy/targets/swarm/revisionStore';
import { appendAudit, readAudit } from '../../src/monitor/audit';
import { appendCounts, readCounts } from '../../src/monitor/countsLog';
import { queryPrometheusRange } from '../../src/monitor/prometheusApi';
import { serverSource } from '../../src/monitor/sources';
import { replay } from '../../src/release/backtest/replay';
import { readReport } from '../../src/release/backtest/reportFile';
import { appendDecision, readDecisions } from '../../src/release/review/decisions';
import { checkedJson, readJsonLines } from '../../src/shared/checked';
import { describeError, MlopsError } from '../../src/shared/errors';

let reply: { status: number; body: string } = { status: 200, body: '{}' };
let server: Server;
let base = '';

before(async () => {
  server = createServer((_request, response) => {
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const folder = () => mkdtempSync(join(tmpdir(), 'mlops-checked-'));

/** The problems reported while reading, as messages. */
function collect(): { problems: string[]; onBadLine: (problem: MlopsError) => void } {
  const problems: string[] = [];
  return { problems, onBadLine: (problem) => problems.push(problem.message) };
}

test('checkedJson names the source and each field; text that is not JSON is not quoted', () => {
  const schema = v.object({ name: v.string(), rows: v.number() });
  assert.deepEqual(checkedJson(schema, '{"name":"a","rows":2}', 'the answer of X', 'a thing'), { name: 'a', rows: 2 });
  assert.throws(
    () => checkedJson(schema, '{"name":3}', 'the answer of X', 'a thing'),
    (error: Error) =>
      error instanceof MlopsError &&
      /^the answer of X is not a thing: name: Invalid type: Expected string but received 3; rows: /.test(error.message),
  );
  assert.throws(
    () => checkedJson(schema, '{"password":"hunter2"', 'the answer of X', 'a thing'),
    (error: Error) => error.message === 'the answer of X is not JSON.',
  );
});

test('a JSON-lines file: each bad line is reported with its file, line and field; the others are kept', () => {
  const file = join(folder(), 'x.jsonl');
  writeFileSync(file, '{"n":1}\n{"n":"two"}\n\n{"n":3\n{"n":4}\n');
  const { problems, onBadLine } = collect();
  assert.deepEqual(
    readJsonLines(file, v.object({ n: v.number() }), 'a record', { onBadLine }).map((r) => r.n),
    [1, 4],
  );
  assert.deepEqual(problems, [
    `Line 2 of ${file} is not a record: n: Invalid type: Expected number but received "two".`,
    `Line 4 of ${file} is not JSON.`,
  ]);
  assert.deepEqual(readJsonLines(join(folder(), 'missing.jsonl'), v.object({}), 'a record'), []);
});

test('the audit log: a line of an unknown kind is named by file, line and field, the others read', () => {
  const dir = folder();
  const entry = { at: '2026-12-07T10:00:00Z', target: 't', deployment: 'd', message: 'm', by: 'auto' } as const;
  appendAudit(dir, { ...entry, kind: 'alert' });
  appendFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify({ ...entry, kind: 'party' })}\n`);
  appendAudit(dir, { ...entry, kind: 'revert', fromRevision: 3, toRevision: 2 });
  const { problems, onBadLine } = collect();
  assert.deepEqual(
    readAudit(dir, 200, { onBadLine }).map((e) => e.kind),
    ['revert', 'alert'],
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, new RegExp(`^Line 2 of ${join(dir, 'audit.jsonl')} is not an audit entry: kind: `));
});

test('review decisions: a bad verdict is named by file, line and field; a line cut short is skipped', () => {
  const dir = folder();
  const decision = {
    requestId: 'r1',
    verdict: 'candidate',
    reviewer: 'ana',
    ts: '2026-12-07T10:00:00Z',
    candidateVersion: '2',
    productionVersion: '1',
  } as const;
  appendDecision({ dir, targetId: 't', deployment: 'd' }, decision);
  const file = join(dir, 'reviews.jsonl');
  appendFileSync(file, `${JSON.stringify({ ...decision, requestId: 'r2', verdict: 'maybe' })}\n{"requestId":"r3`);
  const { problems, onBadLine } = collect();
  assert.deepEqual(readDecisions(dir, { onBadLine }), [decision]);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, new RegExp(`^Line 2 of ${file} is not a review decision: verdict: `));
  assert.equal(problems[1], `Line 3 of ${file} is not JSON.`);
});

test('recorded counts: a bad line is named with its field; the +Inf bound reads back as Infinity', () => {
  const dir = folder();
  const at = Date.parse('2026-12-07T10:00:00Z');
  const histogram = { bounds: [0.1, Infinity], cumulative: [1, 2], sum: 0.3 };
  const instance = {
    instance: 'a',
    version: '1',
    requests: 2,
    errors: 0,
    latency: histogram,
    classes: {},
    values: null,
  };
  appendCounts(dir, { at, instances: [instance], unreachable: [] });
  const file = join(dir, 'counts-2026-12-07.jsonl');
  appendFileSync(
    file,
    `${JSON.stringify({ at: at + 1, instances: [{ ...instance, requests: 'many' }], unreachable: [] })}\n`,
  );
  const { problems, onBadLine } = collect();
  const records = readCounts(dir, at - 1, at + 10, { onBadLine });
  assert.deepEqual(records, [{ at, instances: [instance], unreachable: [] }]);
  assert.equal(records[0]!.instances[0]!.latency!.bounds[1], Infinity);
  assert.match(problems[0]!, new RegExp(`^Line 2 of ${file} is not a counts record: instances\\.0\\.requests: `));
});

test('a saved back-test report with a malformed field names the file and the field', () => {
  const file = join(folder(), 'report.json');
  writeFileSync(file, JSON.stringify({ kind: 'mlops.backtest', createdAt: 'now', data: { rows: 'x' } }));
  assert.throws(
    () => readReport(file),
    (error: Error) =>
      error instanceof MlopsError &&
      error.message.startsWith(`${file} is not a back-test report (kind "mlops.backtest"): data.source: `) &&
      /data\.rows: Invalid type: Expected number but received "x"/.test(error.message) &&
      /mlops backtest --out/.test(error.remedy ?? ''),
  );
});

test('a model server answering without predictions during a back-test: the failure names the endpoint and field', async () => {
  const selection = { columns: null, indices: [0] };
  const run = async (status: number, body: unknown) => {
    reply = { status, body: JSON.stringify(body) };
    return replay(base, selection, [[1], [2]], { batchSize: 2, parallelism: 1 });
  };
  let result = await run(200, { predictions: 'none' });
  assert.equal(result.failedRequests, 1);
  assert.match(
    result.errors[0]!,
    new RegExp(`^rows 1-2: the answer of ${base}/invocations is not a prediction answer: predictions: Invalid type`),
  );
  result = await run(200, { predictions: [1] });
  assert.equal(result.errors[0], `rows 1-2: the answer of ${base}/invocations has 1 predictions for 2 rows`);
  result = await run(500, { message: 'model failed' });
  assert.equal(result.errors[0], 'rows 1-2: HTTP 500 model failed');
  result = await run(200, { predictions: [0, 1], scores: [[0.9, 0.1], 'x'], classes: [0, 1] });
  assert.deepEqual(
    [result.predictions, result.scores, result.classes],
    [
      [0, 1],
      [[0.9, 0.1], null],
      ['0', '1'],
    ],
  );
});

test('a Prometheus range answer with a malformed series names the endpoint and the field', async () => {
  reply = {
    status: 200,
    body: JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: {}, values: ['now'] }] },
    }),
  };
  await assert.rejects(queryPrometheusRange({ url: base }, 'up', { start: 0, end: 1000, step: 1 }), (error: Error) =>
    describeError(error).startsWith(
      `Prometheus at ${base}/api/v1/query_range answered data that is not a query result: result.0.values.0: Expected a [time, value] pair`,
    ),
  );
});

test("a model server's error answer gives its message; one that is not JSON its text", async () => {
  const source = serverSource(base);
  reply = { status: 500, body: JSON.stringify({ message: 'metrics are off' }) };
  const scrape = await source.scrape();
  assert.match(scrape.unreachable[0]!.error, /answered HTTP 500: metrics are off$/);
  reply = { status: 500, body: 'plain trouble' };
  assert.match((await source.scrape()).unreachable[0]!.error, /answered HTTP 500: plain trouble$/);
});

test('a Swarm revision config that is not a revision record is skipped and named with its field', async () => {
  const record = {
    revision: 1,
    image: 'churn:1',
    imageRef: 'churn:1',
    digest: null,
    createdAt: '2026-12-07T10:00:00Z',
    changeCause: '',
    deployedBy: 'ana',
    gitCommit: null,
    mlflowRunId: null,
    modelImage: true,
    spec: { name: 'churn', image: 'churn:1', replicas: 2 },
  };
  const config = (name: string, value: unknown) => ({
    ID: name,
    Spec: { Name: name, Labels: {}, Data: Buffer.from(JSON.stringify(value)).toString('base64') },
  });
  const docker = {
    listConfigs: async () => [
      config('mlops-churn-rev-2', { ...record, revision: 2, spec: { ...record.spec, replicas: 'two' } }),
      config('mlops-churn-rev-1', record),
    ],
  } as unknown as Docker;
  const problems: string[] = [];
  assert.deepEqual(await listRevisions(docker, 'churn', (problem) => problems.push(problem.message)), [record]);
  assert.deepEqual(problems, [
    'The Swarm config mlops-churn-rev-2 is not a revision record: spec.replicas: Invalid type: Expected number but received "two".',
  ]);
});

test("an MLflow model's malformed signature names the MLmodel file and the field", async () => {
  const dir = folder();
  const mlmodel = (inputs: string) =>
    `run_id: abc\nflavors:\n  sklearn:\n    pickled_model: model.pkl\nsignature:\n  inputs: '${inputs}'\n`;
  writeFileSync(join(dir, 'MLmodel'), mlmodel('[{"name": "age", "type": "long"}, {"type": "double"}]'));
  assert.equal((await readMlflowModel(dir, dir)).features, null);
  writeFileSync(join(dir, 'MLmodel'), mlmodel('[{"name": "age", "type": "long"}]'));
  assert.deepEqual((await readMlflowModel(dir, dir)).features, [{ name: 'age', dtype: 'long' }]);
  writeFileSync(join(dir, 'MLmodel'), mlmodel('[{"name": 3}]'));
  await assert.rejects(
    readMlflowModel(dir, dir),
    (error: Error) =>
      error instanceof MlopsError &&
      error.message.startsWith(`signature.inputs of ${join(dir, 'MLmodel')} is not a list of columns: 0.name: `),
  );
});
