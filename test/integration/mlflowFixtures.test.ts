// The MLflow fixtures themselves: made by the real MLflow, they must hold every case the reader
// tests rely on. If MLflow or the fixture scripts change, this fails first and says what is gone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  brokenStores,
  mlflowStores,
  mlflowUnavailableReason,
  runNamed,
  withMlflowServer,
  type ExpectedStore,
} from '../support/mlflow';
import { needService } from '../support/services';

const unavailable = mlflowUnavailableReason();
const why = `MLflow cannot be installed: ${unavailable}`;
const MAX_DOUBLE = 1.7976931348623157e308;

function checkCommonContent(expected: ExpectedStore, kind: string) {
  const experiments = Object.fromEntries(expected.experiments.map((e) => [e.name, e.lifecycleStage]));
  assert.deepEqual(
    experiments,
    { Default: 'active', 'iris-classifier': 'active', 'mnist-cnn': 'active', 'abandoned-experiment': 'deleted' },
    kind,
  );

  const names = expected.runs.map((r) => r.runName).sort();
  assert.deepEqual(names, [
    'cnn-diverged',
    'cnn-exploded',
    'cnn-live',
    'cnn-long',
    'logreg',
    'quick-check',
    'rf-baseline',
    'rf-shallow',
    'svm',
    'sweep',
    'sweep-trial-1',
    'sweep-trial-2',
  ]);

  const sweep = runNamed(expected, 'sweep');
  for (const child of ['sweep-trial-1', 'sweep-trial-2'])
    assert.equal(runNamed(expected, child).tags['mlflow.parentRunId'], sweep.runId, child);

  const deletedId = expected.runIdsByName['rf-deleted'];
  assert.ok(
    deletedId && !expected.runs.some((r) => r.runId === deletedId),
    'the deleted run is not in the active search',
  );
  const deletedSearch = expected.searches.find(
    (s) => s.lifecycle === 'deleted' && s.experimentIds.length === 1 && s.runIds.length > 0,
  );
  assert.deepEqual(deletedSearch?.runIds, [deletedId]);

  const live = runNamed(expected, 'cnn-live');
  assert.equal(live.status, 'RUNNING');
  assert.equal(live.endTime, null);
  assert.equal(runNamed(expected, 'logreg').status, 'FAILED');
  assert.equal(runNamed(expected, 'svm').status, 'KILLED');

  const baseline = runNamed(expected, 'rf-baseline');
  assert.ok(baseline.params.features.length > 4000, 'a long param');
  assert.equal(baseline.params.criterion, 'it\'s a "quoted" value  with  spaces ');
  assert.equal(baseline.metrics['train/loss'], 0.2);

  const diverged = runNamed(expected, 'cnn-diverged');
  assert.ok(Number.isNaN(diverged.metrics.loss), 'the latest loss is NaN');
  assert.equal(diverged.metrics.val_loss, 3);
  assert.ok(
    expected.histories[diverged.runId].val_loss.some((p) => Number.isNaN(p.value)),
    'NaN inside a history',
  );

  // Step 4999 is logged twice, first and with the earliest timestamps: latest is max by (step, timestamp).
  const long = runNamed(expected, 'cnn-long');
  const history = expected.histories[long.runId].loss;
  assert.equal(history.length, 5001);
  assert.equal(new Set(history.map((p) => p.step)).size, 5000);
  assert.equal(long.metrics.loss, 0.0222);
  const newest = history.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
  assert.notEqual(newest.value, long.metrics.loss, 'the newest point in time is not the latest value');
  assert.deepEqual(history.at(-1), { step: 4999, timestamp: 1_700_000_002_000, value: 0.0222 });
  assert.ok(expected.histories[long.runId]['train/loss'].length === 100);

  const filtered = expected.searches.filter((s) => s.filter && s.experimentIds.length === 1).flatMap((s) => s.runIds);
  assert.deepEqual(filtered.map((id) => expected.runs.find((r) => r.runId === id)?.runName).sort(), [
    'quick-check',
    'rf-baseline',
    'sweep-trial-1',
  ]);

  const byLoss = expected.searches.find(
    (s) => s.orderBy[0] === 'metrics.loss DESC' && s.experimentIds.length === 1 && s.runIds.includes(long.runId),
  );
  assert.deepEqual(
    byLoss?.runIds.map((id) => expected.runs.find((r) => r.runId === id)?.runName),
    ['cnn-exploded', 'cnn-live', 'cnn-long', 'cnn-diverged'],
    'MLflow sorts NaN after every number, in both directions',
  );

  assert.equal(expected.registeredModels.length, 1);
  const model = expected.registeredModels[0];
  assert.equal(model.name, 'iris-rf');
  assert.deepEqual(model.aliases, { baseline: '1', champion: '2' });
  assert.deepEqual(
    model.versions.map((v) => [v.version, v.runId, v.aliases]),
    [
      ['1', baseline.runId, ['baseline']],
      ['2', runNamed(expected, 'sweep-trial-1').runId, ['champion']],
    ],
  );
}

test('both fixture stores hold what the reader tests rely on', { timeout: 600_000 }, async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const stores = await mlflowStores();
  assert.ok(existsSync(stores.sqlitePath) && existsSync(stores.mlrunsPath));
  checkCommonContent(stores.expectedSqlite, 'sqlite');
  checkCommonContent(stores.expectedFile, 'file');
  assert.match(stores.expectedSqlite.mlflowVersion, /^\d+\.\d+\.\d+$/);

  // MLflow's SQL store keeps +-inf as +-max double; the file store writes `inf`.
  const sqlExploded = runNamed(stores.expectedSqlite, 'cnn-exploded').metrics;
  assert.deepEqual([sqlExploded.loss, sqlExploded.accuracy], [MAX_DOUBLE, -MAX_DOUBLE]);
  const fileExploded = runNamed(stores.expectedFile, 'cnn-exploded').metrics;
  assert.deepEqual([fileExploded.loss, fileExploded.accuracy], [Infinity, -Infinity]);
  assert.equal(runNamed(stores.expectedFile, 'cnn-diverged').metrics.grad_norm, Infinity);
});

test('the file store has the hand-written edge cases, as MLflow reads them', { timeout: 600_000 }, async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { expectedFile, expectedSqlite } = await mlflowStores();
  const baseline = runNamed(expectedFile, 'rf-baseline');
  // Lines without a step are step 0: the latest is the max timestamp, not the last line.
  assert.equal(baseline.metrics.legacy_score, 0.5);
  assert.deepEqual(
    expectedFile.histories[baseline.runId].legacy_score.map((p) => [p.step, p.value]),
    [
      [0, 0.7],
      [0, 0.6],
      [0, 0.5],
    ],
  );
  assert.equal(expectedFile.histories[baseline.runId].accuracy.length, 4);
  assert.equal(baseline.metrics.accuracy, 0.93, 'a newer step-0 line does not become the latest');
  assert.equal(runNamed(expectedSqlite, 'rf-baseline').metrics.legacy_score, undefined);
  // meta.yaml without run_name: the name comes from the mlflow.runName tag.
  assert.equal(runNamed(expectedFile, 'logreg').runName, 'logreg');
  // An 18-digit experiment id written as a YAML int (beyond 2**53) must stay exact.
  const svm = runNamed(expectedFile, 'svm');
  assert.equal(svm.experimentId, expectedFile.experiments.find((e) => e.name === 'iris-classifier')?.id);
  assert.ok(BigInt(svm.experimentId) > BigInt(Number.MAX_SAFE_INTEGER));
});

test('the broken stores are broken the documented way', { timeout: 600_000 }, async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const broken = await brokenStores();
  assert.ok(!existsSync(broken.missingMeta));
  assert.ok(existsSync(broken.garbledMeta));
  const lines = readFileSync(broken.garbageMetric.path, 'utf8').trimEnd().split('\n');
  assert.equal(lines[broken.garbageMetric.lineNumber - 1], broken.garbageMetric.line);
  assert.equal(lines.length, broken.garbageMetric.validPoints + 1);
  assert.ok(existsSync(broken.corruptDb) && existsSync(broken.truncatedDb));
  // MLflow itself fails on all of them: our readers must do better and show the rest.
  for (const key of [
    'search_experiments',
    'search_runs_healthy',
    'get_metric_history_garbage',
    'corrupt_db',
    'truncated_db',
  ]) {
    assert.ok(broken.mlflowSays[key]?.error, `MLflow fails on ${key}`);
  }
  assert.ok(broken.mlflowSays.get_run_good?.ok, 'the healthy run reads');
});

test('mlflow server serves the SQLite fixture on loopback', { timeout: 600_000 }, async (t) => {
  if (!needService(t, !unavailable, why)) return;
  const { sqliteUri, expectedSqlite } = await mlflowStores();
  await withMlflowServer(sqliteUri, async (url) => {
    const experiments = (await (
      await fetch(`${url}/api/2.0/mlflow/experiments/search?max_results=100&view_type=ALL`)
    ).json()) as {
      experiments: { experiment_id: string; name: string }[];
    };
    assert.deepEqual(
      experiments.experiments.map((e) => e.name).sort(),
      expectedSqlite.experiments.map((e) => e.name).sort(),
    );
    const iris = expectedSqlite.experiments.find((e) => e.name === 'iris-classifier')!;
    const response = await fetch(`${url}/api/2.0/mlflow/runs/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_ids: [iris.id], max_results: 1000 }),
    });
    const runs = (await response.json()) as { runs: { info: { run_id: string } }[] };
    assert.deepEqual(
      runs.runs.map((r) => r.info.run_id),
      expectedSqlite.runsByExperiment[iris.id].map((r) => r.runId),
    );
  });
});
