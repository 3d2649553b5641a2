// The rows a back-test replays, with their labels: a dataset file (CSV, TSV, Parquet, JSON, JSONL)
// or a lake table with a label column, or the lake's `requests` table, whose logged inputs are
// labelled by the `feedback` table (joined on request_id; a request without feedback is skipped).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openDuckDb } from '../../datasets/duckdb';
import { versionNumbers } from '../../datasets/lake/catalog';
import { defaultLakeRoot, openLake } from '../../datasets/lake/duckdbLake';
import { openSource, readDataset } from '../../datasets/source';
import { sqlIdentifier } from '../../datasets/sql';
import * as v from 'valibot';
import { checked } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { FEEDBACK_TABLE, REQUESTS_TABLE } from '../../monitor/requestsTable';

export interface ReplayData {
  /** The file, or `lake:TABLE`. */
  source: string;
  columns: string[];
  /** One value per column, label left out. */
  rows: unknown[][];
  labels: unknown[];
  skipped: number;
  skippedReason: string | null;
}

export interface ReplayDataOptions {
  /** A file path, `lake:TABLE`, or the name of a table in the workspace's lake. */
  data: string;
  label: string;
  workspace: string;
  /** The lake's folder; by default .mlops/lake in the workspace. */
  lakeRoot?: string;
  /** At most this many rows, the first ones. */
  limit?: number;
  /** This many rows picked at random (seeded, so a re-run replays the same), in their order. */
  sample?: number;
  signal?: AbortSignal;
}

/** Where `--data` points: a file when one exists, otherwise a lake table. */
export function dataLocation(
  data: string,
  workspace: string,
  lakeRoot = defaultLakeRoot(workspace),
): { file: string } | { table: string; lakeRoot: string } {
  if (data.startsWith('lake:')) return { table: data.slice('lake:'.length), lakeRoot };
  const file = resolve(workspace, data);
  if (existsSync(file)) return { file };
  if (versionNumbers(lakeRoot, data).length) return { table: data, lakeRoot };
  throw new MlopsError(
    `${data} is neither a dataset file nor a table of the lake ${lakeRoot}.`,
    'Give a CSV, TSV, Parquet, JSON or JSONL file, or lake:TABLE.',
  );
}

export async function loadReplayData(options: ReplayDataOptions): Promise<ReplayData> {
  const where = dataLocation(options.data, options.workspace, options.lakeRoot);
  const data =
    'file' in where
      ? await fromFile(where.file, options)
      : where.table === REQUESTS_TABLE
        ? await fromRequests(where.lakeRoot, options)
        : await fromTable(where.table, where.lakeRoot, options);
  return options.sample !== undefined && options.sample < data.rows.length ? sampled(data, options.sample) : data;
}

/** The feedback table's columns that say which request an outcome belongs to, never a label. */
const FEEDBACK_KEYS = ['ts', 'request_id', 'target', 'deployment', 'instance'];

/**
 * The columns a label can come from: a file's or a table's columns, or, for the `requests` table,
 * the columns of the feedback that labels it.
 */
export async function dataColumns(data: string, workspace: string, lakeRoot?: string): Promise<string[]> {
  const where = dataLocation(data, workspace, lakeRoot);
  if ('file' in where) {
    const source = await openSource(where.file);
    const db = await openDuckDb();
    try {
      return (await readDataset(source, (relation) => db.query(`SELECT * FROM ${relation} LIMIT 0`))).columns.map(
        (c) => c.name,
      );
    } finally {
      db.close();
    }
  }
  const table = where.table === REQUESTS_TABLE ? FEEDBACK_TABLE : where.table;
  if (!versionNumbers(where.lakeRoot, table).length)
    throw new MlopsError(`The lake ${where.lakeRoot} has no ${table} table.`);
  const lake = openLake(where.lakeRoot);
  try {
    const columns = (await lake.query(`SELECT * FROM ${sqlIdentifier(table)} LIMIT 0`)).columns.map((c) => c.name);
    return table === FEEDBACK_TABLE ? columns.filter((c) => !FEEDBACK_KEYS.includes(c)) : columns;
  } finally {
    await lake.close();
  }
}

const limitClause = (limit?: number) => (limit === undefined ? '' : ` LIMIT ${limit}`);

/** Splits the label column out; rows whose label is null are skipped. */
function labelled(source: string, columns: string[], table: unknown[][], label: string): ReplayData {
  const at = columns.indexOf(label);
  if (at < 0)
    throw new MlopsError(
      `${source} has no column '${label}' to take the labels from; its columns are ${columns.join(', ')}.`,
    );
  const rows: unknown[][] = [];
  const labels: unknown[] = [];
  for (const row of table) {
    if (row[at] === null || row[at] === undefined) continue;
    labels.push(row[at]);
    rows.push(row.filter((_, i) => i !== at));
  }
  const skipped = table.length - rows.length;
  return {
    source,
    columns: columns.filter((_, i) => i !== at),
    rows,
    labels,
    skipped,
    skippedReason: skipped ? `${skipped} rows have no ${label}` : null,
  };
}

async function fromFile(file: string, options: ReplayDataOptions): Promise<ReplayData> {
  const source = await openSource(file);
  const db = await openDuckDb({ ...(options.signal ? { signal: options.signal } : {}) });
  try {
    const result = await readDataset(source, (relation) =>
      db.query(`SELECT * FROM ${relation}${limitClause(options.limit)}`),
    );
    return labelled(
      file,
      result.columns.map((c) => c.name),
      result.rows,
      options.label,
    );
  } finally {
    db.close();
  }
}

/** Every row; the lake's query otherwise stops at its default limit. */
const ALL_ROWS = 50_000_000;

async function fromTable(table: string, lakeRoot: string, options: ReplayDataOptions): Promise<ReplayData> {
  if (!versionNumbers(lakeRoot, table).length) throw new MlopsError(`The lake ${lakeRoot} has no table ${table}.`);
  const lake = openLake(lakeRoot);
  try {
    const result = await lake.query(`SELECT * FROM ${sqlIdentifier(table)}${limitClause(options.limit)}`, {
      limit: ALL_ROWS,
    });
    return labelled(
      `lake:${table}`,
      result.columns.map((c) => c.name),
      result.rows,
      options.label,
    );
  } finally {
    await lake.close();
  }
}

/** A logged request's inputs: rows of named columns, or positional rows. */
const LoggedInputs = v.array(v.union([v.array(v.unknown()), v.record(v.string(), v.unknown())]));

/** A JSON column's value; a label written as plain text stays that text. */
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/**
 * Each logged request's input rows (a request logged twice, as a mirrored one is, counts once),
 * labelled by its latest feedback: a list gives one label per input row, a single value labels a
 * request of one row. Requests without usable feedback are skipped and counted.
 */
async function fromRequests(lakeRoot: string, options: ReplayDataOptions): Promise<ReplayData> {
  const source = `lake:${REQUESTS_TABLE}`;
  if (!versionNumbers(lakeRoot, REQUESTS_TABLE).length)
    throw new MlopsError(
      `The lake ${lakeRoot} has no ${REQUESTS_TABLE} table.`,
      'Monitor a deployment first: its request logs are appended there.',
    );
  if (!versionNumbers(lakeRoot, FEEDBACK_TABLE).length) {
    throw new MlopsError(
      `The lake ${lakeRoot} has no ${FEEDBACK_TABLE} table: no logged request has a label.`,
      'Send outcomes with POST /feedback {request_id, label}, then monitor the deployment to collect them.',
    );
  }
  const lake = openLake(lakeRoot);
  try {
    const feedbackColumns = (await lake.query(`SELECT * FROM ${FEEDBACK_TABLE} LIMIT 0`)).columns.map((c) => c.name);
    if (!feedbackColumns.includes(options.label))
      throw new MlopsError(
        `The ${FEEDBACK_TABLE} table of ${lakeRoot} has no column '${options.label}' to take the labels from; its columns are ${feedbackColumns.join(', ')}.`,
      );
    const label = sqlIdentifier(options.label);
    const result = await lake.query(
      `SELECT r.inputs, f.label FROM (
         SELECT target, deployment, request_id, inputs, ts FROM ${REQUESTS_TABLE} WHERE status = 200 AND inputs IS NOT NULL
         QUALIFY row_number() OVER (PARTITION BY target, deployment, request_id ORDER BY ts) = 1) r
       LEFT JOIN (SELECT target, deployment, request_id, arg_max(${label}, ts) AS label FROM ${FEEDBACK_TABLE} WHERE ${label} IS NOT NULL GROUP BY ALL) f
       USING (target, deployment, request_id) ORDER BY r.ts, r.request_id`,
      { limit: ALL_ROWS },
    );
    const records: Record<string, unknown>[] = [];
    const positional: unknown[][] = [];
    const labels: unknown[] = [];
    let skipped = 0;
    for (const [index, [inputsText, labelText]] of result.rows.entries()) {
      const inputs = checked(
        LoggedInputs,
        parsed(inputsText),
        `${source} (request ${index + 1})`,
        'a list of input rows',
      );
      const label = labelText === null ? undefined : parsed(labelText);
      const perRow =
        Array.isArray(label) && label.length === inputs.length
          ? label
          : inputs.length === 1 && label !== undefined && label !== null && !Array.isArray(label)
            ? [label]
            : undefined;
      if (!perRow) {
        skipped++;
        continue;
      }
      inputs.forEach((row, i) => {
        if (Array.isArray(row)) positional.push(row);
        else records.push(row);
        labels.push(perRow[i]);
      });
    }
    if (records.length && positional.length)
      throw new MlopsError(
        `${source} mixes requests of named columns and of positional rows; replay one kind (filter the table into another).`,
      );
    const columns = records.length
      ? [...new Set(records.flatMap((r) => Object.keys(r)))]
      : Array.from({ length: positional[0]?.length ?? 0 }, (_, i) => String(i));
    const rows = records.length ? records.map((r) => columns.map((c) => r[c] ?? null)) : positional;
    const kept = options.limit === undefined ? rows.length : Math.min(options.limit, rows.length);
    return {
      source,
      columns,
      rows: rows.slice(0, kept),
      labels: labels.slice(0, kept),
      skipped,
      skippedReason: skipped ? `${skipped} logged requests have no usable feedback ${options.label}` : null,
    };
  } finally {
    await lake.close();
  }
}

/** `count` rows picked by a seeded generator (mulberry32), kept in their order. */
function sampled(data: ReplayData, count: number): ReplayData {
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const indices = data.rows.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  const picked = indices.slice(0, count).sort((a, b) => a - b);
  return { ...data, rows: picked.map((i) => data.rows[i]), labels: picked.map((i) => data.labels[i]) };
}
