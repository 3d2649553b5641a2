// The profile of a dataset file, computed by DuckDB from a sample table read from the file (the
// whole file when it is small), so that a file larger than memory profiles in bounded memory,
// and a file thousands of columns wide in a few statements (see profileSql.ts for what is exact
// and what is sampled, and profileSampleSql.ts for the statements that cover many columns).
import { availableParallelism, totalmem } from 'node:os';
import { withDuckDb, type DuckDb } from './duckdb';
import { histogramBins, scaleCounts, type Bin } from './histogramBins';
import type { ColumnProfile, DatasetProfile } from './model';
import {
  BINS_TABLE,
  createBinsSql,
  dropLongTableSql,
  exactTopValuesSql,
  histogramSql,
  longTableSql,
  readHistograms,
  readSummaries,
  readTopValues,
  sampledTopValuesSql,
  summarySql,
  typeGroups,
  type SampleSummary,
  type TopValues,
} from './profileSampleSql';
import {
  batchStatsSql,
  countSampleSql,
  defined,
  distinctCount,
  planColumns,
  readBatchStats,
  sampleFraction,
  sampleSql,
  statsBatches,
  type ColumnPlan,
  type ColumnStats,
} from './profileSql';
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
      const fraction = sampleFraction(
        source.format === 'parquet' ? { rows: await countRows(db, relation), columns: plans.length } : source,
      );
      options.onProgress?.(`Reading ${source.path}`);
      const exact = await readRows(db, relation, plans, fraction, options.onProgress);
      options.onProgress?.('Computing quantiles, histograms and top values');
      const columns = await profileColumns(db, plans, exact);
      return { rows: exact.rows, columns, ...(fraction < 1 ? { sampledRows: Math.round(exact.rows * fraction) } : {}) };
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

/** The file's columns in their order: DESCRIBE gives its rows in order only while insertion order is kept (a wide file's came in chunks of 2,048, in any order). */
async function describe(db: DuckDb, relation: string) {
  await db.query('SET preserve_insertion_order = true');
  const { rows } = await db.query(`DESCRIBE SELECT * FROM ${relation}`);
  await db.query('SET preserve_insertion_order = false');
  return rows.map(([name, type]) => ({ name: String(name), type: String(type) }));
}

/** Parquet's row count, from its metadata. */
async function countRows(db: DuckDb, relation: string): Promise<number> {
  return Number((await db.query(`SELECT count(*) FROM ${relation}`)).rows[0][0]);
}

/** What is known of the whole file: its rows and, when it was sampled, each column's exact statistics. */
interface Exact {
  rows: number;
  stats?: ColumnStats[];
}

async function readRows(
  db: DuckDb,
  relation: string,
  plans: ColumnPlan[],
  fraction: number,
  onProgress: ProfileOptions['onProgress'],
): Promise<Exact> {
  await db.query(sampleSql(relation, plans, fraction));
  if (fraction === 1) return { rows: Number((await db.query(countSampleSql)).rows[0][0]) };
  let rows = 0;
  const stats: ColumnStats[] = [];
  for (const batch of statsBatches(plans)) {
    if (plans.length > batch.length)
      onProgress?.(`Counting columns ${batch[0].index + 1} to ${batch[batch.length - 1].index + 1} of ${plans.length}`);
    const row = (await db.query(batchStatsSql(relation, batch))).rows[0];
    rows = Number(row[0]);
    stats.push(...readBatchStats(row, batch));
  }
  return { rows, stats };
}

/** Each column's profile from the sample table, one type of column at a time. */
async function profileColumns(db: DuckDb, plans: ColumnPlan[], exact: Exact): Promise<ColumnProfile[]> {
  const columns: ColumnProfile[] = [];
  for (const group of typeGroups(plans)) {
    const numeric = group[0].numeric;
    await db.query(longTableSql(group));
    const summaries = readSummaries((await db.query(summarySql(numeric))).rows, numeric);
    const described = group.map((plan) => describeColumn(plan, exact, summaries.get(plan.index)));
    const counts = await histogramCounts(db, described);
    const ranked = described.filter((d) => d.ranked).map((d) => d.plan.index);
    const tops = ranked.length === 0 ? new Map<number, TopValues>() : await topValues(db, ranked, exact, described);
    for (const { plan, profile, bins, ranked } of described) {
      if (bins) {
        const binCounts = scaleCounts(
          bins.map((_, k) => counts.get(plan.index)?.get(k) ?? 0),
          exact.rows - profile.nulls,
        );
        columns[plan.index] = {
          ...profile,
          histogram: bins.map(({ start, end }, k) => ({ start, end, count: binCounts[k] })),
        };
      } else columns[plan.index] = ranked ? { ...profile, topValues: tops.get(plan.index) ?? [] } : profile;
    }
    await db.query(dropLongTableSql);
  }
  return columns;
}

interface DescribedColumn {
  plan: ColumnPlan;
  profile: ColumnProfile;
  /** A numeric column with a finite range gets a histogram... */
  bins?: Bin[];
  /** ...any other column with values in the sample, its top values. */
  ranked: boolean;
}

/** A column's exact statistics (from the file's pass, or from the sample when it is the whole file) and what its chart will be. */
function describeColumn(plan: ColumnPlan, exact: Exact, summary: SampleSummary | undefined): DescribedColumn {
  const stats: ColumnStats = exact.stats?.[plan.index] ?? {
    nonNull: summary?.sampled ?? 0,
    min: summary?.min,
    max: summary?.max,
    mean: summary?.mean,
    std: summary?.std,
  };
  const { nonNull, distinct: estimate, ...ranges } = stats;
  const distinct =
    estimate === undefined ? (summary?.distinct ?? 0) : summary ? distinctCount(estimate, summary.distinct) : estimate;
  const profile: ColumnProfile = defined({ ...plan.column, nulls: exact.rows - nonNull, distinct, ...ranges });
  if (!summary) return { plan, profile, ranked: false };
  const { min, max } = stats;
  if (
    plan.numeric &&
    typeof min === 'number' &&
    typeof max === 'number' &&
    Number.isFinite(min) &&
    Number.isFinite(max)
  ) {
    return {
      plan,
      profile: defined({ ...profile, quantiles: summary.quantiles }),
      bins: histogramBins(plan.column.type, min, max),
      ranked: false,
    };
  }
  return { plan, profile, ranked: true };
}

/** Sample counts by column position and bin, for the columns that have bins. */
async function histogramCounts(db: DuckDb, described: DescribedColumn[]): Promise<Map<number, Map<number, number>>> {
  const binned = described.filter((d) => d.bins);
  if (binned.length === 0) return new Map();
  await db.query(createBinsSql);
  const appender = await db.connection.createAppender(BINS_TABLE, null, 'temp');
  for (const { plan, bins } of binned) {
    bins!.forEach(({ start }, k) => {
      appender.appendInteger(plan.index);
      appender.appendInteger(k);
      appender.appendDouble(k === 0 ? -Infinity : start);
      appender.endRow();
    });
  }
  appender.closeSync();
  return readHistograms((await db.query(histogramSql)).rows);
}

async function topValues(
  db: DuckDb,
  columns: number[],
  exact: Exact,
  described: DescribedColumn[],
): Promise<Map<number, TopValues>> {
  const nonNull = new Map(described.map(({ plan, profile }) => [plan.index, exact.rows - profile.nulls]));
  const sql = exact.stats ? sampledTopValuesSql(columns) : exactTopValuesSql(columns);
  return readTopValues((await db.query(sql)).rows, (col) => nonNull.get(col)!);
}
