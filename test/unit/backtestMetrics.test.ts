import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../src/shared/cliFramework';
import { backtestCommand } from '../../src/release/backtest/cli';
import {
  classSetting,
  compareVersions,
  detectTask,
  gateMetric,
  gateVerdict,
  versionResult,
  type ClassSetting,
} from '../../src/release/backtest/evaluate';
import {
  aucOf,
  classificationMetrics,
  classKey,
  confusionMatrix,
  quantile,
  regressionMetrics,
  sortClasses,
} from '../../src/release/backtest/metrics';
import type { BacktestTask, GateMetric, VersionResult } from '../../src/release/backtest/model';
import type { ReplayResult } from '../../src/release/backtest/replay';

const close = (actual: number | null, expected: number, message?: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${message ?? ''} ${actual} != ${expected}`);

test('binary metrics are those of the positive class', () => {
  const m = classificationMetrics({
    labels: ['0', '0', '1', '1', '1'],
    predictions: ['0', '1', '1', '1', '0'],
    positive: '1',
  });
  close(m.accuracy, 3 / 5);
  close(m.precision, 2 / 3);
  close(m.recall, 2 / 3);
  close(m.f1, 2 / 3);
  assert.equal(m.rocAuc, null);
  // The other class as the positive one gives other numbers.
  close(
    classificationMetrics({ labels: ['0', '0', '1', '1', '1'], predictions: ['0', '1', '1', '1', '0'], positive: '0' })
      .precision,
    1 / 2,
  );
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
  const m = classificationMetrics({
    labels: ['a', 'b', 'c', 'a'],
    predictions: ['a', 'b', 'c', 'b'],
    scores,
    classes: ['a', 'b', 'c'],
  });
  // one-vs-rest: a 1.0 (0.8, 0.3 over 0.2, 0.1), b 1.0 (0.7 over the rest), c 1.0
  close(m.rocAuc, 1);
  const binary = classificationMetrics({
    labels: ['0', '1', '1'],
    predictions: ['0', '1', '0'],
    positive: '1',
    scores: [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
    ],
    classes: ['0', '1'],
  });
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
  assert.deepEqual(confusionMatrix(['0', '0', '1'], ['0', '1', '1'], ['0', '1']), [
    [1, 1],
    [0, 1],
  ]);
});

test('quantiles interpolate linearly as numpy does', () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5);
  close(quantile([10, 0, 5], 0.95), 9.5);
  assert.equal(quantile([], 0.5), null);
});

test('the task: the model says so, otherwise continuous numbers are a regression', () => {
  assert.equal(detectTask([0, 1, 1], null), 'classification');
  assert.equal(detectTask([0.5, 1, 1], null), 'regression');
  assert.equal(
    detectTask(
      Array.from({ length: 30 }, (_, i) => i),
      null,
    ),
    'regression',
  );
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

test("the positive class is one of the labels' classes: the model's last class when the labels hold it, or the second sorted", () => {
  assert.deepEqual(classSetting([0, 1], [replayOf([1, 1])], null), {
    classes: ['0', '1'],
    labelClasses: ['0', '1'],
    positive: '1',
  });
  assert.deepEqual(classSetting(['yes', 'no'], [replayOf(['no', 'no'])], ['yes', 'no']), {
    classes: ['no', 'yes'],
    labelClasses: ['no', 'yes'],
    positive: 'no',
  });
  assert.equal(classSetting(['a', 'b', 'c'], [replayOf(['a', 'a', 'a'])], null).positive, null);
  // The case of issue 15: labels all 1, a model answering 2. The positive class is 1, never 2.
  const collapsed = classSetting([1, 1, 1], [replayOf([2, 2, 2]), replayOf([1, 1, 1])], null);
  assert.deepEqual(collapsed, { classes: ['1', '2'], labelClasses: ['1'], positive: '1' });
  // The model's classes [1, 2] declare 2 as positive, but no label holds it.
  assert.equal(classSetting([1, 1], [replayOf([2, 2])], ['1', '2']).positive, '1');
  assert.equal(classSetting([0, 1, 2], [replayOf([0, 1, 2])], null, '2').positive, '2');
  assert.throws(
    () => classSetting([0, 1], [replayOf([0, 1])], null, '2'),
    /The positive class '2' is not a class of the labels, which hold 0 and 1/,
  );
});

test('disagreements: regression by the largest difference, classification by the largest score difference', () => {
  const rows = [[1], [2], [3], [4]];
  const regression = compareVersions(
    'regression',
    ['x'],
    rows,
    [0, 0, 0, 0],
    replayOf([1, 2, 3, null]),
    replayOf([1, 5, 2.5, 4]),
    10,
  );
  assert.equal(regression.compared, 3);
  assert.equal(regression.disagreements, 2);
  assert.deepEqual(
    regression.top.map((r) => [r.row, r.difference, r.inputs]),
    [
      [1, 3, { x: 2 }],
      [2, 0.5, { x: 3 }],
    ],
  );
  const candidate = replayOf(
    [0, 1, 1, 0],
    [
      [0.9, 0.1],
      [0.4, 0.6],
      [0.1, 0.9],
      [0.6, 0.4],
    ],
  );
  const baseline = replayOf(
    [0, 0, 0, 0],
    [
      [0.8, 0.2],
      [0.55, 0.45],
      [0.7, 0.3],
      [0.7, 0.3],
    ],
  );
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
    ...(metrics.f1 !== undefined
      ? { classification: { accuracy: 0, precision: 0, recall: 0, f1: metrics.f1, rocAuc: null } }
      : {}),
    ...(metrics.rmse !== undefined ? { regression: { mae: 0, rmse: metrics.rmse, r2: 0 } } : {}),
  }) as VersionResult;

const gate = (
  task: BacktestTask,
  metric: GateMetric,
  candidate: VersionResult,
  baseline: VersionResult | null,
  maxRegression: number | null,
) => gateVerdict({ task, metric, maxRegression, candidate, baseline, classes: null, labelClasses: null });

test('the gate by a named metric: points lost where higher is better, the relative increase of an error, and failed requests', () => {
  assert.equal(gate('classification', 'f1', version({ f1: 0.8 }), version({ f1: 0.805 }), 0.01).passed, true);
  const worse = gate('classification', 'f1', version({ f1: 0.7 }), version({ f1: 0.8 }), 0.01);
  assert.equal(worse.passed, false);
  assert.equal(worse.metric, 'f1');
  assert.equal(worse.regressionKind, 'points');
  close(worse.regression, 0.1);
  assert.match(worse.reason, /F1 0\.7000 vs 0\.8000 \(-0\.1000\): worse than the allowed regression of 0\.01/);
  const rmse = gate('regression', 'rmse', version({ rmse: 10.05 }), version({ rmse: 10 }), 0.01);
  assert.equal(rmse.passed, true);
  assert.equal(rmse.regressionKind, 'relative');
  // Lower RMSE is better: a candidate with a smaller error has a negative regression.
  const better = gate('regression', 'rmse', version({ rmse: 8 }), version({ rmse: 10 }), 0.01);
  assert.equal(better.passed, true);
  close(better.regression, -0.2);
  assert.match(better.reason, /RMSE 8\.00000 vs 10\.0000 \(-20\.00 %\)/);
  assert.equal(gate('regression', 'rmse', version({ rmse: 10.2 }), version({ rmse: 10 }), 0.01).passed, false);
  assert.equal(gate('classification', 'f1', version({ f1: 0.9 }, 1), version({ f1: 0.8 }), 0.01).passed, false);
  assert.equal(gate('classification', 'f1', version({ f1: 0.5 }), null, null).passed, true);
  // A metric a version lacks: the gate cannot compare, so it fails when asked to.
  const auc = gate('classification', 'roc_auc', version({ f1: 0.9 }), version({ f1: 0.8 }), 0.01);
  assert.equal(auc.passed, false);
  assert.match(
    auc.reason,
    /no ROC AUC for the candidate \(its server sends no class probabilities\), so the gate cannot compare/,
  );
});

test('the gate metric: accuracy for classes and RMSE for values by default; one of the other task is refused', () => {
  assert.equal(gateMetric('classification'), 'accuracy');
  assert.equal(gateMetric('regression'), 'rmse');
  assert.equal(gateMetric('regression', 'r2'), 'r2');
  assert.throws(
    () => gateMetric('classification', 'rmse'),
    /The gate metric rmse does not fit this back-test, which is a classification/,
  );
  assert.throws(
    () => gateMetric('regression', 'f1'),
    (error: Error & { remedy?: string }) => /rmse, mae, r2/.test(error.remedy ?? ''),
  );
});

/** A version's result computed from its predictions, as runBacktest does. */
function judged(
  labels: unknown[],
  candidate: unknown[],
  baseline: unknown[] | null,
  options: { metric?: GateMetric; maxRegression?: number | null } = {},
) {
  const replays = [replayOf(candidate), ...(baseline ? [replayOf(baseline)] : [])];
  const setting: ClassSetting = classSetting(labels, replays, null);
  const run = (role: 'candidate' | 'baseline', replay: ReplayResult) =>
    versionResult({ role, image: role, version: null, healthyAfterMs: 0, replay }, labels, 'classification', setting);
  const results = {
    candidate: run('candidate', replays[0]),
    baseline: replays[1] ? run('baseline', replays[1]) : null,
  };
  return {
    setting,
    ...results,
    gate: gateVerdict({
      task: 'classification',
      metric: options.metric ?? gateMetric('classification'),
      maxRegression: options.maxRegression === undefined ? 0.01 : options.maxRegression,
      ...results,
      classes: setting.classes,
      labelClasses: setting.labelClasses,
    }),
  };
}

/** Labels of two classes, 0 and 1, a third of them 1, in a fixed order. */
const binaryLabels = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 1 : 0));
/** A good model: right on 9 rows of 10. */
const goodModel = binaryLabels.map((y, i) => (i % 10 === 7 ? 1 - y : y));

test('the gate of issue 15: labels all 1, the baseline answering 1, the candidate answering 2 fails, naming class 2', () => {
  const labels = Array.from({ length: 50 }, () => 1);
  const result = judged(
    labels,
    labels.map(() => 2),
    labels,
    { maxRegression: 0.01 },
  );
  assert.equal(result.setting.positive, '1');
  assert.equal(result.candidate.classification!.accuracy, 0);
  assert.equal(result.baseline!.classification!.accuracy, 1);
  // F1 of the positive class 1 no longer hides it either.
  assert.equal(result.candidate.classification!.f1, 0);
  assert.equal(result.baseline!.classification!.f1, 1);
  assert.equal(result.gate.passed, false);
  assert.equal(result.gate.metric, 'accuracy');
  assert.deepEqual(result.gate.unknownClasses, ['2']);
  assert.equal(
    result.gate.reason,
    'the candidate answers the class 2, which no label holds (the labels hold 1; if the data misses classes the model knows, replay more rows); accuracy 0.0000 vs 1.0000 (-1.0000)',
  );
  assert.equal(result.gate.regression, 1);
  // The same without --max-regression: a class no label holds fails the gate on its own.
  assert.equal(
    judged(
      labels,
      labels.map(() => 2),
      labels,
      { maxRegression: null },
    ).gate.passed,
    false,
  );
  // And without a baseline.
  assert.equal(
    judged(
      labels,
      labels.map(() => 2),
      null,
      { maxRegression: null },
    ).gate.passed,
    false,
  );
});

test('the gate fails a collapsed, an inverted and a random candidate, and passes an equal one', () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const collapsed = judged(
    binaryLabels,
    binaryLabels.map(() => 0),
    goodModel,
  );
  assert.equal(collapsed.gate.passed, false);
  assert.match(
    collapsed.gate.reason,
    /^the candidate answers 0 for every row, where the labels hold 0 and 1 and the baseline answers 2 classes: it has collapsed to one class; accuracy 0\.6667 vs 0\.9000 \(-0\.2333\)$/,
  );
  // Its accuracy (2/3) is worse than the baseline's (0.9), and the verdict says by how much.
  close(collapsed.gate.candidate, 2 / 3);
  close(collapsed.gate.regression, 0.9 - 2 / 3);

  const inverted = judged(
    binaryLabels,
    goodModel.map((p) => 1 - p),
    goodModel,
  );
  assert.equal(inverted.gate.passed, false);
  close(inverted.gate.candidate, 0.1);
  close(inverted.gate.baseline, 0.9);
  close(inverted.gate.regression, 0.8);
  assert.match(
    inverted.gate.reason,
    /^accuracy 0\.1000 vs 0\.9000 \(-0\.8000\): worse than the allowed regression of 0\.01$/,
  );

  const noise = judged(
    binaryLabels,
    binaryLabels.map(() => (random() < 0.5 ? 1 : 0)),
    goodModel,
  );
  assert.equal(noise.gate.passed, false);
  assert.ok(noise.gate.candidate! < 0.65, `random accuracy ${noise.gate.candidate}`);
  assert.match(noise.gate.reason, /worse than the allowed regression/);

  const equal = judged(binaryLabels, goodModel, goodModel);
  assert.equal(equal.gate.passed, true);
  assert.equal(equal.gate.regression, 0);
  assert.deepEqual(equal.gate.unknownClasses, []);
  assert.match(
    equal.gate.reason,
    /^accuracy 0\.9000 vs 0\.9000 \(\+0\.0000\): within the allowed regression of 0\.01$/,
  );
});

test('a collapse is judged against a baseline that answers several classes; F1 by choice of the positive class', () => {
  // A baseline that collapsed too: the metric decides (equal here).
  assert.equal(
    judged(
      binaryLabels,
      binaryLabels.map(() => 0),
      binaryLabels.map(() => 0),
    ).gate.passed,
    true,
  );
  // Gate by F1 of class 1: the collapsed candidate has none.
  const f1 = judged(
    binaryLabels,
    binaryLabels.map(() => 0),
    goodModel,
    { metric: 'f1', maxRegression: 0.5 },
  );
  assert.equal(f1.gate.metric, 'f1');
  assert.equal(f1.gate.candidate, 0);
  assert.equal(f1.gate.passed, false);
});

test('mlops backtest refuses a gate without a baseline, and missing flags, as usage errors', async () => {
  const program = { name: 'mlops', version: '0', commands: [backtestCommand] };
  let stderr = '';
  const io = { stdout: () => undefined, stderr: (text: string) => (stderr += text) };
  assert.equal(
    await runCli(
      program,
      ['backtest', '--candidate', 'a:1', '--data', 'd.csv', '--label', 'y', '--max-regression', '0.01'],
      io,
    ),
    2,
  );
  assert.match(stderr, /--max-regression compares with a baseline/);
  assert.equal(await runCli(program, ['backtest', '--candidate', 'a:1', '--label', 'y'], io), 2);
  assert.match(stderr, /--data is required/);
  assert.equal(
    await runCli(program, ['backtest', '--candidate', 'a:1', '--data', 'd.csv', '--label', 'y', '--limit', '0'], io),
    2,
  );
  assert.match(stderr, /--limit takes a whole number above 0/);
  assert.equal(
    await runCli(program, ['backtest', '--candidate', 'a:1', '--data', 'd.csv', '--label', 'y', '--metric', 'auc'], io),
    2,
  );
  assert.match(stderr, /--metric takes one of accuracy, f1, precision, recall, roc_auc, rmse, mae, r2, not 'auc'/);
});
