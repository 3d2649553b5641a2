// The back-test's metrics, computed as scikit-learn computes them (sklearn.metrics), so a report
// and a notebook agree: accuracy, precision, recall, F1 and ROC AUC for classification (binary
// for one positive class, macro averages otherwise), MAE, RMSE and R² for regression.

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Null without scores, or when the labels hold a single class. */
  rocAuc: number | null;
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  r2: number;
}

/** A label or prediction as a class name: 1, 1.0 and "1" are the same class. */
export const classKey = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Classes sorted as numbers when they all are, otherwise as text (numpy's order for one kind). */
export function sortClasses(classes: Iterable<string>): string[] {
  const unique = [...new Set(classes)];
  const numeric = unique.every((c) => c.trim() !== '' && Number.isFinite(Number(c)));
  return unique.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface ClassificationInput {
  labels: string[];
  predictions: string[];
  /** The class whose precision, recall and F1 are reported; without it, macro averages over every class. */
  positive?: string;
  /** One row of probabilities per prediction, in the order of `classes`. */
  scores?: number[][];
  classes?: string[];
}

export function classificationMetrics(input: ClassificationInput): ClassificationMetrics {
  const { labels, predictions } = input;
  const n = labels.length;
  const correct = labels.reduce((sum, label, i) => sum + (label === predictions[i] ? 1 : 0), 0);
  const perClass = (cls: string) => {
    let tp = 0,
      fp = 0,
      fn = 0;
    for (let i = 0; i < n; i++) {
      const actual = labels[i] === cls;
      const predicted = predictions[i] === cls;
      if (actual && predicted) tp++;
      else if (predicted) fp++;
      else if (actual) fn++;
    }
    // As sklearn's zero_division default (a warning, then 0).
    return {
      precision: tp + fp ? tp / (tp + fp) : 0,
      recall: tp + fn ? tp / (tp + fn) : 0,
      f1: 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0,
    };
  };
  let precision: number, recall: number, f1: number;
  if (input.positive !== undefined) ({ precision, recall, f1 } = perClass(input.positive));
  else {
    const all = sortClasses([...labels, ...predictions]).map(perClass);
    const mean = (key: 'precision' | 'recall' | 'f1') => all.reduce((sum, c) => sum + c[key], 0) / all.length;
    [precision, recall, f1] = [mean('precision'), mean('recall'), mean('f1')];
  }
  return {
    accuracy: n ? correct / n : 0,
    precision,
    recall,
    f1,
    rocAuc: input.scores && input.classes ? rocAuc(labels, input.scores, input.classes, input.positive) : null,
  };
}

/**
 * ROC AUC: of the positive class's score for one positive class; otherwise one-vs-rest for each
 * class, macro-averaged (sklearn's multi_class='ovr'). Null when the labels hold a single class.
 */
function rocAuc(labels: string[], scores: number[][], classes: string[], positive?: string): number | null {
  const binaryAuc = (cls: string) => {
    const column = classes.indexOf(cls);
    if (column < 0) return null;
    return aucOf(
      labels.map((l) => l === cls),
      scores.map((row) => row[column]),
    );
  };
  if (positive !== undefined) return binaryAuc(positive);
  const present = new Set(labels);
  if (present.size < 2) return null;
  const aucs = classes.filter((c) => present.has(c)).map(binaryAuc);
  if (aucs.some((a) => a === null)) return null;
  return (aucs as number[]).reduce((sum, a) => sum + a, 0) / aucs.length;
}

/**
 * The area under the ROC curve, as the Mann-Whitney statistic: the share of (positive, negative)
 * pairs the score orders right, ties counting half (the trapezoids of sklearn's curve).
 */
export function aucOf(actual: boolean[], score: number[]): number | null {
  const order = score.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0,
    rankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end < order.length && order[end][0] === order[start][0]) end++;
    const rank = (start + 1 + end) / 2; // the mean of the 1-based ranks start+1..end
    for (let k = start; k < end; k++) {
      if (actual[order[k][1]]) {
        positives++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const negatives = actual.length - positives;
  if (!positives || !negatives) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The confusion matrix: rows the labels, columns the predictions, both in `classes` order. */
export function confusionMatrix(labels: string[], predictions: string[], classes: string[]): number[][] {
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => classes.map(() => 0));
  labels.forEach((label, i) => {
    const row = index.get(label);
    const column = index.get(predictions[i]);
    if (row !== undefined && column !== undefined) matrix[row][column]++;
  });
  return matrix;
}

export function regressionMetrics(labels: number[], predictions: number[]): RegressionMetrics {
  const n = labels.length;
  if (!n) return { mae: 0, rmse: 0, r2: 0 };
  let absolute = 0,
    squared = 0,
    sum = 0;
  for (let i = 0; i < n; i++) {
    const error = labels[i] - predictions[i];
    absolute += Math.abs(error);
    squared += error * error;
    sum += labels[i];
  }
  const mean = sum / n;
  const total = labels.reduce((acc, y) => acc + (y - mean) ** 2, 0);
  // sklearn's force_finite: constant labels give 1 for a perfect fit and 0 otherwise.
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { mae: absolute / n, rmse: Math.sqrt(squared / n), r2 };
}

/** The q-quantile (0..1) with linear interpolation, numpy's default; null for no values. */
export function quantile(values: number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}
