// The metric tiles of the Back-test Report: each metric of the task, the candidate's value beside
// the baseline's, and whether the change is for the better (higher F1 or R², lower RMSE or latency);
// and the gate's metric, values, regression and limit in words.
import type { BacktestReport, BacktestVersion, GateVerdict } from '../../../src/release/backtest/contract';

export interface MetricTile {
  label: string;
  candidate: number | null;
  baseline: number | null;
  /** Candidate minus baseline; null without a baseline. */
  delta: number | null;
  /** True when the candidate is better, false when worse, null when equal or not comparable. */
  better: boolean | null;
  /** Whether the value reads as a share (0..1, shown in %). */
  share: boolean;
  unit: string;
  /** Whether the gate judges by this metric. */
  gate: boolean;
}

interface MetricSpec {
  label: string;
  /** The gate's name for it (GateVerdict.metric). */
  metric?: GateVerdict['metric'];
  read(version: BacktestVersion): number | null | undefined;
  higherIsBetter: boolean;
  share?: boolean;
  unit?: string;
}

const CLASSIFICATION: MetricSpec[] = [
  { label: 'Accuracy', metric: 'accuracy', read: (v) => v.classification?.accuracy, higherIsBetter: true, share: true },
  {
    label: 'Precision',
    metric: 'precision',
    read: (v) => v.classification?.precision,
    higherIsBetter: true,
    share: true,
  },
  { label: 'Recall', metric: 'recall', read: (v) => v.classification?.recall, higherIsBetter: true, share: true },
  { label: 'F1', metric: 'f1', read: (v) => v.classification?.f1, higherIsBetter: true, share: true },
  { label: 'ROC AUC', metric: 'roc_auc', read: (v) => v.classification?.rocAuc, higherIsBetter: true },
];

const REGRESSION: MetricSpec[] = [
  { label: 'MAE', metric: 'mae', read: (v) => v.regression?.mae, higherIsBetter: false },
  { label: 'RMSE', metric: 'rmse', read: (v) => v.regression?.rmse, higherIsBetter: false },
  { label: 'R²', metric: 'r2', read: (v) => v.regression?.r2, higherIsBetter: true },
];

const SERVING: MetricSpec[] = [
  { label: 'Latency p50', read: (v) => v.latencyMs.p50, higherIsBetter: false, unit: 'ms' },
  { label: 'Latency p95', read: (v) => v.latencyMs.p95, higherIsBetter: false, unit: 'ms' },
  { label: 'Throughput', read: (v) => v.rowsPerSecond, higherIsBetter: true, unit: 'rows/s' },
];

/** The quality metrics of the report's task. */
export function qualitySpecs(report: BacktestReport): MetricSpec[] {
  return report.task === 'classification' ? CLASSIFICATION : REGRESSION;
}

export function metricTiles(report: BacktestReport): MetricTile[] {
  return [...qualitySpecs(report), ...SERVING].map((spec) => {
    const candidate = spec.read(report.candidate) ?? null;
    const baseline = report.baseline ? (spec.read(report.baseline) ?? null) : null;
    const delta = candidate !== null && baseline !== null ? candidate - baseline : null;
    const better = delta === null || delta === 0 ? null : spec.higherIsBetter === delta > 0;
    return {
      label: spec.label,
      candidate,
      baseline,
      delta,
      better,
      share: spec.share ?? false,
      unit: spec.unit ?? '',
      gate: spec.metric !== undefined && spec.metric === report.gate.metric,
    };
  });
}

/** A value for a tile: shares in %, others to four significant digits, with the unit. */
export function formatTileValue(value: number | null, tile: Pick<MetricTile, 'share' | 'unit'>): string {
  if (value === null) return '–';
  if (tile.share) return `${(value * 100).toFixed(1)} %`;
  const text = Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(4)));
  return tile.unit ? `${text} ${tile.unit}` : text;
}

/** The change, signed: points for shares, the metric's own unit otherwise. */
export function formatDelta(tile: MetricTile): string {
  if (tile.delta === null) return '';
  const sign = tile.delta > 0 ? '+' : tile.delta < 0 ? '−' : '±';
  const size = Math.abs(tile.delta);
  const text = tile.share
    ? `${(size * 100).toFixed(1)} pts`
    : `${Number(size.toPrecision(3))}${tile.unit ? ` ${tile.unit}` : ''}`;
  return `${sign}${text}`;
}

/**
 * The gate's judgement in numbers: "Accuracy (higher is better): candidate 0.0 %, baseline
 * 100.0 %, regression 100.0 pts, at most 1.0 pts". Older reports name no regression kind: RMSE and
 * MAE were relative, the rest points.
 */
export function gateSummary(gate: GateVerdict): string {
  const spec = [...CLASSIFICATION, ...REGRESSION].find((s) => s.metric === gate.metric);
  const relative = gate.regressionKind
    ? gate.regressionKind === 'relative'
    : gate.metric === 'rmse' || gate.metric === 'mae';
  const share = spec?.share ?? false;
  const value = (x: number | null) => formatTileValue(x, { share, unit: '' });
  const amount = (x: number) =>
    relative
      ? `${Number((x * 100).toPrecision(3))} %`
      : share
        ? `${(x * 100).toFixed(1)} pts`
        : String(Number(x.toPrecision(3)));
  return [
    `${spec?.label ?? gate.metric} (${relative ? 'lower' : 'higher'} is better): candidate ${value(gate.candidate)}`,
    `baseline ${value(gate.baseline)}`,
    ...(gate.regression === null ? [] : [`regression ${amount(gate.regression)}`]),
    gate.maxRegression === null ? 'no limit set' : `at most ${amount(gate.maxRegression)}`,
  ].join(', ');
}
