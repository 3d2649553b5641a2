import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program';
import { backtestCommand } from '../../src/release/backtest/backtestCommand';
import { classSetting, compareVersions, detectTask, gateVerdict } from '../../src/release/backtest/evaluate';
import { aucOf, classificationMetrics, classKey, confusionMatrix, quantile, regressionMetrics, sortClasses } from '../../src/release/backtest/metrics';
import type { VersionResult } from '../../src/release/backtest/model';
import type { ReplayResult } from '../../src/release/backtest/replay';

const close = (actual: number | null, expected: number, message?: string) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${message ?? ''} ${actual} != ${expected}`);

test('binary metrics are those of the positive class', () => {
  const m = classificationMetrics({ labels: ['0', '0', '1', '1', '1'], predictions: ['0', '1', '1', '1', '0'], positive: '1' });
  close(m.accuracy, 3 / 5);
  close(m.precision, 2 / 3);
  close(m.recall, 2 / 3);
  close(m.f1, 2 / 3);
  assert.equal(m.rocAuc, null);
  // The other class as the positive one gives other numbers.
  close(classificationMetrics({ labels: ['0', '0', '1', '1', '1'], predictions: ['0', '1', '1', '1', '0'], positive: '0' }).precision, 1 / 2);
});

test('multiclass metrics are macro averages over every class seen, a class never predicted counting 0', () => {
  const m = classificationMetrics({ labels: ['a', 'b', 'c', 'c'], predictions: ['a', 'c', 'c', 'c'] });
  // a: P 1 R 1 F 1; b: P 0 R 0 F 0; c: P 2/3 R 1 F 0.8
  close(m.precision, (1 + 0 + 2 / 3) / 3);
  close(m.recall, (1 + 0 + 1) / 3);
  close(m.f1, (1 + 0 + 0.8) / 3);
  close(m.accuracy, 3 / 4);
});

test('ROC AUC counts ties as half and is null with one class', () => {
  close(aucOf([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 0.75);
  close(aucOf([false, true, false, true], [0.5, 0.5, 0.5, 0.5]), 0.5);
  close(aucOf([false, true, true], [0.2, 0.2, 0.9]), 0.75);
  assert.equal(aucOf([true, true], [0.1, 0.2]), null);
  const scores = [
    [0.8, 0.1, 0.1],
    [0.2, 0.7, 0.1],
    [0.1, 0.2, 0.7],
    [0.3, 0.4, 0.3],
  ];
  const m = classificationMetrics({ labels: ['a', 'b', 'c', 'a'], predictions: ['a', 'b', 'c', 'b'], scores, classes: ['a', 'b', 'c'] });
  // one-vs-rest: a 1.0 (0.8, 0.3 over 0.2, 0.1), b 1.0 (0.7 over the rest), c 1.0
  close(m.rocAuc, 1);
  const binary = classificationMetrics({ labels: ['0', '1', '1'], predictions: ['0', '1', '0'], positive: '1', scores: [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], classes: ['0', '1'] });
  close(binary.rocAuc, 1);
});

test('regression metrics, with R² of constant labels as sklearn forces it', () => {
  const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
  close(m.mae, 0.5);
  close(m.rmse, Math.sqrt(0.375));
  close(m.r2, 0.9486081370449679);
  assert.equal(regressionMetrics([1, 1], [1, 1]).r2, 1);
  assert.equal(regressionMetrics([1, 1], [1, 2]).r2, 0);
});

test('classes sort as numbers when they all are, and 1 and 1.0 are one class', () => {
  assert.deepEqual(sortClasses(['10', '9', '1']), ['1', '9', '10']);
  assert.deepEqual(sortClasses(['b', 'a', '10']), ['10', 'a', 'b']);
  assert.equal(classKey(1), classKey(1.0));
  assert.equal(classKey('yes'), 'yes');
  assert.deepEqual(confusionMatrix(['0', '0', '1'], ['0', '1', '1'], ['0', '1']), [[1, 1], [0, 1]]);
});

test('quantiles interpolate linearly as numpy does', () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5);
  close(quantile([10, 0, 5], 0.95), 9.5);
  assert.equal(quantile([], 0.5), null);
});

test('the task: the model says so, otherwise continuous numbers are a regression', () => {
  assert.equal(detectTask([0, 1, 1], null), 'classification');
  assert.equal(detectTask([0.5, 1, 1], null), 'regression');
  assert.equal(detectTask(Array.from({ length: 30 }, (_, i) => i), null), 'regression');
  assert.equal(detectTask(['yes', 'no'], null), 'classification');
  assert.equal(detectTask([0.5, 1.5], 'classification'), 'classification');
});

const replayOf = (predictions: unknown[], scores: number[][] | null = null): ReplayResult => ({
  predictions,
  scores,
  classes: scores ? ['0', '1'] : null,
  latencies: [1],
  failedRequests: 0,
  errors: [],
  seconds: 1,
});

test('the positive class is the model\'s last class, or the second sorted', () => {
  assert.deepEqual(classSetting([0, 1], [replayOf([1, 1])], null), { classes: ['0', '1'], positive: '1' });
  assert.deepEqual(classSetting(['yes', 'no'], [replayOf(['no', 'no'])], ['yes', 'no']), { classes: ['no', 'yes'], positive: 'no' });
  assert.equal(classSetting(['a', 'b', 'c'], [replayOf(['a', 'a', 'a'])], null).positive, null);
});

test('disagreements: regression by the largest difference, classification by the largest score difference', () => {
  const rows = [[1], [2], [3], [4]];
  const regression = compareVersions('regression', ['x'], rows, [0, 0, 0, 0], replayOf([1, 2, 3, null]), replayOf([1, 5, 2.5, 4]), 10);
  assert.equal(regression.compared, 3);
  assert.equal(regression.disagreements, 2);
  assert.deepEqual(regression.top.map((r) => [r.row, r.difference, r.inputs]), [[1, 3, { x: 2 }], [2, 0.5, { x: 3 }]]);
  const candidate = replayOf([0, 1, 1, 0], [[0.9, 0.1], [0.4, 0.6], [0.1, 0.9], [0.6, 0.4]]);
  const baseline = replayOf([0, 0, 0, 0], [[0.8, 0.2], [0.55, 0.45], [0.7, 0.3], [0.7, 0.3]]);
  const classification = compareVersions('classification', ['x'], rows, [0, 1, 1, 0], candidate, baseline, 1);
  assert.equal(classification.disagreements, 2);
  close(classification.rate, 0.5);
  assert.equal(classification.top.length, 1);
  assert.equal(classification.top[0].row, 2);
  close(classification.top[0].difference, 0.6);
});

const version = (metrics: { f1?: number; rmse?: number }, failedRequests = 0): VersionResult =>
  ({
    failedRequests,
    requests: 4,
    errors: failedRequests ? ['rows 1-100: HTTP 500'] : [],
    ...(metrics.f1 !== undefined ? { classification: { accuracy: 0, precision: 0, recall: 0, f1: metrics.f1, rocAuc: null } } : {}),
    ...(metrics.rmse !== undefined ? { regression: { mae: 0, rmse: metrics.rmse, r2: 0 } } : {}),
  }) as VersionResult;

test('the gate: F1 points lost, the relative RMSE increase, and failed requests', () => {
  assert.equal(gateVerdict('classification', version({ f1: 0.8 }), version({ f1: 0.805 }), 0.01).passed, true);
  const worse = gateVerdict('classification', version({ f1: 0.7 }), version({ f1: 0.8 }), 0.01);
  assert.equal(worse.passed, false);
  close(worse.regression, 0.1);
  assert.match(worse.reason, /F1 0\.7000 vs 0\.8000/);
  assert.equal(gateVerdict('regression', version({ rmse: 10.05 }), version({ rmse: 10 }), 0.01).passed, true);
  assert.equal(gateVerdict('regression', version({ rmse: 10.2 }), version({ rmse: 10 }), 0.01).passed, false);
  assert.equal(gateVerdict('classification', version({ f1: 0.9 }, 1), version({ f1: 0.8 }), 0.01).passed, false);
  assert.equal(gateVerdict('classification', version({ f1: 0.5 }), null, null).passed, true);
});

test('mlops backtest refuses a gate without a baseline, and missing flags, as usage errors', async () => {
  const program = { name: 'mlops', version: '0', commands: [backtestCommand] };
  let stderr = '';
  const io = { stdout: () => undefined, stderr: (text: string) => (stderr += text) };
  assert.equal(await runCli(program, ['backtest', '--candidate', 'a:1', '--data', 'd.csv', '--label', 'y', '--max-regression', '0.01'], io), 2);
  assert.match(stderr, /--max-regression compares with a baseline/);
  assert.equal(await runCli(program, ['backtest', '--candidate', 'a:1', '--label', 'y'], io), 2);
  assert.match(stderr, /--data is required/);
  assert.equal(await runCli(program, ['backtest', '--candidate', 'a:1', '--data', 'd.csv', '--label', 'y', '--limit', '0'], io), 2);
  assert.match(stderr, /--limit takes a whole number above 0/);
});
