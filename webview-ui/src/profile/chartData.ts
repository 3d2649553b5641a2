// The bars of a column's chart: a histogram of a numeric column, the top values of the others.
import type { ColumnProfile } from '../../../src/shared/protocol';
import { formatStat, formatTick } from './stats';

export interface Bars {
  /** Axis labels, short. */
  labels: string[];
  counts: number[];
  /** Tooltip titles, in full. */
  titles: string[];
}

export function histogramBars(histogram: NonNullable<ColumnProfile['histogram']>): Bars {
  return {
    labels: histogram.map((bin) => formatTick(bin.start)),
    counts: histogram.map((bin) => bin.count),
    // Bins hold their start but not their end, except the last one, which holds the maximum.
    titles: histogram.map((bin, i) => `[${formatStat(bin.start)}, ${formatStat(bin.end)}${i === histogram.length - 1 ? ']' : ')'}`),
  };
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
