// The mixed-type CSV the data benchmarks read (lake ingest, profiling against pandas): 10 million
// rows, about 1 GB, written by DuckDB and cached outside the repository. Deterministic: the
// same version string always means the same bytes. Columns:
//   id BIGINT, customer_id BIGINT, amount DOUBLE, quantity BIGINT, product VARCHAR (1 in 17 null),
//   category VARCHAR (8 values), day DATE, returned BOOLEAN, score DOUBLE (1 in 11 null),
//   note VARCHAR (32 hex characters)
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, say } from '../../scripts/lib/setup.mjs';
import { openDuckDb } from '../../src/datasets/duckdb';
import { sqlString } from '../../src/datasets/sql';

/** Bump when the generator changes, so a stale cached file is not used. */
export const MIXED_CSV_VERSION = '1';
/** MLOPS_BENCH_CSV_ROWS makes a smaller file, to try a suite quickly. */
export const MIXED_CSV_ROWS = Number(process.env.MLOPS_BENCH_CSV_ROWS) || 10_000_000;

export async function writeMixedCsv(path: string, rows: number): Promise<void> {
  const session = await openDuckDb({ tempDirectory: join(cacheDir(), 'duckdb-tmp') });
  try {
    await session.connection.run(`
      COPY (
        SELECT
          range AS id,
          (range * 7919) % 100000 AS customer_id,
          ((range * 2654435761) % 100000) / 100.0 AS amount,
          1 + range % 12 AS quantity,
          CASE WHEN range % 17 = 0 THEN NULL ELSE 'product_' || (range * 31) % 5000 END AS product,
          ['books', 'garden', 'toys', 'food', 'music', 'sports', 'tools', 'beauty'][1 + range % 8] AS category,
          DATE '2020-01-01' + (range % 1500)::INTEGER AS day,
          range % 3 = 0 AS returned,
          CASE WHEN range % 11 = 0 THEN NULL ELSE ((range * 31) % 1000) / 10.0 END AS score,
          md5(range::VARCHAR) AS note
        FROM range(${rows})
      ) TO ${sqlString(path)} (HEADER)`);
  } finally {
    session.close();
  }
}

/** The cached CSV's path; builds it the first time (a minute or so). */
export async function mixedCsv(): Promise<string> {
  const dir = join(cacheDir(), `bench-data-${MIXED_CSV_VERSION}`);
  const path = join(dir, `mixed-${MIXED_CSV_ROWS}.csv`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  say(
    `building the benchmark CSV ${path}: ${MIXED_CSV_ROWS.toLocaleString('en')} rows of mixed types with DuckDB (cached for later runs)`,
  );
  // Written aside and renamed, so an interrupted build is never taken for the file.
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  await writeMixedCsv(partial, MIXED_CSV_ROWS);
  renameSync(partial, path);
  return path;
}
