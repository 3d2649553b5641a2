// A dataset file's summary: its columns with DuckDB's types, its rows and its size. Parquet
// answers from its footer at once; a text file's columns come from DuckDB's sniffer (the first
// 20,480 rows) and its rows from one count through the file, about a second per gigabyte.
import { resolve } from 'node:path';
import { MlopsError } from '../shared/errors';
import { withDuckDb } from './duckdb';
import type { DatasetSummary } from './model';
import { formatOf, openSource, readDataset } from './source';

export async function inspect(path: string, options: { signal?: AbortSignal } = {}): Promise<DatasetSummary> {
  const source = await openSource(path);
  return withDuckDb({ signal: options.signal }, (db) =>
    readDataset(source, async (relation) => {
      const described = await db.query(`DESCRIBE SELECT * FROM ${relation}`);
      const counted = await db.query(`SELECT count(*) FROM ${relation}`);
      return {
        path: source.path,
        format: source.format,
        rows: Number(counted.rows[0][0]),
        columns: described.rows.map(([name, type]) => ({ name: String(name), type: String(type) })),
        bytes: source.bytes,
      };
    }),
  );
}

/** Like inspect, but a file that cannot be read is summarized with its problem instead of throwing. */
export async function summarize(
  file: { path: string; bytes: number },
  options: { signal?: AbortSignal } = {},
): Promise<DatasetSummary> {
  try {
    return await inspect(file.path, options);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    return {
      path: resolve(file.path),
      format: formatOf(file.path)!,
      rows: 0,
      columns: [],
      bytes: file.bytes,
      problem: error.message,
    };
  }
}
