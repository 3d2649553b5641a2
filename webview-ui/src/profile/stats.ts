// What a column's card says: its statistics as label and text, and what stands out about it.
import type { ColumnProfile } from '../../../src/datasets/contract';
import { formatCount, formatNumber } from '../shared/format';

export interface Stat {
  label: string;
  text: string;
}

/** A share as a percentage that never rounds a few rows to 0% or nearly all of them to 100%. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0 || part <= 0) return '0%';
  if (part >= whole) return '100%';
  const percent = (part / whole) * 100;
  if (percent < 0.1) return '<0.1%';
  if (percent > 99.9) return '>99.9%';
  return `${Number(percent.toFixed(percent < 10 ? 1 : 0))}%`;
}

/**
 * Thousands separators from a thousand to a billion (decimals only below 100,000), six significant
 * digits below a thousand, exponents beyond.
 */
export function formatStat(value: number | null): string {
  if (value === null || !Number.isFinite(value) || Math.abs(value) < 1000 || Math.abs(value) >= 1e9)
    return formatNumber(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) >= 1e5 ? 0 : 2 });
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 3 });

/** Short, for axis labels: 1.2K, 35M. */
export function formatTick(value: number): string {
  return Math.abs(value) >= 1000 ? compact.format(value) : formatNumber(value);
}

/** null is a NaN that crossed JSON; undefined is a statistic the column does not have. */
function statText(value: number | string | null | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : formatStat(value);
}

function present(stats: [string, string | undefined][]): Stat[] {
  return stats.flatMap(([label, text]) => (text === undefined ? [] : [{ label, text }]));
}

/**
 * The statistics in rows: nulls, distinct, mean and std, then the five-number summary for a
 * numeric column; nulls, distinct, min and max for the others.
 */
export function columnStats(column: ColumnProfile, rows: number): Stat[][] {
  const counts: [string, string | undefined][] = [
    [`Nulls ${formatPercent(column.nulls, rows)}`, formatCount(column.nulls)],
    ['Distinct', formatCount(column.distinct)],
  ];
  if (!column.quantiles) return [present([...counts, ['Min', statText(column.min)], ['Max', statText(column.max)]])];
  const { q25, q50, q75 } = column.quantiles;
  return [
    present([...counts, ['Mean', statText(column.mean)], ['Std', statText(column.std)]]),
    present([
      ['Min', statText(column.min)],
      ['25%', statText(q25)],
      ['Median', statText(q50)],
      ['75%', statText(q75)],
      ['Max', statText(column.max)],
    ]),
  ];
}

export type ColumnFlag = 'all null' | 'constant' | 'unique';

/** What a data scientist wants to notice first: a column with no values, one value, or all different. */
export function columnFlags(column: ColumnProfile, rows: number): ColumnFlag[] {
  const values = rows - column.nulls;
  if (rows > 0 && values === 0) return ['all null'];
  if (column.distinct === 1) return ['constant'];
  if (values > 1 && column.distinct === values) return ['unique'];
  return [];
}
