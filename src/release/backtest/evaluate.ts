// From replayed predictions to the report's parts: the task, each version's metrics, the rows
// where the versions disagree, and the gate's verdict.
import { classificationMetrics, classKey, confusionMatrix, quantile, regressionMetrics, sortClasses } from './metrics';
import { MlopsError } from '../../shared/errors';
import {
  CLASSIFICATION_GATE_METRICS,
  REGRESSION_GATE_METRICS,
  type BacktestTask,
  type Comparison,
  type DisagreementRow,
  type GateMetric,
  type GateVerdict,
  type VersionResult,
} from './model';
import type { ReplayResult } from './replay';

/** Distinct numeric labels above this many, or any fraction, make a regression. */
const MAX_CLASS_COUNT = 20;

/** The model's own word when it gives one; otherwise classification unless the labels are numeric and continuous. */
export function detectTask(labels: unknown[], modelTask: string | null): BacktestTask {
  if (modelTask === 'classification' || modelTask === 'regression') return modelTask;
  const numbers = labels.every((l) => typeof l === 'number');
  const continuous = labels.some((l) => !Number.isInteger(l)) || new Set(labels).size > MAX_CLASS_COUNT;
  return numbers && continuous ? 'regression' : 'classification';
}

export interface ClassSetting {
  /** Every class seen: in the labels, the predictions and the model's own list. */
  classes: string[];
  /** The classes the labels hold. */
  labelClasses: string[];
  /** The class whose precision, recall and F1 are reported; null for macro averages over more than two classes. */
  positive: string | null;
}

/** The classes the labels hold, sorted. */
export function labelClassesOf(labels: unknown[]): string[] {
  return sortClasses(labels.map(classKey));
}

/** Refuses a positive class that no label holds: its precision, recall and F1 would be 0 for every model. */
export function checkPositiveClass(labelClasses: string[], positive: string): void {
  if (!labelClasses.includes(positive)) {
    throw new MlopsError(
      `The positive class '${positive}' is not a class of the labels, which hold ${listClasses(labelClasses)}.`,
      "Give --positive-class one of the labels' classes.",
    );
  }
}

/**
 * The classes and the positive class. The positive class is one of the labels' classes: the one
 * asked for; with two classes or one, the model's positive (its last) class when the labels hold
 * it, otherwise the second sorted (or the only) class; with more, none (macro averages). A class
 * only a model answers is never positive, so a wrong model cannot make every F1 zero.
 */
export function classSetting(
  labels: unknown[],
  replays: ReplayResult[],
  modelClasses: string[] | null,
  positiveClass?: string,
): ClassSetting {
  const labelClasses = labelClassesOf(labels);
  const predicted = replays.flatMap((r) => r.predictions.filter((p) => p !== null)).map(classKey);
  const classes = sortClasses([...labelClasses, ...predicted, ...(modelClasses ?? [])]);
  if (positiveClass !== undefined) {
    checkPositiveClass(labelClasses, positiveClass);
    return { classes, labelClasses, positive: positiveClass };
  }
  if (labelClasses.length > 2) return { classes, labelClasses, positive: null };
  const declared =
    replays.find((r) => r.classes?.length === 2)?.classes ?? (modelClasses?.length === 2 ? modelClasses : null);
  const modelPositive = declared?.[1];
  const positive =
    modelPositive !== undefined && labelClasses.includes(modelPositive)
      ? modelPositive
      : (labelClasses[1] ?? labelClasses[0] ?? null);
  return { classes, labelClasses, positive };
}

/** "0 and 1", "a, b and c". */
export function listClasses(classes: string[]): string {
  return classes.length < 2 ? (classes[0] ?? 'no class') : `${classes.slice(0, -1).join(', ')} and ${classes.at(-1)}`;
}

const SERIES_POINTS = 2000;

/** At most `points` values, evenly picked, the first and last kept. */
function evenly(values: number[], points: number): number[] {
  if (values.length <= points) return values;
  return Array.from({ length: points }, (_, i) => values[Math.round((i * (values.length - 1)) / (points - 1))]);
}

export interface VersionRun {
  role: 'candidate' | 'baseline';
  image: string;
  version: string | null;
  healthyAfterMs: number;
  replay: ReplayResult;
}

export function versionResult(
  run: VersionRun,
  labels: unknown[],
  task: BacktestTask,
  setting: ClassSetting | null,
): VersionResult {
  const { replay } = run;
  const kept = replay.predictions.flatMap((p, i) => (p === null ? [] : [i]));
  const mean = replay.latencies.length ? replay.latencies.reduce((a, b) => a + b, 0) / replay.latencies.length : null;
  const result: VersionResult = {
    role: run.role,
    image: run.image,
    version: run.version,
    healthyAfterMs: run.healthyAfterMs,
    rows: replay.predictions.length,
    predicted: kept.length,
    failedRequests: replay.failedRequests,
    errors: replay.errors,
    requests: replay.latencies.length,
    seconds: replay.seconds,
    rowsPerSecond: replay.seconds ? replay.predictions.length / replay.seconds : 0,
    requestsPerSecond: replay.seconds ? replay.latencies.length / replay.seconds : 0,
    latencyMs: { p50: quantile(replay.latencies, 0.5), p95: quantile(replay.latencies, 0.95), mean },
    latencySeries: evenly(replay.latencies, SERIES_POINTS),
    scores: replay.scores !== null,
  };
  if (task === 'classification' && setting) {
    const actual = kept.map((i) => classKey(labels[i]));
    const predicted = kept.map((i) => classKey(replay.predictions[i]));
    const scores =
      replay.scores && kept.every((i) => replay.scores![i]) ? kept.map((i) => replay.scores![i]!) : undefined;
    result.classification = classificationMetrics({
      labels: actual,
      predictions: predicted,
      ...(setting.positive !== null ? { positive: setting.positive } : {}),
      ...(scores && replay.classes ? { scores, classes: replay.classes } : {}),
    });
    result.confusion = confusionMatrix(actual, predicted, setting.classes);
  } else {
    const actual = kept.map((i) => Number(labels[i]));
    const predicted = kept.map((i) => Number(replay.predictions[i]));
    result.regression = regressionMetrics(actual, predicted);
    const residuals = actual.map((y, i) => y - predicted[i]);
    result.residuals = {
      mean: residuals.length ? residuals.reduce((a, b) => a + b, 0) / residuals.length : 0,
      p5: quantile(residuals, 0.05),
      p50: quantile(residuals, 0.5),
      p95: quantile(residuals, 0.95),
      maxAbs: residuals.reduce((m, r) => Math.max(m, Math.abs(r)), 0),
    };
  }
  return result;
}

/** The largest difference of one class's probability between the versions; null without both scores. */
function scoreDifference(candidate: ReplayResult, baseline: ReplayResult, row: number): number | null {
  const [a, b] = [candidate.scores?.[row], baseline.scores?.[row]];
  if (!a || !b || !candidate.classes || !baseline.classes) return null;
  return candidate.classes.reduce((max, cls, i) => {
    const j = baseline.classes!.indexOf(cls);
    return j < 0 ? max : Math.max(max, Math.abs(a[i] - b[j]));
  }, 0);
}

export function compareVersions(
  task: BacktestTask,
  columns: string[],
  rows: unknown[][],
  labels: unknown[],
  candidate: ReplayResult,
  baseline: ReplayResult,
  top: number,
): Comparison {
  const disagreeing: DisagreementRow[] = [];
  let compared = 0;
  for (let i = 0; i < rows.length; i++) {
    const [a, b] = [candidate.predictions[i], baseline.predictions[i]];
    if (a === null || b === null) continue;
    compared++;
    let difference: number | null;
    if (task === 'regression') {
      difference = Math.abs(Number(a) - Number(b));
      if (!(difference > 1e-9 * Math.max(1, Math.abs(Number(a)), Math.abs(Number(b))))) continue;
    } else {
      if (classKey(a) === classKey(b)) continue;
      difference = scoreDifference(candidate, baseline, i);
    }
    disagreeing.push({ row: i, inputs: {}, label: labels[i], candidate: a, baseline: b, difference });
  }
  const ordered = disagreeing
    .sort((x, y) => (y.difference ?? -1) - (x.difference ?? -1) || x.row - y.row)
    .slice(0, top);
  for (const row of ordered) row.inputs = Object.fromEntries(columns.map((c, j) => [c, rows[row.row][j]]));
  return {
    compared,
    disagreements: disagreeing.length,
    rate: compared ? disagreeing.length / compared : 0,
    top: ordered,
  };
}

interface MetricSpec {
  /** As the messages name it. */
  name: string;
  read(version: VersionResult): number | null | undefined;
  /** Points lost of a metric where higher is better; the relative increase of an error. */
  kind: 'points' | 'relative';
}

const GATE_METRICS: Record<GateMetric, MetricSpec> = {
  accuracy: { name: 'accuracy', read: (v) => v.classification?.accuracy, kind: 'points' },
  f1: { name: 'F1', read: (v) => v.classification?.f1, kind: 'points' },
  precision: { name: 'precision', read: (v) => v.classification?.precision, kind: 'points' },
  recall: { name: 'recall', read: (v) => v.classification?.recall, kind: 'points' },
  roc_auc: { name: 'ROC AUC', read: (v) => v.classification?.rocAuc, kind: 'points' },
  rmse: { name: 'RMSE', read: (v) => v.regression?.rmse, kind: 'relative' },
  mae: { name: 'MAE', read: (v) => v.regression?.mae, kind: 'relative' },
  r2: { name: 'R²', read: (v) => v.regression?.r2, kind: 'points' },
};

export const isGateMetric = (name: string): name is GateMetric => Object.hasOwn(GATE_METRICS, name);

/**
 * The metric a gate judges: the one asked for when it fits the task, otherwise accuracy for
 * classes and RMSE for values, which count every row (F1 counts one class, and is 0 for every
 * model when the labels lack it). A collapse to one class that accuracy would not show on
 * unbalanced labels is failed on its own (see gateVerdict).
 */
export function gateMetric(task: BacktestTask, asked?: GateMetric): GateMetric {
  const fitting: readonly GateMetric[] =
    task === 'classification' ? CLASSIFICATION_GATE_METRICS : REGRESSION_GATE_METRICS;
  if (asked === undefined) return fitting[0];
  if (!fitting.includes(asked))
    throw new MlopsError(
      `The gate metric ${asked} does not fit this back-test, which is a ${task}.`,
      `Give --metric one of ${fitting.join(', ')}.`,
    );
  return asked;
}

export interface GateInput {
  task: BacktestTask;
  metric: GateMetric;
  maxRegression: number | null;
  candidate: VersionResult;
  baseline: VersionResult | null;
  /** Classification: every class, in the order of the confusion matrices, and the labels' classes. */
  classes: string[] | null;
  labelClasses: string[] | null;
}

/** The classes a version answered, from the columns of its confusion matrix. */
function predictedClasses(version: VersionResult, classes: string[]): string[] {
  const confusion = version.confusion ?? [];
  return classes.filter((_, column) => confusion.some((row) => (row[column] ?? 0) > 0));
}

/**
 * The gate. The candidate fails when a request failed; when it answers a class no label holds;
 * when it answers one class for every row where the labels hold several and the baseline answered
 * several; and, with `maxRegression`, when its metric is worse than the baseline's by more than
 * that: points lost of accuracy, F1, precision, recall, ROC AUC or R², the relative increase of
 * RMSE or MAE. A gate asked to compare a metric that a version lacks fails.
 */
export function gateVerdict(input: GateInput): GateVerdict {
  const { task, metric, maxRegression, candidate, baseline } = input;
  const spec = GATE_METRICS[metric];
  const [c, b] = [spec.read(candidate) ?? null, baseline ? (spec.read(baseline) ?? null) : null];
  const classes = task === 'classification' ? (input.classes ?? []) : [];
  const labelClasses = input.labelClasses ?? [];
  const answered = predictedClasses(candidate, classes);
  const unknownClasses = task === 'classification' ? answered.filter((cls) => !labelClasses.includes(cls)) : [];
  // Points lost, or the relative increase of an error: positive when the candidate is worse.
  const regression =
    c === null || b === null ? null : spec.kind === 'points' ? b - c : b === 0 ? (c === 0 ? 0 : Infinity) : (c - b) / b;
  const verdict = (passed: boolean, reason: string): GateVerdict => ({
    metric,
    regressionKind: spec.kind,
    maxRegression,
    passed,
    reason,
    candidate: c,
    baseline: b,
    regression,
    unknownClasses,
  });
  const change =
    c === null || b === null || regression === null
      ? null
      : spec.kind === 'points'
        ? `${spec.name} ${c.toFixed(4)} vs ${b.toFixed(4)} (${c - b < 0 ? '-' : '+'}${Math.abs(c - b).toFixed(4)})`
        : `${spec.name} ${c.toPrecision(6)} vs ${b.toPrecision(6)} (${regression < 0 ? '-' : '+'}${(Math.abs(regression) * 100).toFixed(2)} %)`;
  const withChange = (reason: string) => (change ? `${reason}; ${change}` : reason);
  if (candidate.failedRequests)
    return verdict(
      false,
      `the candidate failed ${candidate.failedRequests} of ${candidate.requests} requests: ${candidate.errors[0] ?? ''}`,
    );
  if (unknownClasses.length) {
    const which =
      unknownClasses.length === 1
        ? `the class ${unknownClasses[0]}, which no label holds`
        : `the classes ${listClasses(unknownClasses)}, which no label holds`;
    return verdict(
      false,
      withChange(
        `the candidate answers ${which} (the labels hold ${listClasses(labelClasses)}; if the data misses classes the model knows, replay more rows)`,
      ),
    );
  }
  const baselineAnswered = baseline ? predictedClasses(baseline, classes) : [];
  if (answered.length === 1 && labelClasses.length > 1 && baselineAnswered.length > 1) {
    return verdict(
      false,
      withChange(
        `the candidate answers ${answered[0]} for every row, where the labels hold ${listClasses(labelClasses)} and the baseline answers ${baselineAnswered.length} classes: it has collapsed to one class`,
      ),
    );
  }
  if (!baseline) return verdict(true, 'no baseline to compare with');
  if (change === null || regression === null) {
    const missing = `no ${spec.name} for the ${c === null ? 'candidate' : 'baseline'}${metric === 'roc_auc' ? ' (its server sends no class probabilities)' : ''}`;
    return maxRegression === null ? verdict(true, missing) : verdict(false, `${missing}, so the gate cannot compare`);
  }
  if (maxRegression === null) return verdict(true, `${change}; no --max-regression set`);
  // A tolerance for the float error of equal models.
  const passed = regression <= maxRegression + 1e-12;
  return verdict(
    passed,
    `${change}: ${passed ? 'within' : 'worse than'} the allowed regression of ${spec.kind === 'points' ? maxRegression : `${maxRegression * 100} %`}`,
  );
}
