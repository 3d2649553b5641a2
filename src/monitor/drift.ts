// Input drift between a baseline (the training data) and current data (logged requests), per
// feature, computed in DuckDB so a million rows take a moment and no row crosses into
// JavaScript:
// - PSI over ten bins cut at the baseline's deciles (numeric) or over the categories
//   (categorical), with empty bins floored at 1e-6 so the logarithm stays finite;
// - for numeric features, the two-sample Kolmogorov–Smirnov statistic, the largest gap between
//   the two empirical distribution functions (what scipy.stats.ks_2samp reports as its statistic);
// - given time slices of the current data, the PSI of each slice against the whole baseline (a
//   trend), from the same binning pass.
// Own code, not a library: it is DuckDB SQL over the tables, which no JavaScript statistics package runs.
import type { DuckDb } from '../datasets/duckdb';
import { sqlIdentifier } from '../datasets/sql';

export const PSI_FLOOR = 1e-6;
/** The usual reading of PSI: below 0.1 no shift, up to 0.25 a moderate one, above it a major one. */
export const PSI_MODERATE = 0.1;
export const PSI_MAJOR = 0.25;

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  psi: number;
  /** The KS statistic (numeric features only). */
  ks: number | null;
  severity: 'none' | 'moderate' | 'major';
  /** Rows with a value (nulls are left out of both sides). */
  baselineRows: number;
  currentRows: number;
  /** With slices: the PSI of each slice of the current data against the whole baseline; NaN for a slice without a value. */
  trend?: number[];
}

const NUMERIC_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i;

/** The decile bin of v: how many of the nine edges lie below it (numpy's searchsorted, side left). */
const DECILE_BIN = `CASE ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => `WHEN v <= e[${k}] THEN ${k - 1}`).join(' ')} ELSE 9 END`;

export function severityOf(psi: number): FeatureDrift['severity'] {
  return psi > PSI_MAJOR ? 'major' : psi > PSI_MODERATE ? 'moderate' : 'none';
}

/**
 * The features both relations have (or those named), numeric when the baseline's type is a
 * number. `baseline` and `current` are table expressions (read_parquet(...), a view name).
 */
export async function commonFeatures(
  db: DuckDb,
  baseline: string,
  current: string,
  only?: string[],
): Promise<{ name: string; kind: FeatureDrift['kind'] }[]> {
  const describe = async (relation: string) =>
    new Map((await db.query(`DESCRIBE SELECT * FROM ${relation}`)).rows.map((row) => [String(row[0]), String(row[1])]));
  const [base, cur] = await Promise.all([describe(baseline), describe(current)]);
  const names = only ?? [...base.keys()].filter((name) => cur.has(name));
  return names.map((name) => {
    const type = base.get(name);
    if (type === undefined || !cur.has(name))
      throw new Error(`${name} is not a column of ${type === undefined ? 'the baseline' : 'the current data'}`);
    return { name, kind: NUMERIC_TYPES.test(type) && NUMERIC_TYPES.test(cur.get(name)!) ? 'numeric' : 'categorical' };
  });
}

const valueOf = (feature: { name: string; kind: FeatureDrift['kind'] }) =>
  `CAST(${sqlIdentifier(feature.name)} AS ${feature.kind === 'numeric' ? 'DOUBLE' : 'VARCHAR'})`;

/** Time slices of the current data, for a trend: `slice` numbers a row of `current` from 0 to `slices` - 1. */
export interface Slices {
  slice: string;
  slices: number;
}

export async function featureDrift(
  db: DuckDb,
  baseline: string,
  current: string,
  feature: { name: string; kind: FeatureDrift['kind'] },
  trend?: Slices,
): Promise<FeatureDrift> {
  const column = sqlIdentifier(feature.name);
  const sides = `
    sides AS (
      SELECT ${valueOf(feature)} AS v, 1 AS b, 0 AS c, CAST(NULL AS BIGINT) AS s FROM ${baseline} WHERE ${column} IS NOT NULL
      UNION ALL
      SELECT ${valueOf(feature)}, 0, 1, ${trend ? `CAST(${trend.slice} AS BIGINT)` : 'NULL'} FROM ${current} WHERE ${column} IS NOT NULL
    ),
    totals AS (SELECT sum(b) AS nb, sum(c) AS nc FROM sides)`;
  const bins =
    feature.kind === 'numeric'
      ? `edges AS (SELECT quantile_cont(v, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS e FROM sides WHERE b = 1),
         binned AS (SELECT ${DECILE_BIN} AS bin, b, c, s FROM sides, edges)`
      : `binned AS (SELECT v AS bin, b, c, s FROM sides)`;
  const term = (c: string, b: string) =>
    `(greatest(${c}, ${PSI_FLOOR}) - greatest(${b}, ${PSI_FLOOR})) * ln(greatest(${c}, ${PSI_FLOOR}) / greatest(${b}, ${PSI_FLOOR}))`;
  // One pass bins both sides; the counts per bin and slice are few, and give the PSI of the whole
  // window (s = -1) and of each slice (against the whole baseline).
  const psiSql = `
    WITH ${sides}, ${bins},
    slice_counts AS (SELECT bin, s, sum(b) AS cb, sum(c) AS cc FROM binned GROUP BY bin, s),
    counts AS (SELECT bin, sum(cb) AS cb, sum(cc) AS cc FROM slice_counts GROUP BY bin),
    slice_totals AS (SELECT s, sum(cc) AS n FROM slice_counts WHERE s IS NOT NULL GROUP BY s),
    grid AS (SELECT slice_totals.s, n, counts.bin, counts.cb FROM slice_totals, counts)
    SELECT -1, sum(${term('cc / nc', 'cb / nb')}), any_value(nb), any_value(nc) FROM counts, totals
    UNION ALL
    SELECT grid.s, sum(${term('coalesce(slice_counts.cc, 0) / grid.n', 'grid.cb / nb')}), NULL, NULL
    FROM grid LEFT JOIN slice_counts ON slice_counts.s = grid.s AND slice_counts.bin = grid.bin, totals
    GROUP BY grid.s`;
  const results = (await db.query(psiSql)).rows;
  const [, psi, nb, nc] = results.find((row) => Number(row[0]) === -1) ?? [];
  const slicePsi = trend ? new Array<number>(trend.slices).fill(NaN) : undefined;
  for (const [s, value] of results)
    if (slicePsi && Number(s) >= 0 && Number(s) < slicePsi.length) slicePsi[Number(s)] = Number(value);
  let ks: number | null = null;
  if (feature.kind === 'numeric' && Number(nb) > 0 && Number(nc) > 0) {
    // Both distribution functions must move past all the ties of a value at once, as scipy's do.
    // With few distinct values, grouping them first is quickest; with mostly distinct ones, one
    // sort with a running sum, read at the last row of each value, is.
    const distinct = Number(
      (await db.query(`WITH ${sides} SELECT approx_count_distinct(v) FROM sides`)).rows[0]?.[0] ?? 0,
    );
    const ksSql =
      distinct * 10 < Number(nb) + Number(nc)
        ? `WITH ${sides},
           steps AS (SELECT v, sum(b) AS db, sum(c) AS dc FROM sides GROUP BY v),
           cdf AS (SELECT sum(db) OVER w AS fb, sum(dc) OVER w AS fc FROM steps WINDOW w AS (ORDER BY v ROWS UNBOUNDED PRECEDING))
           SELECT max(abs(fb / nb - fc / nc)) FROM cdf, totals`
        : `WITH ${sides},
           cdf AS (SELECT v, sum(b) OVER w AS fb, sum(c) OVER w AS fc, lead(v) OVER (ORDER BY v) AS next FROM sides WINDOW w AS (ORDER BY v ROWS UNBOUNDED PRECEDING))
           SELECT max(abs(fb / nb - fc / nc)) FROM cdf, totals WHERE next IS DISTINCT FROM v`;
    ks = Number((await db.query(ksSql)).rows[0]?.[0] ?? 0);
  }
  const value = Number(psi ?? 0);
  return {
    feature: feature.name,
    kind: feature.kind,
    psi: value,
    ks,
    severity: severityOf(value),
    baselineRows: Number(nb ?? 0),
    currentRows: Number(nc ?? 0),
    ...(slicePsi ? { trend: slicePsi } : {}),
  };
}

/** Drift of every feature, the most drifted first. */
export async function drift(
  db: DuckDb,
  baseline: string,
  current: string,
  only?: string[],
  trend?: Slices,
): Promise<FeatureDrift[]> {
  const features = await commonFeatures(db, baseline, current, only);
  const results: FeatureDrift[] = [];
  for (const feature of features) results.push(await featureDrift(db, baseline, current, feature, trend));
  return results.sort((a, b) => b.psi - a.psi);
}
