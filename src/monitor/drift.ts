// Input drift between a baseline (the training data) and current data (logged requests), per
// feature, computed in DuckDB so a million rows take a moment and no row crosses into
// JavaScript:
// - PSI over ten bins cut at the baseline's deciles (numeric) or over the categories
//   (categorical), with empty bins floored at 1e-6 so the logarithm stays finite;
// - for numeric features, the two-sample Kolmogorov–Smirnov statistic, the largest gap between
//   the two empirical distribution functions (what scipy.stats.ks_2samp reports as its statistic).
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
}

const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i;

/** The decile bin of v: how many of the nine edges lie below it (numpy's searchsorted, side left). */
const DECILE_BIN = `CASE ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => `WHEN v <= e[${k}] THEN ${k - 1}`).join(' ')} ELSE 9 END`;

export function severityOf(psi: number): FeatureDrift['severity'] {
  return psi > PSI_MAJOR ? 'major' : psi > PSI_MODERATE ? 'moderate' : 'none';
}

/**
 * The features both relations have (or those named), numeric when the baseline's type is a
 * number. `baseline` and `current` are table expressions (read_parquet(...), a view name).
 */
export async function commonFeatures(db: DuckDb, baseline: string, current: string, only?: string[]): Promise<{ name: string; kind: FeatureDrift['kind'] }[]> {
  const describe = async (relation: string) => new Map((await db.query(`DESCRIBE SELECT * FROM ${relation}`)).rows.map((row) => [String(row[0]), String(row[1])]));
  const [base, cur] = await Promise.all([describe(baseline), describe(current)]);
  const names = only ?? [...base.keys()].filter((name) => cur.has(name));
  return names.map((name) => {
    const type = base.get(name);
    if (type === undefined || !cur.has(name)) throw new Error(`${name} is not a column of ${type === undefined ? 'the baseline' : 'the current data'}`);
    return { name, kind: NUMERIC_TYPES.test(type) && NUMERIC_TYPES.test(cur.get(name)!) ? 'numeric' : 'categorical' };
  });
}

export async function featureDrift(db: DuckDb, baseline: string, current: string, feature: { name: string; kind: FeatureDrift['kind'] }): Promise<FeatureDrift> {
  const column = sqlIdentifier(feature.name);
  const sides = `
    sides AS (
      SELECT ${feature.kind === 'numeric' ? `CAST(${column} AS DOUBLE)` : `CAST(${column} AS VARCHAR)`} AS v, 1 AS b, 0 AS c FROM ${baseline} WHERE ${column} IS NOT NULL
      UNION ALL
      SELECT ${feature.kind === 'numeric' ? `CAST(${column} AS DOUBLE)` : `CAST(${column} AS VARCHAR)`}, 0, 1 FROM ${current} WHERE ${column} IS NOT NULL
    ),
    totals AS (SELECT sum(b) AS nb, sum(c) AS nc FROM sides)`;
  const bins =
    feature.kind === 'numeric'
      ? `edges AS (SELECT quantile_cont(v, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS e FROM sides WHERE b = 1),
         binned AS (SELECT ${DECILE_BIN} AS bin, b, c FROM sides, edges)`
      : `binned AS (SELECT v AS bin, b, c FROM sides)`;
  const psiSql = `
    WITH ${sides}, ${bins},
    counts AS (SELECT bin, sum(b) AS cb, sum(c) AS cc FROM binned GROUP BY bin)
    SELECT
      sum((greatest(cc / nc, ${PSI_FLOOR}) - greatest(cb / nb, ${PSI_FLOOR})) * ln(greatest(cc / nc, ${PSI_FLOOR}) / greatest(cb / nb, ${PSI_FLOOR}))),
      any_value(nb), any_value(nc)
    FROM counts, totals`;
  const [psi, nb, nc] = (await db.query(psiSql)).rows[0] ?? [];
  let ks: number | null = null;
  if (feature.kind === 'numeric' && Number(nb) > 0 && Number(nc) > 0) {
    // Both distribution functions must move past all the ties of a value at once, as scipy's do.
    // With few distinct values, grouping them first is quickest; with mostly distinct ones, one
    // sort with a running sum, read at the last row of each value, is.
    const distinct = Number((await db.query(`WITH ${sides} SELECT approx_count_distinct(v) FROM sides`)).rows[0]?.[0] ?? 0);
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
  return { feature: feature.name, kind: feature.kind, psi: value, ks, severity: severityOf(value), baselineRows: Number(nb ?? 0), currentRows: Number(nc ?? 0) };
}

/** Drift of every feature, the most drifted first. */
export async function drift(db: DuckDb, baseline: string, current: string, only?: string[]): Promise<FeatureDrift[]> {
  const features = await commonFeatures(db, baseline, current, only);
  const results: FeatureDrift[] = [];
  for (const feature of features) results.push(await featureDrift(db, baseline, current, feature));
  return results.sort((a, b) => b.psi - a.psi);
}
