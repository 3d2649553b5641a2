// The back-test report: what `mlops backtest --out` writes and the report panel shows.
import type { ClassificationMetrics, RegressionMetrics } from './metrics';

export type BacktestTask = 'classification' | 'regression';

export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  mean: number | null;
}

export interface VersionResult {
  role: 'candidate' | 'baseline';
  image: string;
  /** The model version the server reports (GET /version). */
  version: string | null;
  /** Milliseconds from container start to a healthy /ping. */
  healthyAfterMs: number;
  /** Rows sent, and rows that came back with a prediction. */
  rows: number;
  predicted: number;
  /** Requests that failed, with the first few messages. */
  failedRequests: number;
  errors: string[];
  requests: number;
  seconds: number;
  rowsPerSecond: number;
  requestsPerSecond: number;
  /** Of each request of `batchSize` rows. */
  latencyMs: LatencySummary;
  /** Each request's latency in ms, in the order sent (at most 2,000, evenly picked). */
  latencySeries: number[];
  classification?: ClassificationMetrics;
  regression?: RegressionMetrics;
  /** Rows are the labels, columns the predictions, in `BacktestReport.classes` order. */
  confusion?: number[][];
  /** Label minus prediction. */
  residuals?: { mean: number; p5: number | null; p50: number | null; p95: number | null; maxAbs: number };
  /** Whether the server answered with class probabilities (X-Mlops-Scores). */
  scores: boolean;
}

export interface DisagreementRow {
  /** 0-based position of the row in the replayed data. */
  row: number;
  inputs: Record<string, unknown>;
  label: unknown;
  candidate: unknown;
  baseline: unknown;
  /** |candidate - baseline| for regression; the largest per-class score difference for classification with scores. */
  difference: number | null;
}

export interface Comparison {
  /** Rows both versions predicted. */
  compared: number;
  disagreements: number;
  rate: number;
  /** The rows where the versions disagree most, the most first. */
  top: DisagreementRow[];
}

/** The metrics a gate can judge by: of classes (higher is better), and of values (RMSE and MAE lower, R² higher). */
export const CLASSIFICATION_GATE_METRICS = ['accuracy', 'f1', 'precision', 'recall', 'roc_auc'] as const;
export const REGRESSION_GATE_METRICS = ['rmse', 'mae', 'r2'] as const;
export type GateMetric = (typeof CLASSIFICATION_GATE_METRICS)[number] | (typeof REGRESSION_GATE_METRICS)[number];

export interface GateVerdict {
  /** The metric judged: accuracy for classes and RMSE for values unless another was asked for. */
  metric: GateMetric;
  /**
   * How a regression is measured: `points` lost (baseline minus candidate) of a metric where higher
   * is better, or the `relative` increase of an error (RMSE, MAE). Absent in older reports.
   */
  regressionKind?: 'points' | 'relative';
  maxRegression: number | null;
  passed: boolean;
  /** Why it passed or failed, in words. */
  reason: string;
  candidate: number | null;
  baseline: number | null;
  /** Points lost, or the relative error increase (see `regressionKind`); negative when the candidate is better. */
  regression: number | null;
  /** Classes the candidate predicted that no label holds (each one fails the gate). */
  unknownClasses?: string[];
}

export interface BacktestReport {
  kind: 'mlops.backtest';
  createdAt: string;
  data: {
    source: string;
    label: string;
    /** Rows replayed, and rows left out (a logged request without feedback, an unusable label). */
    rows: number;
    skipped: number;
    skippedReason: string | null;
    /** The columns sent to the models. */
    columns: string[];
  };
  task: BacktestTask;
  /**
   * Classification: every class seen (labels, predictions, the model's own), sorted; the positive
   * class (one of the labels' classes, or --positive-class), and how precision, recall and F1 average.
   */
  classes: string[] | null;
  positiveClass: string | null;
  averaging: 'binary' | 'macro' | null;
  batchSize: number;
  parallelism: number;
  candidate: VersionResult;
  baseline: VersionResult | null;
  comparison: Comparison | null;
  gate: GateVerdict;
}
