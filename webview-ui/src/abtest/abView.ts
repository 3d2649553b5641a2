// What the A/B panel draws, computed from the report: the rows of the significance table and the
// chart lines per variant. No DOM, so the unit tests check it directly.
import type { AbReport, VariantComparison } from '../../../src/release/contract';

export interface ComparisonRow {
  variant: string;
  metric: string;
  production: string;
  candidate: string;
  difference: string;
  interval: string;
  pValue: number | null;
  /** Significant (p < 0.05) and in the variant's favour, against it, or neither. */
  judgement: 'better' | 'worse' | '';
}

const ALPHA = 0.05;
const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const points = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} pts`;
const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/** A p-value that could not be computed (no spread) is NaN on the host and null once posted as JSON. */
const known = (p: number | null): p is number => p !== null && Number.isFinite(p);

export function pValueText(p: number | null): string {
  if (!known(p)) return 'n/a';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** One row per variant and metric that has data; higher accuracy and reward are better, lower errors and latency. */
export function comparisonRows(comparisons: readonly VariantComparison[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const judge = (estimate: number, p: number | null, higherIsBetter: boolean): ComparisonRow['judgement'] =>
    !known(p) || p >= ALPHA || estimate === 0 ? '' : estimate > 0 === higherIsBetter ? 'better' : 'worse';
  for (const c of comparisons) {
    if (c.accuracy) {
      const t = c.accuracy;
      rows.push({
        variant: c.variant,
        metric: 'Accuracy',
        production: pct(t.rateA),
        candidate: pct(t.rateB),
        difference: points(t.estimate),
        interval: `${points(t.ciLow)} to ${points(t.ciHigh)}`,
        pValue: t.pValue,
        judgement: judge(t.estimate, t.pValue, true),
      });
    }
    if (c.reward) {
      const t = c.reward;
      rows.push({
        variant: c.variant,
        metric: 'Mean reward',
        production: t.meanA.toFixed(3),
        candidate: t.meanB.toFixed(3),
        difference: signed(t.estimate, 3),
        interval: `${signed(t.ciLow, 3)} to ${signed(t.ciHigh, 3)}`,
        pValue: t.pValue,
        judgement: judge(t.estimate, t.pValue, true),
      });
    }
    if (c.errorRate) {
      const t = c.errorRate;
      rows.push({
        variant: c.variant,
        metric: 'Error rate',
        production: pct(t.rateA),
        candidate: pct(t.rateB),
        difference: points(t.estimate),
        interval: `${points(t.ciLow)} to ${points(t.ciHigh)}`,
        pValue: t.pValue,
        judgement: judge(t.estimate, t.pValue, false),
      });
    }
    if (c.latency) {
      const t = c.latency;
      rows.push({
        variant: c.variant,
        metric: 'Mean latency',
        production: `${t.meanA.toFixed(1)} ms`,
        candidate: `${t.meanB.toFixed(1)} ms`,
        difference: `${signed(t.estimate, 1)} ms`,
        interval: `${signed(t.ciLow, 1)} to ${signed(t.ciHigh, 1)} ms`,
        pValue: t.pValue,
        judgement: judge(t.estimate, t.pValue, false),
      });
    }
  }
  return rows;
}

export type SeriesKind = 'rate' | 'errors' | 'p95';

/** One line per variant over the report's buckets: requests per second, error rate in %, or p95 in ms. */
export function seriesLines(
  report: AbReport,
  kind: SeriesKind,
): { variant: string; shadow: boolean; points: { x: number; y: number }[] }[] {
  const seconds = report.series.bucketMs / 1000;
  return report.variants.map((v) => ({
    variant: v.variant,
    shadow: v.shadow,
    points: (report.series.variants[v.variant] ?? []).map((p) => ({
      x: p.t + report.series.bucketMs / 2,
      y:
        kind === 'rate'
          ? p.requests / seconds
          : kind === 'errors'
            ? p.requests
              ? (100 * p.errors) / p.requests
              : NaN
            : (p.p95 ?? NaN),
    })),
  }));
}
