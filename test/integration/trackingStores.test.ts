// The three backends (mlflow.db, mlruns/, a tracking server) against what MLflow's own client
// answers on the same real stores: experiments, search_runs (default order, filters, order_by,
// deleted runs), get_metric_history, and the model registry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import type { Run, TrackingStore } from '../../src/experiments/model';
import { openStore } from '../../src/experiments/storeLocator';
import { mlflowStores, mlflowUnavailableReason, withMlflowServer, type ExpectedStore } from '../support/mlflow';
import { needService } from '../support/services';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;

const comparable = (run: Run) => ({
  runId: run.runId,
  runName: run.runName,
  experimentId: run.experimentId,
  status: run.status,
  startTime: run.startTime,
  endTime: run.endTime,
  lifecycleStage: run.lifecycleStage,
  params: run.params,
  metrics: run.metrics,
  tags: run.tags,
});

async function agreesWithMlflow(store: TrackingStore, expected: ExpectedStore): Promise<void> {
  const experiments = await store.listExperiments();
  assert.deepEqual(
    experiments
      .map((e) => ({ id: e.id, name: e.name, lifecycleStage: e.lifecycleStage }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    expected.experiments
      .map((e) => ({ id: e.id, name: e.name, lifecycleStage: e.lifecycleStage }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  );
  for (const [experimentId, runs] of Object.entries(expected.runsByExperiment)) {
    const { runs: ours } = await store.searchRuns({ experimentIds: [experimentId] });
    assert.deepEqual(ours.map(comparable), runs.map(comparable), `runs of experiment ${experimentId}`);
  }
  for (const search of expected.searches) {
    const { runs } = await store.searchRuns(search);
    assert.deepEqual(
      runs.map((r) => r.runId),
      search.runIds,
      `search ${JSON.stringify({ filter: search.filter, orderBy: search.orderBy, lifecycle: search.lifecycle })}`,
    );
  }
  for (const [runId, keys] of Object.entries(expected.histories)) {
    for (const [key, points] of Object.entries(keys)) {
      const history = await store.metricHistory(runId, key, Number.MAX_SAFE_INTEGER);
      assert.equal(history.totalPoints, points.length, `${runId} ${key}`);
      assert.deepEqual(history.points, points, `history of ${key} in ${runId}`);
    }
  }
  const models = await store.listRegisteredModels();
  assert.deepEqual(
    models.map((m) => ({
      name: m.name,
      aliases: m.aliases,
      versions: m.versions.map((v) => ({ version: v.version, runId: v.runId, aliases: v.aliases })),
    })),
    expected.registeredModels.map((m) => ({
      name: m.name,
      aliases: m.aliases,
      versions: m.versions.map((v) => ({ version: v.version, runId: v.runId, aliases: v.aliases })),
    })),
  );
}

async function downsamplesLongHistories(store: TrackingStore, expected: ExpectedStore): Promise<void> {
  const [runId, key, points] = Object.entries(expected.histories)
    .flatMap(([id, keys]) => Object.entries(keys).map(([k, p]) => [id, k, p] as const))
    .sort((a, b) => b[2].length - a[2].length)[0];
  const history = await store.metricHistory(runId, key, 100);
  assert.equal(history.totalPoints, points.length);
  assert.ok(history.points.length <= 100 && history.points.length > 90, `${history.points.length} points`);
  assert.deepEqual(history.points[0], points[0]);
  assert.deepEqual(history.points.at(-1), points.at(-1));
}

describe('mlflow.db (SQLite)', () => {
  test('agrees with MlflowClient on experiments, runs, searches, histories and models', async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { sqlitePath, expectedSqlite } = await mlflowStores();
    const store = openStore(sqlitePath);
    try {
      await agreesWithMlflow(store, expectedSqlite);
      await downsamplesLongHistories(store, expectedSqlite);
    } finally {
      await store.close();
    }
  });

  test('mlops runs --json prints what search_runs gives', async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { sqliteUri, expectedSqlite } = await mlflowStores();
    const [experimentId, runs] = Object.entries(expectedSqlite.runsByExperiment).sort(
      (a, b) => b[1].length - a[1].length,
    )[0];
    const result = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist', 'cli.js'), 'runs', '--experiment', experimentId, '--tracking-uri', sqliteUri, '--json'],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as (Run & { metrics: Record<string, number | string> })[];
    assert.deepEqual(
      printed.map((r) => r.runId),
      runs.map((r) => r.runId),
    );
    const decode = (v: number | string) => (typeof v === 'number' ? v : Number(v));
    for (const [i, run] of printed.entries()) {
      assert.deepEqual(
        Object.fromEntries(Object.entries(run.metrics).map(([k, v]) => [k, decode(v)])),
        runs[i].metrics,
        run.runName,
      );
      assert.equal(run.status, runs[i].status);
    }
  });

  test('mlops experiments and metric-history print what MLflow has', async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { sqliteUri, expectedSqlite } = await mlflowStores();
    const cli = (...args: string[]) => {
      const result = spawnSync(
        process.execPath,
        [join(repoRoot, 'dist', 'cli.js'), ...args, '--tracking-uri', sqliteUri, '--json'],
        { encoding: 'utf8' },
      );
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout);
    };
    const experiments = cli('experiments') as { id: string; name: string; lifecycleStage: string; runCount: number }[];
    for (const [experimentId, runs] of Object.entries(expectedSqlite.runsByExperiment)) {
      assert.equal(
        experiments.find((e) => e.id === experimentId)?.runCount,
        runs.length,
        `active runs of ${experimentId}`,
      );
    }
    const [runId, key, points] = Object.entries(expectedSqlite.histories)
      .flatMap(([id, keys]) => Object.entries(keys).map(([k, p]) => [id, k, p] as const))
      .sort((a, b) => b[2].length - a[2].length)[0];
    const history = cli('metric-history', '--run', runId, '--key', key, '--max-points', '300');
    assert.equal(history.totalPoints, points.length);
    assert.ok(history.points.length <= 300);
    assert.deepEqual(history.points[0], points[0]);
  });
});

describe('mlruns/ (file store)', () => {
  test('agrees with MlflowClient on experiments, runs, searches, histories and models', async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { mlrunsPath, expectedFile } = await mlflowStores();
    const store = openStore(mlrunsPath);
    await agreesWithMlflow(store, expectedFile);
    await downsamplesLongHistories(store, expectedFile);
  });
});

describe('a tracking server (REST)', () => {
  test('agrees with MlflowClient through a real mlflow server', { timeout: 180_000 }, async (t) => {
    if (!needService(t, !unavailable, why)) return;
    const { sqliteUri, expectedSqlite } = await mlflowStores();
    await withMlflowServer(sqliteUri, async (url) => {
      const store = openStore(url);
      await agreesWithMlflow(store, expectedSqlite);
      await downsamplesLongHistories(store, expectedSqlite);
    });
  });
});
