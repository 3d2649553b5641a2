// Data for the lake tests, written by DuckDB itself into the test's temp folder.
import { openDuckDb } from '../../src/datasets/duckdb';
import { sqlString } from '../../src/datasets/sql';

/** `rows` rows of (id BIGINT, x DOUBLE, name VARCHAR, day DATE), with `first` as the first id. */
export async function writeEventsCsv(path: string, rows: number, first = 0): Promise<void> {
  const session = await openDuckDb();
  try {
    await session.connection.run(
      `COPY (SELECT range AS id, range * 0.5 AS x, 'name_' || range AS name, DATE '2020-01-01' + (range % 1000)::INTEGER AS day
             FROM range(${first}, ${first + rows})) TO ${sqlString(path)} (HEADER)`,
    );
  } finally {
    session.close();
  }
}
