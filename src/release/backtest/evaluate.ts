// From replayed predictions to the report's parts: the task, each version's metrics, the rows
// where the versions disagree, and the gate's verdict.
import { classificationMetrics, classKey, confusionMatrix, quantile, regressionMetrics, sortClasses } from './metrics';
import type { BacktestTask, Comparison, DisagreementRow, GateVerdict, VersionResult } from './model';
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
  classes: string[];
  /** The positive class with two classes (the model's last class, or the second sorted); null for macro averages. */
  positive: string | null;
}

export function classSetting(labels: unknown[], replays: ReplayResult[], modelClasses: string[] | null): ClassSetting {
  const seen = [...labels, ...replays.flatMap((r) => r.predictions.filter((p) => p !== null))].map(classKey);
  const classes = sortClasses([...seen, ...(modelClasses ?? [])]);
  if (classes.length > 2) return { classes, positive: null };
  const declared = replays.find((r) => r.classes?.length === 2)?.classes ?? (modelClasses?.length === 2 ? modelClasses : null);
  return { classes, positive: declared ? declared[1] : (classes[1] ?? classes[0] ?? null) };
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

export function versionResult(run: VersionRun, labels: unknown[], task: BacktestTask, setting: ClassSetting | null): VersionResult {
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
    const scores = replay.scores && kept.every((i) => replay.scores![i]) ? kept.map((i) => replay.scores![i]!) : undefined;
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

export function compareVersions(task: BacktestTask, columns: string[], rows: unknown[][], labels: unknown[], candidate: ReplayResult, baseline: ReplayResult, top: number): Comparison {
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
  const ordered = disagreeing.sort((x, y) => (y.difference ?? -1) - (x.difference ?? -1) || x.row - y.row).slice(0, top);
  for (const row of ordered) row.inputs = Object.fromEntries(columns.map((c, j) => [c, rows[row.row][j]]));
  return { compared, disagreements: disagreeing.length, rate: compared ? disagreeing.length / compared : 0, top: ordered };
}

/**
 * The gate: the candidate fails when a request failed, or when its primary metric is worse than
 * the baseline's by more than `maxRegression`: F1 points lost for classification (binary F1 of the
 * positive class, or macro F1), the relative RMSE increase for regression.
 */
export function gateVerdict(task: BacktestTask, candidate: VersionResult, baseline: VersionResult | null, maxRegression: number | null): GateVerdict {
  const metric = task === 'classification' ? 'f1' : 'rmse';
  const value = (v: VersionResult | null) => (v ? (task === 'classification' ? v.classification?.f1 : v.regression?.rmse) ?? null : null);
  const [c, b] = [value(candidate), value(baseline)];
  const verdict = (passed: boolean, reason: string, regression: number | null = null): GateVerdict => ({ metric, maxRegression, passed, reason, candidate: c, baseline: b, regression });
  if (candidate.failedRequests) return verdict(false, `the candidate failed ${candidate.failedRequests} of ${candidate.requests} requests: ${candidate.errors[0] ?? ''}`);
  if (c === null || b === null) return verdict(true, baseline ? 'no metric to compare' : 'no baseline to compare with');
  const regression = task === 'classification' ? b - c : b === 0 ? (c === 0 ? 0 : Infinity) : (c - b) / b;
  const change = task === 'classification' ? `F1 ${c.toFixed(4)} vs ${b.toFixed(4)} (${regression > 0 ? '-' : '+'}${Math.abs(regression).toFixed(4)})` : `RMSE ${c.toPrecision(6)} vs ${b.toPrecision(6)} (${regression > 0 ? '+' : '-'}${(Math.abs(regression) * 100).toFixed(2)} %)`;
  if (maxRegression === null) return verdict(true, `${change}; no --max-regression set`, regression);
  // A tolerance for the float error of equal models.
  const passed = regression <= maxRegression + 1e-12;
  return verdict(passed, `${change}: ${passed ? 'within' : 'worse than'} the allowed regression of ${task === 'classification' ? maxRegression : `${maxRegression * 100} %`}`, regression);
}
