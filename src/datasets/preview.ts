// One page of a dataset file, read without reading the rest: DuckDB streams the file and stops
// once the page is full. A CSV page deep in the file still scans the rows before it, in
// constant memory; Parquet skips to its row groups.
import { MlopsError } from '../shared/errors';
import { withDuckDb } from './duckdb';
import type { PreviewPage } from './model';
import { openSource, readDataset } from './source';

export const MAX_PAGE_ROWS = 10_000;

export async function preview(
  path: string,
  offset: number,
  limit: number,
  options: { signal?: AbortSignal } = {},
): Promise<PreviewPage> {
  if (!Number.isInteger(offset) || offset < 0)
    throw new MlopsError(`A preview starts at a whole row number from 0, not ${offset}.`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS)
    throw new MlopsError(`A preview page holds 1 to ${MAX_PAGE_ROWS} rows, not ${limit}.`);
  const source = await openSource(path);
  // Two threads: enough to decode one page, and rows come back in file order.
  return withDuckDb({ threads: 2, signal: options.signal }, (db) =>
    readDataset(source, async (relation) => {
      const { columns, rows } = await db.query(`SELECT * FROM ${relation} LIMIT ${limit} OFFSET ${offset}`);
      const page: PreviewPage = { columns, rows, offset };
      if (source.format === 'parquet')
        page.totalRows = Number((await db.query(`SELECT count(*) FROM ${relation}`)).rows[0][0]);
      return page;
    }),
  );
}
