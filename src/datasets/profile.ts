// The profile of a dataset file, computed by DuckDB in one streaming pass, so a file larger than
// memory profiles in bounded memory (see profileSql.ts for what is exact and what is sampled).
import { availableParallelism, totalmem } from 'node:os';
import { withDuckDb, type DuckDb } from './duckdb';
import type { ColumnProfile, DatasetProfile } from './model';
import { distinctCount, passSql, planColumns, readStats, sampleFraction, sampleQuery, statsSql, type ColumnPlan, type ColumnStats } from './profileSql';
import { openSource, readDataset } from './source';

export interface ProfileOptions {
  signal?: AbortSignal;
  /** Called as each stage starts: the pass over the file takes nearly all the time. */
  onProgress?: (message: string) => void;
}

export async function profile(path: string, options: ProfileOptions = {}): Promise<DatasetProfile> {
  const source = await openSource(path);
  return withDuckDb(profileSettings(options.signal), (db) =>
    readDataset(source, async (relation) => {
      const plans = planColumns(await describe(db, relation));
      const fraction = sampleFraction(source.format === 'parquet' ? { rows: await countRows(db, relation), columns: plans.length } : source);
      options.onProgress?.(`Reading ${source.path}`);
      await db.query(passSql(relation, plans, fraction));
      const { rows, stats } = readStats((await db.query(statsSql(plans, fraction))).rows[0], plans, fraction);
      options.onProgress?.('Computing quantiles, histograms and top values');
      const columns: ColumnProfile[] = [];
      for (const [i, plan] of plans.entries()) columns.push(await columnProfile(db, plan, i, rows, stats[i], fraction === 1));
      return { rows, columns, ...(fraction < 1 ? { sampledRows: Math.round(rows * fraction) } : {}) };
    }),
  );
}

/**
 * All cores, a memory cap well below the machine's (the pass keeps little beyond the sample and
 * read buffers), and rows in any order: keeping file order costs time and nothing here needs it.
 */
function profileSettings(signal: AbortSignal | undefined) {
  const memoryMb = Math.max(256, Math.min(1024, Math.floor(totalmem() / 2 ** 20 / 4)));
  return { threads: availableParallelism(), memoryLimit: `${memoryMb}MB`, preserveInsertionOrder: false, signal };
}

async function describe(db: DuckDb, relation: string) {
  return (await db.query(`DESCRIBE SELECT * FROM ${relation}`)).rows.map(([name, type]) => ({ name: String(name), type: String(type) }));
}

/** Parquet's row count, from its metadata. */
async function countRows(db: DuckDb, relation: string): Promise<number> {
  return Number((await db.query(`SELECT count(*) FROM ${relation}`)).rows[0][0]);
}

async function columnProfile(db: DuckDb, plan: ColumnPlan, index: number, rows: number, stats: ColumnStats, whole: boolean): Promise<ColumnProfile> {
  const { nonNull, distinct = 0, sampled, ...ranges } = stats;
  const base = { ...plan.column, nulls: rows - nonNull, distinct, ...ranges };
  if (sampled === 0) return base;
  const query = sampleQuery(plan, index, stats, whole);
  const { sampleDistinct, ...fromSample } = query.read((await db.query(query.sql)).rows);
  return { ...base, ...fromSample, distinct: whole ? sampleDistinct : distinctCount(distinct, sampleDistinct) };
}
