// Bad input never hides the rest of a store: broken meta.yaml files, a garbage metric line, a
// corrupt or truncated mlflow.db, a database locked by a writer, an unreachable server and a 401.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mlflowPaths } from '../../scripts/lib/mlflow.mjs';
import { openStore } from '../../src/experiments/storeLocator';
import { MlopsError } from '../../src/shared/errors';
import { brokenStores, mlflowStores, mlflowUnavailableReason } from '../support/mlflow';
import { needService } from '../support/services';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;

test('an mlruns/ with missing and garbled meta.yaml still lists the healthy experiment', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  const experiments = await openStore(broken.mlrunsPath).listExperiments();
  const healthy = experiments.find((e) => e.id === broken.healthyExperimentId);
  assert.ok(healthy && !healthy.problem, 'the healthy experiment reads');
  const problems = experiments.filter((e) => e.problem).map((e) => e.problem!);
  assert.ok(
    problems.some((p) => p.includes(broken.missingMeta) && /missing/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes(broken.garbledMeta) && /not valid/.test(p)),
    problems.join('\n'),
  );
});

test('a garbage metric line is named with its file and line; the valid points still read', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  const store = openStore(broken.mlrunsPath);
  const { runs } = await store.searchRuns({ experimentIds: [broken.healthyExperimentId] });
  assert.equal(runs.length, 2, 'both runs are listed');
  const bad = runs.find((r) => r.runId === broken.garbageMetric.runId)!;
  assert.ok(bad.problem?.includes(broken.garbageMetric.path), bad.problem);
  assert.match(bad.problem!, new RegExp(`line ${broken.garbageMetric.lineNumber}:`));
  const history = await store.metricHistory(bad.runId, broken.garbageMetric.key, Number.MAX_SAFE_INTEGER);
  assert.equal(history.points.length, broken.garbageMetric.validPoints);
  assert.ok(history.problem?.includes(broken.garbageMetric.path), 'the history says which lines it skipped');
  assert.match(history.problem!, new RegExp(`line ${broken.garbageMetric.lineNumber}:`));
  assert.ok(!runs.find((r) => r.runId !== bad.runId)!.problem, 'the good run has no problem');
});

test('a corrupt or truncated mlflow.db is reported with its path, not thrown raw', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  for (const file of [broken.corruptDb, broken.truncatedDb]) {
    const store = openStore(file);
    await assert.rejects(store.listExperiments(), (error: unknown) => {
      assert.ok(error instanceof MlopsError, String(error));
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.message, /not a readable MLflow database/);
      return true;
    });
    await store.close();
  }
});

/** A copy of the fixture's mlflow.db, and a writer holding an exclusive lock on it for `seconds`, as MLflow does during a long log_batch. */
async function lockedCopy(seconds: number): Promise<string> {
  const { sqlitePath } = await mlflowStores();
  const copy = join(mkdtempSync(join(tmpdir(), 'mlops-locked-')), 'mlflow.db');
  copyFileSync(sqlitePath, copy);
  const writer = spawn(mlflowPaths().python, [
    '-c',
    `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE'); c.execute("UPDATE experiments SET name = name")
print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')`,
    copy,
    String(seconds),
  ]);
  await new Promise<void>((resolve, reject) => {
    writer.stdout.once('data', () => resolve());
    writer.once('exit', (code) => reject(new Error(`the writer exited with ${code}`)));
  });
  return copy;
}

test('a database locked by a writer is read once the writer lets go', async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { expectedSqlite } = await mlflowStores();
  const store = openStore(await lockedCopy(1.5));
  const started = Date.now();
  const experiments = await store.listExperiments();
  await store.close();
  assert.ok(Date.now() - started >= 500, 'it waited for the lock');
  assert.equal(experiments.length, expectedSqlite.experiments.length);
});

test(
  "a lock held at open, beyond SQLite's busy timeout, gets the retries later reads get",
  { timeout: 60_000 },
  async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { expectedSqlite } = await mlflowStores();
    // Longer than the 5 s busy timeout of one try: the open itself must retry, as reads do.
    const store = openStore(await lockedCopy(7));
    const started = Date.now();
    const experiments = await store.listExperiments();
    await store.close();
    assert.ok(Date.now() - started >= 6000, `it waited for the lock (${Date.now() - started} ms)`);
    assert.equal(experiments.length, expectedSqlite.experiments.length);
  },
);

test('an unreachable tracking server and a 401 get messages that say what to do', async () => {
  await assert.rejects(openStore('http://127.0.0.1:9').listExperiments(), /cannot be reached/);
  // A server that refuses every request, as a tracking server behind auth does without a token.
  const server = createServer((_request, response) => response.writeHead(401).end('{"error_code":"UNAUTHENTICATED"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    await assert.rejects(
      openStore(`http://127.0.0.1:${port}`, { rest: { token: 'wrong' } }).listExperiments(),
      (error: unknown) => {
        assert.ok(error instanceof MlopsError);
        assert.match(error.message, /HTTP 401/);
        assert.match(error.remedy ?? '', /MLFLOW_TRACKING_TOKEN/);
        return true;
      },
    );
  } finally {
    server.close();
  }
});
