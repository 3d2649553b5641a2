// Output drift from the logged requests: the predictions of each version against those of the
// version that answered most in the window (are two versions answering alike?), and the window's
// predictions against those of the window before it (have the answers moved?). PSI (and KS for
// numeric predictions) as input drift measures them, in DuckDB over the `requests` table.
import { openDuckDb } from '../datasets/duckdb';
import type { Lake } from '../datasets/model';
import { parquetFiles, versionNumbers } from '../datasets/lake/catalog';
import { sqlList, sqlString } from '../datasets/sql';
import { featureDrift } from './drift';
import type { OutputDrift } from './model';
import { REQUESTS_TABLE } from './requestsTable';

const sqlTimestamp = (at: number) =>
  `TIMESTAMP ${sqlString(new Date(at).toISOString().replace('T', ' ').replace('Z', ''))}`;

/** Too few predictions make PSI noise: below this a comparison is left out. */
export const MIN_PREDICTIONS = 20;

export async function outputDrift(
  lake: Lake,
  options: { target: string; deployment: string; from: number; to: number },
): Promise<OutputDrift[]> {
  const version = versionNumbers(lake.root, REQUESTS_TABLE).at(-1);
  if (version === undefined) return [];
  const db = await openDuckDb({ preserveInsertionOrder: false });
  try {
    const previousFrom = options.from - (options.to - options.from);
    // One row per prediction of the deployment, over this window and the one before it.
    await db.query(`
      CREATE TABLE answers AS
      SELECT ts, version, unnest(CAST(predictions AS JSON[])) AS answer
      FROM read_parquet(${sqlList(parquetFiles(lake.root, REQUESTS_TABLE, version))})
      WHERE target = ${sqlString(options.target)} AND deployment = ${sqlString(options.deployment)}
        AND predictions IS NOT NULL AND ts > ${sqlTimestamp(previousFrom)} AND ts <= ${sqlTimestamp(options.to)}`);
    const numeric = Number(
      (
        await db.query(
          `SELECT count(*) FILTER (WHERE json_type(answer) NOT IN ('DOUBLE', 'BIGINT', 'UBIGINT')) = 0 AND count(*) > 0 FROM answers`,
        )
      ).rows[0]?.[0],
    );
    const value = numeric ? 'CAST(answer AS DOUBLE)' : "CAST(answer ->> '$' AS VARCHAR)";
    const kind = numeric ? 'numeric' : 'categorical';
    const now = `ts > ${sqlTimestamp(options.from)}`;
    const counts = (
      await db.query(
        `SELECT version, count(*) AS n FROM answers WHERE ${now} GROUP BY version ORDER BY n DESC, version`,
      )
    ).rows.map(([v, n]) => ({ version: String(v), rows: Number(n) }));
    const results: OutputDrift[] = [];
    const compare = async (
      comparison: OutputDrift['comparison'],
      reference: string,
      current: string,
      referenceWhere: string,
      currentWhere: string,
    ) => {
      await db.query(
        `CREATE OR REPLACE TABLE reference AS SELECT ${value} AS prediction FROM answers WHERE ${referenceWhere}`,
      );
      await db.query(
        `CREATE OR REPLACE TABLE current AS SELECT ${value} AS prediction FROM answers WHERE ${currentWhere}`,
      );
      const drift = await featureDrift(db, 'reference', 'current', { name: 'prediction', kind });
      if (drift.baselineRows < MIN_PREDICTIONS || drift.currentRows < MIN_PREDICTIONS) return;
      results.push({
        comparison,
        reference,
        current,
        kind,
        psi: drift.psi,
        ks: drift.ks,
        severity: drift.severity,
        referenceRows: drift.baselineRows,
        currentRows: drift.currentRows,
      });
    };
    const [main, ...others] = counts;
    for (const other of others)
      await compare(
        'versions',
        main.version,
        other.version,
        `${now} AND version = ${sqlString(main.version)}`,
        `${now} AND version = ${sqlString(other.version)}`,
      );
    await compare('window', 'the window before', 'this window', `NOT (${now})`, now);
    return results;
  } finally {
    db.close();
  }
}
