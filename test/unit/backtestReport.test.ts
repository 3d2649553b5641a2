import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as v from 'valibot';
import type { BacktestReport, VersionResult } from '../../src/release/backtest/model';
import { readReport, saveReport } from '../../src/release/backtest/reportFile';
import { BacktestRequest } from '../../src/release/backtest/contract';
import { formatDelta, formatTileValue, gateSummary, metricTiles } from '../../webview-ui/src/backtest/tiles';

function version(role: 'candidate' | 'baseline', f1: number, p95: number): VersionResult {
  return {
    role,
    image: `churn:${role}`,
    version: null,
    healthyAfterMs: 1000,
    rows: 100,
    predicted: 100,
    failedRequests: 0,
    errors: [],
    requests: 1,
    seconds: 1,
    rowsPerSecond: 100,
    requestsPerSecond: 1,
    latencyMs: { p50: p95 / 2, p95, mean: p95 / 2 },
    latencySeries: [p95],
    classification: { accuracy: 0.9, precision: 0.8, recall: 0.7, f1, rocAuc: null },
    confusion: [
      [50, 5],
      [5, 40],
    ],
    scores: false,
  };
}

function report(baseline: VersionResult | null): BacktestReport {
  return {
    kind: 'mlops.backtest',
    createdAt: '2026-12-07T03:00:00.000Z',
    data: { source: 'customers.csv', label: 'churned', rows: 100, skipped: 0, skippedReason: null, columns: ['a'] },
    task: 'classification',
    classes: ['0', '1'],
    positiveClass: '1',
    averaging: 'binary',
    batchSize: 100,
    parallelism: 4,
    candidate: version('candidate', 0.75, 20),
    baseline,
    comparison: null,
    gate: {
      metric: 'f1',
      regressionKind: 'points',
      maxRegression: 0.01,
      passed: true,
      reason: 'ok',
      candidate: 0.75,
      baseline: 0.7,
      regression: -0.05,
      unknownClasses: [],
    },
  };
}

test('tiles judge each change: a higher F1 is better, a higher latency worse, equal values neither', () => {
  const tiles = metricTiles(report(version('baseline', 0.7, 10)));
  const byLabel = new Map(tiles.map((t) => [t.label, t]));
  assert.equal(byLabel.get('F1')!.better, true);
  assert.equal(formatDelta(byLabel.get('F1')!), '+5.0 pts');
  assert.equal(byLabel.get('Latency p95')!.better, false);
  assert.equal(formatDelta(byLabel.get('Latency p95')!), '+10 ms');
  assert.equal(byLabel.get('Accuracy')!.better, null);
  assert.equal(byLabel.get('ROC AUC')!.candidate, null);
  assert.equal(formatTileValue(byLabel.get('ROC AUC')!.candidate, byLabel.get('ROC AUC')!), '–');
  assert.equal(formatTileValue(0.8, byLabel.get('Precision')!), '80.0 %');
  // Without a baseline nothing is judged.
  assert.ok(metricTiles(report(null)).every((t) => t.delta === null && t.better === null));
});

test('the gate in numbers: its metric marked on its tile, the values, the regression and the limit', () => {
  const shown = report(version('baseline', 0.7, 10));
  assert.deepEqual(
    metricTiles(shown)
      .filter((t) => t.gate)
      .map((t) => t.label),
    ['F1'],
  );
  assert.equal(
    gateSummary(shown.gate),
    'F1 (higher is better): candidate 75.0 %, baseline 70.0 %, regression -5.0 pts, at most 1.0 pts',
  );
  const accuracy = {
    ...shown.gate,
    metric: 'accuracy' as const,
    candidate: 0,
    baseline: 1,
    regression: 1,
    passed: false,
  };
  assert.equal(
    gateSummary(accuracy),
    'Accuracy (higher is better): candidate 0.0 %, baseline 100.0 %, regression 100.0 pts, at most 1.0 pts',
  );
  assert.equal(
    gateSummary({
      ...shown.gate,
      metric: 'rmse',
      regressionKind: 'relative',
      candidate: 12,
      baseline: 10,
      regression: 0.2,
      maxRegression: null,
    }),
    'RMSE (lower is better): candidate 12, baseline 10, regression 20 %, no limit set',
  );
  // A report from before the gate named its regression kind: RMSE was relative.
  const older = {
    metric: 'rmse' as const,
    maxRegression: 0.05,
    passed: true,
    reason: 'ok',
    candidate: 10,
    baseline: 10,
    regression: 0,
  };
  assert.equal(gateSummary(older), 'RMSE (lower is better): candidate 10, baseline 10, regression 0 %, at most 5 %');
});

test('the panel accepts its three messages and nothing else', () => {
  for (const message of [{ type: 'ready' }, { type: 'save' }, { type: 'showLog' }])
    assert.ok(v.safeParse(BacktestRequest, message).success);
  assert.equal(v.safeParse(BacktestRequest, { type: 'run' }).success, false);
});

test('a saved report reads back; a file that is not one is named in the error', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'mlops-backtest-report-'));
  const saved = report(version('baseline', 0.7, 10));
  const file = saveReport(workspace, saved);
  assert.match(file, /\.mlops\/backtests\/2026-12-07T03-00-00-000Z-churn_candidate\.json$/);
  assert.deepEqual(readReport(file), saved);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).kind, 'mlops.backtest');
  const other = join(workspace, 'other.json');
  writeFileSync(other, '{"kind": "something"}');
  assert.throws(
    () => readReport(other),
    (error: Error) => error.message.includes(other) && /not a back-test report/.test(error.message),
  );
  writeFileSync(other, '{');
  assert.throws(
    () => readReport(other),
    (error: Error) => error.message.includes(other),
  );
});
