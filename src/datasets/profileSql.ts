// The SQL of a dataset profile that reads the file, and the reading of its results, kept apart
// from running them.
//
// The file is read once into a sample table, one column per column of the file: every row when
// the file is no bigger than the sample size, else a uniform random sample of its rows. A file
// read whole is then profiled from that table alone (profileSampleSql.ts). A bigger one is read
// again for its exact counts, nulls, ranges, means and spreads, in batches of columns: one
// aggregate over thousands of columns is slow, and crashed DuckDB. (Sampling into one list per
// column in the same pass cost minutes on wide files: DuckDB's cost of FILTER grows with the
// number of filtered aggregates times the number of columns; and one filtered list of whole
// rows costs as much as the second read.)
import type { Json } from '@duckdb/node-api';
import { sqlIdentifier } from './sql';
import type { Column } from './model';

/**
 * The sample's size. A text file is sampled by its bytes, which bounds the sample's memory
 * whatever the width of its rows (50 MB is half a million rows of 100 bytes); Parquet, whose
 * bytes are compressed, by its values.
 */
const SAMPLE_TEXT_BYTES = 50_000_000;
const SAMPLE_VALUES = 5_000_000;
/** Columns whose exact statistics one aggregate computes. */
export const STATS_BATCH = 1000;

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;
const NESTED = /\[\d*\]$|^(STRUCT|MAP|UNION|JSON)\b/;

export const SAMPLE_TABLE = 'mlops_sample';

export interface ColumnPlan {
  column: Column;
  index: number;
  numeric: boolean;
  /** How the column is read: nested values (lists, structs, JSON) are compared and counted as text. */
  expr: string;
  /** The type of its column in the sample table. */
  sampleType: string;
}

export function planColumns(columns: Column[]): ColumnPlan[] {
  return columns.map((column, index) => {
    const id = sqlIdentifier(column.name);
    const nested = NESTED.test(column.type);
    return {
      column,
      index,
      numeric: NUMERIC.test(column.type),
      expr: nested ? `CAST(${id} AS VARCHAR)` : id,
      sampleType: nested ? 'VARCHAR' : column.type,
    };
  });
}

/** A plan's column in the sample table, named by its position: file column names may repeat or be long. */
export function sampleColumn(plan: ColumnPlan): string {
  return sqlIdentifier(String(plan.index));
}

/** The share of rows to sample: all of them up to the sample size. */
export function sampleFraction(file: { bytes: number } | { rows: number; columns: number }): number {
  const fraction =
    'rows' in file ? SAMPLE_VALUES / (file.rows * Math.max(file.columns, 1)) : SAMPLE_TEXT_BYTES / file.bytes;
  return Math.min(1, fraction);
}

export function statsBatches(plans: ColumnPlan[]): ColumnPlan[][] {
  const batches: ColumnPlan[][] = [];
  for (let at = 0; at < plans.length; at += STATS_BATCH) batches.push(plans.slice(at, at + STATS_BATCH));
  return batches;
}

/** The sample table: every row of a file no bigger than the sample, else a uniform random share of its rows. */
export function sampleSql(relation: string, plans: ColumnPlan[], fraction: number): string {
  const where = fraction < 1 ? ` WHERE random() < ${fraction}` : '';
  return `CREATE OR REPLACE TEMP TABLE ${SAMPLE_TABLE} AS SELECT ${plans.map((p) => `${p.expr} AS ${sampleColumn(p)}`).join(', ')} FROM ${relation}${where}`;
}

export const countSampleSql = `SELECT count(*) FROM ${SAMPLE_TABLE}`;

/** A sampled file's row count and a batch of its exact statistics; distinct counts are DuckDB's HyperLogLog estimates. */
export function batchStatsSql(relation: string, batch: ColumnPlan[]): string {
  return `SELECT count(*), ${exactStatsItems(batch).join(', ')} FROM ${relation}`;
}

function exactStatsItems(batch: ColumnPlan[]): string[] {
  return batch.flatMap(({ numeric, expr }) => [
    `count(${expr})`,
    numeric ? `min(${expr})` : `min(${expr})::VARCHAR`,
    numeric ? `max(${expr})` : `max(${expr})::VARCHAR`,
    ...(numeric ? [`avg(${expr})`, `stddev_samp(${expr})`] : []),
    `approx_count_distinct(${expr})`,
  ]);
}

export interface ColumnStats {
  nonNull: number;
  /** Undefined when the whole file is sampled: the sample then counts them exactly. */
  distinct?: number;
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
}

/** Reads a batch of exact statistics, after the row count. */
export function readBatchStats(row: Json[], batch: ColumnPlan[]): ColumnStats[] {
  let at = 1;
  const next = () => row[at++];
  return batch.map(({ numeric }) => {
    const nonNull = Number(next());
    const [min, max] = [next(), next()].map((v) => (v === null ? undefined : numeric ? Number(v) : String(v)));
    const [mean, std] = numeric ? [next(), next()].map((v) => (v === null ? undefined : Number(v))) : [];
    return defined({ nonNull, min, max, mean, std, distinct: Number(next()) });
  });
}

/**
 * The distinct count of a sampled column. DuckDB's HyperLogLog can be 10 to 15% off, even for a
 * handful of values (9 for 8); when the sample holds about as many distinct values as it
 * estimates, the sample has seen them all, and its exact count is the better answer.
 */
export function distinctCount(estimate: number, sampleDistinct: number): number {
  return sampleDistinct * 1.2 >= estimate ? sampleDistinct : estimate;
}

/** Leaves out the statistics a column does not have (all nulls: no min; one value: no std). */
export function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
