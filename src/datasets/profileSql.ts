// The SQL of a dataset profile and the reading of its results, kept apart from running it.
//
// One pass over the file: a single aggregate computes every column's exact counts, nulls, min,
// max, mean and std, and keeps a uniform random sample of its values. Quantiles, histograms and
// top values are then computed from that sample, in memory. Files up to the sample size are
// sampled whole, so their profile is exact; past it, the sample's counts are scaled to the file.
// A second pass over a big file would cost as much as the first (parsing the file dominates),
// for histograms and top values that a sample of half a million rows draws as well.
import type { Json } from '@duckdb/node-api';
import { sqlIdentifier } from './sql';
import type { Column, ColumnProfile } from './model';

const HISTOGRAM_BINS = 30;
const TOP_VALUES = 10;
/**
 * The sample's size. A text file is sampled by its bytes, which bounds the sample's memory
 * whatever the width of its rows (50 MB is half a million rows of 100 bytes); Parquet, whose
 * bytes are compressed, by its values.
 */
const SAMPLE_TEXT_BYTES = 50_000_000;
const SAMPLE_VALUES = 5_000_000;

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;
const INTEGER = /INT$/;
const NESTED = /\[\d*\]$|^(STRUCT|MAP|UNION|JSON)\b/;

export interface ColumnPlan {
  column: Column;
  numeric: boolean;
  /** How the column is read: nested values (lists, structs, JSON) are compared and counted as text. */
  expr: string;
}

export function planColumns(columns: Column[]): ColumnPlan[] {
  return columns.map((column) => {
    const id = sqlIdentifier(column.name);
    return { column, numeric: NUMERIC.test(column.type), expr: NESTED.test(column.type) ? `CAST(${id} AS VARCHAR)` : id };
  });
}

/** The share of rows to sample: all of them up to the sample size. */
export function sampleFraction(file: { bytes: number } | { rows: number; columns: number }): number {
  const fraction = 'rows' in file ? SAMPLE_VALUES / (file.rows * Math.max(file.columns, 1)) : SAMPLE_TEXT_BYTES / file.bytes;
  return Math.min(1, fraction);
}

/** The table the pass over the file fills: one row of statistics, and each column's sample as a list. */
const SAMPLE_TABLE = 'mlops_profile';

const SAMPLED = 'mlops_sampled';

/** The pass over the file. With a fraction below 1, distinct counts are DuckDB's HyperLogLog estimates. */
export function passSql(relation: string, plans: ColumnPlan[], fraction: number): string {
  const items = ['count(*) AS n'];
  plans.forEach(({ numeric, expr }, i) => {
    items.push(`count(${expr}) AS n${i}`, numeric ? `min(${expr}) AS min${i}` : `min(${expr})::VARCHAR AS min${i}`, numeric ? `max(${expr}) AS max${i}` : `max(${expr})::VARCHAR AS max${i}`);
    if (numeric) items.push(`avg(${expr}) AS mean${i}`, `stddev_samp(${expr}) AS std${i}`);
    if (fraction < 1) items.push(`approx_count_distinct(${expr}) AS distinct${i}`);
    items.push(`list(${expr}) FILTER (WHERE ${fraction < 1 ? `${SAMPLED} AND ` : ''}${expr} IS NOT NULL) AS sample${i}`);
  });
  // random() once per row, shared by every column's filter: the rows sampled are the same for all.
  const from = fraction < 1 ? `(SELECT *, random() < ${fraction} AS ${SAMPLED} FROM ${relation})` : relation;
  return `CREATE OR REPLACE TEMP TABLE ${SAMPLE_TABLE} AS SELECT ${items.join(', ')} FROM ${from}`;
}

export interface ColumnStats {
  nonNull: number;
  /** Undefined when the whole file is sampled: the sample then counts them exactly. */
  distinct?: number;
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
  sampled: number;
}

export function statsSql(plans: ColumnPlan[], fraction: number): string {
  const items = ['n'];
  plans.forEach(({ numeric }, i) => {
    items.push(`n${i}`, `min${i}`, `max${i}`);
    if (numeric) items.push(`mean${i}`, `std${i}`);
    if (fraction < 1) items.push(`distinct${i}`);
    items.push(`len(sample${i})`);
  });
  return `SELECT ${items.join(', ')} FROM ${SAMPLE_TABLE}`;
}

export function readStats(row: Json[], plans: ColumnPlan[], fraction: number): { rows: number; stats: ColumnStats[] } {
  let at = 0;
  const next = () => row[at++];
  const rows = Number(next());
  const stats = plans.map(({ numeric }) => {
    const nonNull = Number(next());
    const [min, max] = [next(), next()].map((v) => (v === null ? undefined : numeric ? Number(v) : String(v)));
    const [mean, std] = numeric ? [next(), next()].map((v) => (v === null ? undefined : Number(v))) : [];
    const distinct = fraction < 1 ? Number(next()) : undefined;
    return defined({ nonNull, distinct, min, max, mean, std, sampled: Number(next()) });
  });
  return { rows, stats };
}

/**
 * A histogram bin, and the bound DuckDB's histogram(v, bounds) counts it under: each value goes
 * to the first bound at or above it, and values past the last bound to the last.
 */
type Bin = { start: number; end: number; bound: number };

/** Equal-width bins over [min, max]; an integer column with a short range gets one bin per value. */
export function histogramBins(type: string, min: number, max: number): Bin[] {
  if (min === max) return [{ start: min, end: max, bound: max }];
  if (INTEGER.test(type) && max - min < HISTOGRAM_BINS) {
    return Array.from({ length: max - min + 1 }, (_, k) => ({ start: min + k, end: min + k + 1, bound: min + k }));
  }
  const width = (max - min) / HISTOGRAM_BINS;
  return Array.from({ length: HISTOGRAM_BINS }, (_, k) => {
    const end = k === HISTOGRAM_BINS - 1 ? max : min + (k + 1) * width;
    return { start: min + k * width, end, bound: end };
  });
}

export interface SampleQuery {
  sql: string;
  read(rows: Json[][]): Pick<ColumnProfile, 'quantiles' | 'histogram' | 'topValues'> & { sampleDistinct: number };
}

/** What a column's sample tells: quantiles and a histogram for numbers, top values for the rest, and its distinct values. */
export function sampleQuery(plan: ColumnPlan, index: number, stats: ColumnStats, whole: boolean): SampleQuery {
  const { min, max } = stats as { min: number; max: number };
  if (plan.numeric && Number.isFinite(min) && Number.isFinite(max)) return numericSampleQuery(plan, index, stats);
  return whole ? exactTopValuesQuery(index) : sampledTopValuesQuery(index, stats.nonNull);
}

/**
 * The distinct count of a sampled column. DuckDB's HyperLogLog can be 10 to 15% off, even for a
 * handful of values (9 for 8); when the sample holds about as many distinct values as it
 * estimates, the sample has seen them all, and its exact count is the better answer.
 */
export function distinctCount(estimate: number, sampleDistinct: number): number {
  return sampleDistinct * 1.2 >= estimate ? sampleDistinct : estimate;
}

function numericSampleQuery(plan: ColumnPlan, index: number, stats: ColumnStats): SampleQuery {
  const bins = histogramBins(plan.column.type, stats.min as number, stats.max as number);
  const values = `(SELECT unnest(sample${index}) AS v FROM ${SAMPLE_TABLE})`;
  const bounds = `[${bins.map((b) => String(b.bound)).join(', ')}]::DOUBLE[]`;
  return {
    sql: `SELECT quantile_cont(v, [0.25, 0.5, 0.75]), histogram(v::DOUBLE, ${bounds}), count(DISTINCT v) FROM ${values}`,
    read([[quantiles, histogram, distinct]]) {
      const q = quantiles as Json[] | null;
      // Counts in the sample stand for this many in the file.
      const counts = new Map(((histogram ?? []) as { key: Json; value: Json }[]).map(({ key, value }) => [Number(key), Math.round((Number(value) * stats.nonNull) / stats.sampled)]));
      return defined({
        quantiles: q ? { q25: Number(q[0]), q50: Number(q[1]), q75: Number(q[2]) } : undefined,
        histogram: bins.map(({ start, end, bound }) => ({ start, end, count: counts.get(bound) ?? 0 })),
        sampleDistinct: Number(distinct),
      });
    },
  };
}

function exactTopValuesQuery(index: number): SampleQuery {
  const counts = `SELECT v, count(*) AS n FROM (SELECT unnest(sample${index}) AS v FROM ${SAMPLE_TABLE}) GROUP BY v`;
  return {
    sql: `SELECT v::VARCHAR, n, count(*) OVER () FROM (${counts}) ORDER BY n DESC, v LIMIT ${TOP_VALUES}`,
    read: (rows) => ({ topValues: rows.map(([value, n]) => ({ value: String(value), count: Number(n) })), sampleDistinct: Number(rows[0]?.[2] ?? 0) }),
  };
}

/**
 * Top values from a sample, without the winner's curse: the values that lead one half of the
 * sample are counted in the other half. Counting them where they were picked would overstate
 * them (among many values of equal frequency, the leaders are those the sample happened to
 * favour). A value not seen again in the other half is too rare to estimate, and left out.
 */
function sampledTopValuesQuery(index: number, nonNull: number): SampleQuery {
  const halves = `SELECT unnest(sample${index}) AS v, generate_subscripts(sample${index}, 1) % 2 AS half FROM ${SAMPLE_TABLE}`;
  const leaders = `SELECT v FROM halves WHERE half = 0 GROUP BY v ORDER BY count(*) DESC, v LIMIT ${TOP_VALUES}`;
  return {
    sql: `WITH halves AS (${halves}), leaders AS (${leaders}), totals AS (SELECT count(*) FILTER (WHERE half = 1) AS size, count(DISTINCT v) AS d FROM halves)
      SELECT v::VARCHAR, count(*) FILTER (WHERE half = 1) AS n, any_value(size), any_value(d) FROM totals LEFT JOIN (halves JOIN leaders USING (v)) ON true GROUP BY v ORDER BY n DESC, v`,
    read: (rows) => ({
      topValues: rows.filter(([value, n]) => value !== null && Number(n) > 0).map(([value, n, size]) => ({ value: String(value), count: Math.round((Number(n) * nonNull) / Number(size)) })),
      sampleDistinct: Number(rows[0]?.[3] ?? 0),
    }),
  };
}

/** Leaves out the statistics a column does not have (all nulls: no min; one value: no std). */
function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
