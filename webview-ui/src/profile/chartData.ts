// The bars of a column's chart: a histogram of a numeric column, the top values of the others.
import type { ColumnProfile } from '../../../src/datasets/contract';
import { columnFlags, formatStat } from './stats';

export interface Bars {
  /** Axis labels, short. */
  labels: string[];
  counts: number[];
  /** Tooltip titles, in full. */
  titles: string[];
}

/** What a column's card draws: bars, or a line saying why there are none. */
export type Distribution = { kind: 'histogram' | 'topValues'; bars: Bars } | { kind: 'note'; text: string };

/** A histogram for a numeric column, top values for the others, unless every value is distinct: each would be one row. */
export function columnDistribution(column: ColumnProfile, rows: number): Distribution {
  if (column.histogram?.length) return { kind: 'histogram', bars: histogramBars(column.histogram) };
  const flags = columnFlags(column, rows);
  if (flags.includes('unique'))
    return { kind: 'note', text: 'Every value is distinct: no value is more frequent than another.' };
  if (column.topValues?.length) return { kind: 'topValues', bars: topValueBars(column.topValues) };
  return {
    kind: 'note',
    text: flags.includes('all null') ? 'Every value is NULL.' : 'No distribution for this column.',
  };
}

export function histogramBars(histogram: NonNullable<ColumnProfile['histogram']>): Bars {
  return {
    labels: binLabels(histogram.map((bin) => bin.start)),
    counts: histogram.map((bin) => bin.count),
    // Bins hold their start but not their end, except the last one, which holds the maximum.
    titles: histogram.map(
      (bin, i) => `[${formatStat(bin.start)}, ${formatStat(bin.end)}${i === histogram.length - 1 ? ']' : ')'}`,
    ),
  };
}

const LABEL_DIGITS = 3;
const MAX_LABEL_DIGITS = 6;

/**
 * Bin starts as axis labels: three significant digits with thousands separators, more only where
 * two neighbouring bins would read the same (1,001 and 1,002). Rounding noise beside zero is zero.
 */
export function binLabels(starts: number[]): string[] {
  const gaps = starts
    .slice(1)
    .map((start, i) => Math.abs(start - starts[i]))
    .filter((gap) => gap > 0);
  const noise = gaps.length ? Math.min(...gaps) * 1e-9 : 0;
  const values = starts.map((start) => (Math.abs(start) <= noise ? 0 : start));
  let labels: string[] = [];
  for (let digits = LABEL_DIGITS; digits <= MAX_LABEL_DIGITS; digits++) {
    labels = values.map((value) => significant(value, digits));
    if (labels.every((label, i) => i === 0 || label !== labels[i - 1])) break;
  }
  return labels;
}

/** Exponents below 0.0001 and from a billion, as the statistics write them. */
function significant(value: number, digits: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e9))
    return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  return (value === 0 ? 0 : value).toLocaleString('en-US', { maximumSignificantDigits: digits });
}

export const MAX_TOP_VALUES = 10;
const MAX_LABEL_CHARS = 24;

/** The most frequent values, most frequent first; an empty text is shown as (empty). */
export function topValueBars(topValues: NonNullable<ColumnProfile['topValues']>, max = MAX_TOP_VALUES): Bars {
  const shown = [...topValues].sort((a, b) => b.count - a.count).slice(0, max);
  const names = shown.map((top) => (top.value === '' ? '(empty)' : top.value));
  return {
    labels: names.map((name) => (name.length > MAX_LABEL_CHARS ? `${name.slice(0, MAX_LABEL_CHARS - 1)}…` : name)),
    counts: shown.map((top) => top.count),
    titles: names,
  };
}
