// The bad-input catalogue of the experiments commands (`mlops experiments`, `runs`,
// `metric-history`), on stores made by real MLflow and then damaged: each answer names the file,
// line, run or rule at fault, exits 1, prints what could be read, shows no credential, and
// changes no store file.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { expectRefused } from '../../support/badInput';
import { brokenStores, mlflowStores, mlflowUnavailableReason, runNamed } from '../../support/mlflow';
import { needService } from '../../support/services';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;
const PASSWORD = 'S3cret-Pw-4711';

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const scratch = mkdtempSync(join(tmpdir(), 'mlops-bad-experiments-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the fixture's mlruns/ made by MLflow, and the folder of its run `rf-baseline`. */
async function mlrunsCopy(
  name: string,
): Promise<{ mlruns: string; runId: string; experimentId: string; runFolder: string }> {
  const { mlrunsPath, expectedFile } = await mlflowStores();
  const mlruns = join(scratch, name, 'mlruns');
  cpSync(mlrunsPath, mlruns, { recursive: true });
  const run = runNamed(expectedFile, 'rf-baseline');
  return {
    mlruns,
    runId: run.runId,
    experimentId: run.experimentId,
    runFolder: join(mlruns, run.experimentId, run.runId),
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that answers 401 to everything and remembers the Authorization headers it got. */
async function refusingServer(): Promise<{ url: string; headers: IncomingHttpHeaders[]; close: () => void }> {
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    headers.push(request.headers);
    response.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":"UNAUTHENTICATED"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers, close: () => server.close() };
}

test('a garbled run meta.yaml (mlruns/EXP/RUN/meta.yaml)', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { mlruns, runId, experimentId, runFolder } = await mlrunsCopy('garbled-run-meta');
  const meta = join(runFolder, 'meta.yaml');
  writeFileSync(meta, 'run_id: [unclosed\nstatus: : :\n');
  const result = await expectRefused({
    args: ['runs', '--experiment', experimentId, '--tracking-uri', mlruns],
    message: [
      /1 run of experiment .* could not be read fully/,
      new RegExp(`${runId}: ${literal(meta)} is not valid: line 1:`),
    ],
    unchanged: [mlruns],
  });
  assert.match(
    result.stdout,
    new RegExp(`^${runId}\\trf-baseline\\tUNKNOWN\\t`, 'm'),
    'the run is listed, its status unknown, not FINISHED',
  );
  assert.ok(result.stdout.split('\n').filter(Boolean).length > 1, 'the other runs are listed too');
});

test('a missing run meta.yaml (mlruns/EXP/RUN/ without meta.yaml)', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { mlruns, runId, experimentId, runFolder } = await mlrunsCopy('missing-run-meta');
  unlinkSync(join(runFolder, 'meta.yaml'));
  const result = await expectRefused({
    args: ['runs', '--experiment', experimentId, '--tracking-uri', mlruns, '--json'],
    message: [/"error":"1 run of experiment/, new RegExp(`meta\\.yaml is missing`)],
    unchanged: [mlruns],
  });
  const problems = (JSON.parse(result.stderr) as { problems: { id: string; problem: string }[] }).problems;
  assert.deepEqual(
    problems.map((p) => p.id),
    [runId],
  );
  const runs = JSON.parse(result.stdout) as { runId: string; status: string; problem?: string }[];
  assert.equal(runs.find((r) => r.runId === runId)?.status, 'UNKNOWN');
  assert.match(runs.find((r) => r.runId === runId)?.problem ?? '', /meta\.yaml is missing/);
});

test('garbage lines in a metric file (mlruns/EXP/RUN/metrics/loss), listed with runs', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  const { path, lineNumber, runId } = broken.garbageMetric;
  await expectRefused({
    args: ['runs', '--experiment', 'healthy', '--tracking-uri', broken.mlrunsPath],
    message: [
      new RegExp(
        `${runId}: ${literal(path)} has lines that are not '<timestamp_ms> <value> \\[<step>\\]', skipped: line ${lineNumber}: expected 2 or 3 fields, found 5 \\('this is not a metric'\\)`,
      ),
    ],
    unchanged: [broken.mlrunsPath],
  });
});

test('garbage lines in a metric file (mlruns/EXP/RUN/metrics/loss), read as a history', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  const { path, lineNumber, runId, key, validPoints } = broken.garbageMetric;
  const result = await expectRefused({
    args: ['metric-history', '--run', runId, '--key', key, '--tracking-uri', broken.mlrunsPath],
    message: [
      /The history of 'loss' could not be read fully/,
      new RegExp(`${literal(path)} has lines .* line ${lineNumber}:`),
    ],
    unchanged: [broken.mlrunsPath],
  });
  assert.equal(result.stdout.trim().split('\n').length, validPoints, 'the valid points are printed');
});

test('metric-history of a run that is not in mlflow.db', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { sqlitePath } = await mlflowStores();
  const missing = '0123456789abcdef0123456789abcdef';
  const result = await expectRefused({
    args: ['metric-history', '--run', missing, '--key', 'accuracy', '--tracking-uri', `sqlite:///${sqlitePath}`],
    message: [new RegExp(`Run ${missing} is not in ${literal(sqlitePath)}\\.`), /mlops runs --experiment ID/],
    unchanged: [sqlitePath],
  });
  assert.equal(result.stdout, '');
});

test('metric-history of a key the run never logged (mlflow.db)', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { sqlitePath, expectedSqlite } = await mlflowStores();
  const run = runNamed(expectedSqlite, 'rf-baseline');
  await expectRefused({
    args: [
      'metric-history',
      '--run',
      run.runId,
      '--key',
      'no-such-metric',
      '--tracking-uri',
      `sqlite:///${sqlitePath}`,
    ],
    message: [
      new RegExp(`Run ${run.runId} has no metric 'no-such-metric'`),
      new RegExp(`It logged .*${Object.keys(run.metrics).sort()[0]}`),
    ],
    unchanged: [sqlitePath],
  });
});

test("an order with an unknown direction (--order-by 'metrics.acc sideways')", async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { sqlitePath, expectedSqlite } = await mlflowStores();
  const experimentId = runNamed(expectedSqlite, 'rf-baseline').experimentId;
  await expectRefused({
    args: [
      'runs',
      '--experiment',
      experimentId,
      '--order-by',
      'metrics.acc sideways',
      '--tracking-uri',
      `sqlite:///${sqlitePath}`,
    ],
    message: [/'sideways' is not a direction in the order 'metrics\.acc sideways'/, /Use ASC or DESC/],
    unchanged: [sqlitePath],
  });
});

test('an order with an unknown direction for a tracking server (refused before any request)', async () => {
  const server = await refusingServer();
  try {
    await expectRefused({
      args: ['runs', '--experiment', '0', '--order-by', 'metrics.acc upward', '--tracking-uri', server.url],
      message: /'upward' is not a direction/,
    });
    assert.equal(server.headers.length, 0, 'nothing was sent');
  } finally {
    server.close();
  }
});

test('a password in --tracking-uri (http://user:password@host) of a server that is not there', async () => {
  const port = await closedPort();
  const result = await expectRefused({
    args: ['experiments', '--tracking-uri', `http://ana:${PASSWORD}@127.0.0.1:${port}`],
    message: [new RegExp(`The tracking server at http://127\\.0\\.0\\.1:${port} cannot be reached: .*ECONNREFUSED`)],
  });
  assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD), result.stderr);
});

test('a password in --tracking-uri (http://user:password@host) of a server that refuses it', async () => {
  const server = await refusingServer();
  try {
    const host = server.url.replace('http://', '');
    for (const json of [false, true]) {
      const result = await expectRefused({
        args: [
          'runs',
          '--experiment',
          '0',
          '--tracking-uri',
          `http://ana:${PASSWORD}@${host}`,
          ...(json ? ['--json'] : []),
        ],
        message: [/refused the request \(HTTP 401\)/, new RegExp(`http://${literal(host)}`)],
      });
      assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD), result.stderr);
    }
    // The credentials went to the URL's own server, as basic auth.
    assert.equal(server.headers[0]?.authorization, `Basic ${Buffer.from(`ana:${PASSWORD}`).toString('base64')}`);
  } finally {
    server.close();
  }
});

test('a password in MLFLOW_TRACKING_URI (http://user:password@host)', async () => {
  const empty = mkdtempSync(join(scratch, 'empty-'));
  const port = await closedPort();
  const result = await expectRefused({
    args: ['experiments'],
    cwd: empty,
    env: { MLFLOW_TRACKING_URI: `http://ana:${PASSWORD}@127.0.0.1:${port}/` },
    message: new RegExp(`The tracking server at http://127\\.0\\.0\\.1:${port} cannot be reached`),
    unchanged: [empty],
  });
  assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD), result.stderr);
});
