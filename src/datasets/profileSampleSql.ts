// What the sample table tells about each column: quantiles, histograms, top values and distinct
// values, and, for a file read whole, its exact counts and ranges too. The sample's columns are
// turned into one long table of (column, value) per type, so that one statement covers every
// column of that type: a statement per column costs milliseconds, minutes for thousands of
// columns.
import type { Json } from '@duckdb/node-api';
import type { ColumnProfile } from './model';
import { defined, SAMPLE_TABLE, sampleColumn, type ColumnPlan } from './profileSql';

const LONG_TABLE = 'mlops_long';
export const BINS_TABLE = 'mlops_bins';
const TOP_VALUES = 10;

/** The plans grouped by their type in the sample table: a long table holds values of one type. */
export function typeGroups(plans: ColumnPlan[]): ColumnPlan[][] {
  const groups = new Map<string, ColumnPlan[]>();
  for (const plan of plans) {
    const group = groups.get(plan.sampleType);
    if (group) group.push(plan);
    else groups.set(plan.sampleType, [plan]);
  }
  return [...groups.values()];
}

/** A group's non-null values, one row each, tagged with the half of the sample its row is in. */
export function longTableSql(group: ColumnPlan[]): string {
  const columns = group.map(sampleColumn).join(', ');
  return `CREATE OR REPLACE TEMP TABLE ${LONG_TABLE} AS SELECT col::INTEGER AS col, v, half FROM (UNPIVOT (SELECT rowid % 2 AS half, ${columns} FROM ${SAMPLE_TABLE}) ON ${columns} INTO NAME col VALUE v)`;
}

export const dropLongTableSql = `DROP TABLE IF EXISTS ${LONG_TABLE}`;

export interface SampleSummary extends Pick<ColumnProfile, 'distinct' | 'min' | 'max' | 'mean' | 'std' | 'quantiles'> {
  /** Non-null values in the sample. */
  sampled: number;
}

export function summarySql(numeric: boolean): string {
  const items = numeric
    ? ['min(v)', 'max(v)', 'avg(v)', 'stddev_samp(v)', 'quantile_cont(v, [0.25, 0.5, 0.75])']
    : ['min(v)::VARCHAR', 'max(v)::VARCHAR'];
  return `SELECT col, count(v), count(DISTINCT v), ${items.join(', ')} FROM ${LONG_TABLE} GROUP BY col`;
}

/** Summaries by column position; a column whose sample holds no value has none. */
export function readSummaries(rows: Json[][], numeric: boolean): Map<number, SampleSummary> {
  const number = (v: Json | undefined) => (v === null || v === undefined ? undefined : Number(v));
  return new Map(
    rows.map(([col, sampled, distinct, min, max, mean, std, q]) => {
      const quantiles = Array.isArray(q) ? { q25: Number(q[0]), q50: Number(q[1]), q75: Number(q[2]) } : undefined;
      const range = numeric
        ? { min: number(min), max: number(max) }
        : { min: min === null ? undefined : String(min), max: max === null ? undefined : String(max) };
      return [
        Number(col),
        defined({
          sampled: Number(sampled),
          distinct: Number(distinct),
          ...range,
          mean: number(mean),
          std: number(std),
          quantiles,
        }),
      ];
    }),
  );
}

export const createBinsSql = `CREATE OR REPLACE TEMP TABLE ${BINS_TABLE} (col INTEGER, bin INTEGER, start DOUBLE)`;

/**
 * Each value counts in the last bin that starts at or below it, so in exactly one; the bins
 * table gives the first bin of each column a start of -Infinity, so nothing falls below it.
 */
export const histogramSql = `SELECT l.col, b.bin, count(*) FROM ${LONG_TABLE} l ASOF JOIN ${BINS_TABLE} b ON l.col = b.col AND l.v::DOUBLE >= b.start GROUP BY ALL`;

/** Counts by column position, then by bin. */
export function readHistograms(rows: Json[][]): Map<number, Map<number, number>> {
  const counts = new Map<number, Map<number, number>>();
  for (const [col, bin, n] of rows) {
    const column = counts.get(Number(col)) ?? new Map<number, number>();
    counts.set(Number(col), column.set(Number(bin), Number(n)));
  }
  return counts;
}

export type TopValues = { value: string; count: number }[];

/** The most frequent values of the given columns, exactly, for a file read whole. */
export function exactTopValuesSql(columns: number[]): string {
  const counts = `SELECT col, v, count(*) AS n FROM ${LONG_TABLE} WHERE col IN (${columns.join(', ')}) GROUP BY col, v`;
  return `SELECT col, v::VARCHAR, n FROM (${counts}) QUALIFY row_number() OVER (PARTITION BY col ORDER BY n DESC, v) <= ${TOP_VALUES} ORDER BY col, n DESC, v`;
}

/**
 * The most frequent values from a sample, without the winner's curse: the values that lead one
 * half of the sample are counted in the other half. Counting them where they were picked would
 * overstate them (among many values of equal frequency, the leaders are those the sample
 * happened to favour). A value not seen again in the other half is too rare to estimate, and
 * left out.
 */
export function sampledTopValuesSql(columns: number[]): string {
  const counts = `SELECT col, v, count(*) FILTER (WHERE half = 0) AS picked, count(*) FILTER (WHERE half = 1) AS n, sum(count(*) FILTER (WHERE half = 1)) OVER (PARTITION BY col) AS size
    FROM ${LONG_TABLE} WHERE col IN (${columns.join(', ')}) GROUP BY col, v`;
  return `SELECT col, v::VARCHAR, n, size FROM (${counts}) WHERE picked > 0 QUALIFY row_number() OVER (PARTITION BY col ORDER BY picked DESC, v) <= ${TOP_VALUES} ORDER BY col, n DESC, v`;
}

/** Top values by column position; a sample's counts are scaled to the column's non-null values in the file. */
export function readTopValues(rows: Json[][], nonNull: (col: number) => number): Map<number, TopValues> {
  const tops = new Map<number, TopValues>();
  for (const [col, value, n, size] of rows) {
    if (Number(n) === 0) continue;
    const count = size === undefined ? Number(n) : Math.round((Number(n) * nonNull(Number(col))) / Number(size));
    const top = tops.get(Number(col)) ?? [];
    tops.set(Number(col), [...top, { value: String(value), count }]);
  }
  return tops;
}
