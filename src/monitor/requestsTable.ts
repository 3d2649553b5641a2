// The `requests` lake table: the model servers' request logs, appended as they are read, and the
// input drift of a window of logged requests against the training data.
//
// A log line, as runtime/mlops_runtime/server.py writes it (the router or the reader may add an
// `instance`):
//   {"ts": "2026-11-27T21:45:32.123Z", "request_id": "...", "version": "3f2a9c1d0e7b",
//    "inputs": [{"age": 42, ...}] or [[42, ...]] or null, "predictions": [...] or null,
//    "latency_ms": 12.5, "status": 200, "error": "...", "variant": "candidate", "shadow": true}
// `variant` is the router group that sent the request (during a traffic split), and `shadow` marks
// an answer to a mirrored request, logged but never returned. A line with "kind": "feedback"
// records an outcome (POST /feedback) and goes to the `feedback` table instead:
//   {"ts": "...", "kind": "feedback", "request_id": "...", "label": "yes" or 1, "reward": 0.5}
// Lines go through DuckDB (a JSON Lines file read with explicit columns), not through JSON.parse
// (which only looks for the first few malformed lines to name them), so a million lines take
// seconds; a line already stored is skipped by its key.
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDuckDb, type DuckDb } from '../datasets/duckdb';
import { parquetFiles, versionNumbers } from '../datasets/lake/catalog';
import type { Lake, LakeTableVersion } from '../datasets/model';
import { openSource, readDataset } from '../datasets/source';
import { sqlIdentifier, sqlList, sqlString } from '../datasets/sql';
import { isJsonObject } from '../shared/checked';
import { MlopsError } from '../shared/errors';
import { drift } from './drift';
import type { DriftRow } from './model';

export const REQUESTS_TABLE = 'requests';

/** The table's columns, in order. `inputs` and `predictions` hold the JSON text of the line's lists. */
export const REQUEST_COLUMNS = [
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'request_id', type: 'VARCHAR' },
  { name: 'target', type: 'VARCHAR' },
  { name: 'deployment', type: 'VARCHAR' },
  { name: 'version', type: 'VARCHAR' },
  { name: 'instance', type: 'VARCHAR' },
  { name: 'status', type: 'INTEGER' },
  { name: 'latency_ms', type: 'DOUBLE' },
  { name: 'error', type: 'VARCHAR' },
  { name: 'rows', type: 'INTEGER' },
  { name: 'inputs', type: 'JSON' },
  { name: 'predictions', type: 'JSON' },
  { name: 'variant', type: 'VARCHAR' },
  { name: 'shadow', type: 'BOOLEAN' },
] as const;

export const FEEDBACK_TABLE = 'feedback';

/** The outcomes of requests, joined to them by request_id. `label` holds the JSON text of the label. */
export const FEEDBACK_COLUMNS = [
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'request_id', type: 'VARCHAR' },
  { name: 'target', type: 'VARCHAR' },
  { name: 'deployment', type: 'VARCHAR' },
  { name: 'instance', type: 'VARCHAR' },
  { name: 'label', type: 'JSON' },
  { name: 'reward', type: 'DOUBLE' },
] as const;

/** A line is stored once per deployment: a re-read of the log adds nothing. */
const KEY = ['target', 'deployment', 'request_id', 'version', 'ts'];
const FEEDBACK_KEY = ['target', 'deployment', 'request_id', 'ts'];
/** DuckDB's limit on one line (its default is 16 MB; the server's own limit on a request body is 50 MiB). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const EXAMPLES = 5;
/** The log's own timestamp format: UTC, milliseconds, Z. */
const TS_FORMAT = '%Y-%m-%dT%H:%M:%S.%gZ';

export interface RequestIngest {
  /** Lines given, blank ones left out. */
  lines: number;
  appended: number;
  /** Lines already in the table, or repeated in the batch. */
  duplicates: number;
  /** Feedback lines stored in the `feedback` table (those already there are counted in `duplicates`). */
  feedback: number;
  /** Lines that are not a request or feedback record (not JSON, no ts, request_id or status, inputs not a list); never stored. */
  malformed: number;
  /** The first few malformed lines: their 1-based number in `lines` and what is wrong. */
  malformedExamples: { line: number; reason: string }[];
  /** The table's version after the ingest; undefined when nothing was ever stored. */
  version?: LakeTableVersion;
}

/**
 * The UTC instant of a log timestamp: an ISO 8601 string with Z or an offset; one without either
 * is taken as UTC, whatever the machine's time zone.
 */
const TS_SQL = `CASE
  WHEN ends_with(ts, 'Z') THEN TRY_CAST(ts AS TIMESTAMP)
  WHEN regexp_matches(ts, '\\d:\\d\\d(:\\d\\d(\\.\\d*)?)?\\s*[+-]\\d\\d(:?\\d\\d)?$') THEN timezone('UTC', TRY_CAST(ts AS TIMESTAMPTZ))
  ELSE TRY_CAST(ts AS TIMESTAMP) END`;

/** Writes the lines as a JSON Lines file, in chunks (a million lines do not make one string). */
function writeLines(path: string, lines: string[]): void {
  const fd = openSync(path, 'w');
  try {
    const CHUNK = 20_000;
    for (let i = 0; i < lines.length; i += CHUNK) {
      const chunk = lines
        .slice(i, i + CHUNK)
        .map((line) => (/[\r\n]/.test(line) ? line.replace(/[\r\n]+/g, ' ') : line));
      writeSync(fd, `${chunk.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

/** What is wrong with a line, as the SELECT of `ingestRequestLines` judges it; undefined when nothing is. */
function lineProblem(line: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (!isJsonObject(value)) return 'not a JSON object';
  const record = value;
  if (typeof record.ts !== 'string' || Number.isNaN(Date.parse(record.ts)))
    return `no valid ts (${JSON.stringify(record.ts ?? null)})`;
  if (record.request_id === undefined || record.request_id === null) return 'no request_id';
  if (record.kind === 'feedback') {
    const hasReward = typeof record.reward === 'number' && Number.isFinite(record.reward);
    return (record.label === undefined || record.label === null) && !hasReward
      ? 'feedback without a label or a numeric reward'
      : undefined;
  }
  if (record.kind !== undefined && record.kind !== null && record.kind !== 'request')
    return `unknown kind ${JSON.stringify(record.kind)}`;
  if (
    record.status === null ||
    record.status === undefined ||
    record.status === '' ||
    !Number.isFinite(Number(record.status))
  )
    return `no numeric status (${JSON.stringify(record.status ?? null)})`;
  if (record.inputs !== undefined && record.inputs !== null && !Array.isArray(record.inputs))
    return 'inputs is not a list';
  return undefined;
}

export interface RequestIngestOptions {
  target: string;
  deployment: string;
  signal?: AbortSignal;
}

/**
 * Tables written before `variant` and `shadow` existed get them (as nulls) in a new version, so
 * that appends keep one schema.
 */
async function addSplitColumns(lake: Lake, signal?: AbortSignal): Promise<void> {
  const versions = versionNumbers(lake.root, REQUESTS_TABLE);
  if (versions.length === 0) return;
  const latest = (await lake.versions(REQUESTS_TABLE)).at(-1)!;
  const names = new Set(latest.schema.map((column) => column.name));
  const missing = REQUEST_COLUMNS.filter(({ name }) => !names.has(name));
  if (missing.length === 0) return;
  const columns = REQUEST_COLUMNS.map(({ name, type }) =>
    names.has(name) ? sqlIdentifier(name) : `CAST(NULL AS ${type}) AS ${sqlIdentifier(name)}`,
  );
  await lake.writeQuery(REQUESTS_TABLE, `SELECT ${columns.join(', ')} FROM ${REQUESTS_TABLE}`, {
    signal,
    allowSchemaChange: true,
    producedBy: `adding ${missing.map((c) => c.name).join(' and ')}`,
  });
}

/** Appends the lines of a JSON Lines file holding `lines` non-blank lines, and counts what was not stored. */
async function appendLog(
  lake: Lake,
  file: string,
  lines: number,
  options: RequestIngestOptions,
  mayHaveFeedback: boolean,
): Promise<RequestIngest> {
  await addSplitColumns(lake, options.signal);
  const columns = `{ts: 'VARCHAR', kind: 'VARCHAR', request_id: 'VARCHAR', version: 'VARCHAR', instance: 'VARCHAR', status: 'INTEGER', latency_ms: 'DOUBLE', error: 'VARCHAR', inputs: 'JSON', predictions: 'JSON', variant: 'VARCHAR', shadow: 'BOOLEAN', label: 'JSON', reward: 'DOUBLE'}`;
  // ignore_errors: a line that is not JSON reads as nulls, as does a field of the wrong type.
  const read = `read_json(${sqlString(file)}, format = 'newline_delimited', columns = ${columns}, ignore_errors = true, maximum_object_size = ${MAX_LINE_BYTES})`;
  const parsed = `(SELECT *, ${TS_SQL} AS parsed FROM ${read})`;
  const select = (definitions: readonly { name: string; type: string }[], values: Record<string, string>) =>
    definitions
      .map(({ name, type }) => `CAST(${values[name] ?? sqlIdentifier(name)} AS ${type}) AS ${sqlIdentifier(name)}`)
      .join(', ');
  const own = { ts: 'parsed', target: sqlString(options.target), deployment: sqlString(options.deployment) };
  const requests = `
    SELECT ${select(REQUEST_COLUMNS, { ...own, rows: 'coalesce(json_array_length(inputs), 0)' })}
    FROM ${parsed}
    WHERE parsed IS NOT NULL AND request_id IS NOT NULL AND coalesce(kind, 'request') = 'request' AND status IS NOT NULL AND (inputs IS NULL OR json_type(inputs) = 'ARRAY')`;
  const producedBy = `request log of ${options.target}/${options.deployment}`;
  const result = await lake.append(REQUESTS_TABLE, requests, { key: KEY, signal: options.signal, producedBy });
  const feedbackRows = `
    SELECT ${select(FEEDBACK_COLUMNS, own)}
    FROM ${parsed}
    WHERE parsed IS NOT NULL AND request_id IS NOT NULL AND kind = 'feedback' AND (label IS NOT NULL OR reward IS NOT NULL)`;
  // Skipped when no line can be feedback, so that a lake without outcomes gets no empty table.
  const feedback = mayHaveFeedback
    ? await lake.append(FEEDBACK_TABLE, feedbackRows, { key: FEEDBACK_KEY, signal: options.signal, producedBy })
    : { appended: 0, skipped: 0 };
  const stored = result.appended + feedback.appended;
  const duplicates = result.skipped + feedback.skipped;
  return {
    lines,
    appended: result.appended,
    duplicates,
    feedback: feedback.appended,
    malformed: lines - stored - duplicates,
    malformedExamples: [],
    version: result.version,
  };
}

/** The first few malformed lines; rare, so found again in JavaScript rather than marked on every line. */
function examples(lines: Iterable<string>, wanted: number): RequestIngest['malformedExamples'] {
  const found: RequestIngest['malformedExamples'] = [];
  let number = 0;
  for (const line of lines) {
    number++;
    if (found.length >= Math.min(EXAMPLES, wanted)) break;
    const reason = line.trim() === '' ? undefined : lineProblem(line);
    if (reason) found.push({ line: number, reason });
  }
  return found;
}

/**
 * Appends request log lines to the `requests` table as one new version. Lines already stored for
 * the deployment (same request_id, version and ts) are skipped, so reading a log again is harmless;
 * malformed lines are counted and named, and never stop the others.
 */
export async function ingestRequestLines(
  lake: Lake,
  lines: string[],
  options: RequestIngestOptions,
): Promise<RequestIngest> {
  options.signal?.throwIfAborted();
  const given = lines.filter((line) => line.trim() !== '');
  if (given.length === 0)
    return { lines: 0, appended: 0, duplicates: 0, feedback: 0, malformed: 0, malformedExamples: [] };
  const dir = mkdtempSync(join(tmpdir(), 'mlops-request-log-'));
  let result: RequestIngest;
  try {
    const file = join(dir, 'lines.jsonl');
    writeLines(file, given);
    result = await appendLog(
      lake,
      file,
      given.length,
      options,
      given.some((line) => line.includes('"feedback"')),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (result.malformed > 0) result.malformedExamples = examples(lines, result.malformed);
  return result;
}

/** The lines of a file, one at a time, without holding the file. */
function* fileLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    let carry = '';
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      const parts = (carry + buffer.toString('utf8', 0, read)).split('\n');
      carry = parts.pop()!;
      yield* parts;
    }
    if (carry) yield carry;
  } finally {
    closeSync(fd);
  }
}

/** Non-blank lines of a file, counted by scanning its bytes (a line's first byte is usually not a space). */
function countLines(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 22);
    let count = 0;
    let content = false;
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      for (let i = 0; i < read; i++) {
        const byte = buffer[i];
        if (byte === 10) {
          if (content) count++;
          content = false;
        } else if (!content && byte !== 32 && byte !== 9 && byte !== 13) {
          content = true;
          // Straight to the end of the line: its other bytes do not matter.
          const end = buffer.indexOf(10, i);
          i = (end === -1 || end >= read ? read : end) - 1;
        }
      }
    }
    return count + (content ? 1 : 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends a request log file (`requests.jsonl` or a rotated `requests.jsonl.N`, copied out of a
 * container) to the `requests` table, as `ingestRequestLines` appends lines.
 */
export async function ingestRequestFile(
  lake: Lake,
  file: string,
  options: RequestIngestOptions,
): Promise<RequestIngest> {
  options.signal?.throwIfAborted();
  const path = resolve(file);
  if (!existsSync(path)) throw new MlopsError(`The request log ${path} does not exist.`);
  const lines = countLines(path);
  if (lines === 0) return { lines: 0, appended: 0, duplicates: 0, feedback: 0, malformed: 0, malformedExamples: [] };
  const result = await appendLog(lake, path, lines, options, true);
  if (result.malformed > 0) result.malformedExamples = examples(fileLines(path), result.malformed);
  return result;
}

function hasTable(lake: Lake, table: string): boolean {
  return versionNumbers(lake.root, table).length > 0;
}

/** The Parquet files of the latest version of a lake table, as a DuckDB table expression. */
function latestRelation(lake: Lake, table: string): string {
  const version = versionNumbers(lake.root, table).at(-1);
  if (version === undefined) throw new MlopsError(`The lake ${lake.root} has no table ${table}.`);
  return `read_parquet(${sqlList(parquetFiles(lake.root, table, version))})`;
}

/**
 * The newest ts stored for the deployment, in the log's format (2026-11-27T21:45:32.123Z): what to
 * ask the model server for next (`GET /requests?since=`). Null when none is stored.
 */
export async function requestsCursor(lake: Lake, target: string, deployment: string): Promise<string | null> {
  if (!hasTable(lake, REQUESTS_TABLE)) return null;
  const result = await lake.query(
    `SELECT strftime(max(ts), ${sqlString(TS_FORMAT)}) FROM ${REQUESTS_TABLE} WHERE target = ${sqlString(target)} AND deployment = ${sqlString(deployment)}`,
  );
  const value = result.rows[0]?.[0];
  return typeof value === 'string' ? value : null;
}

export interface RequestDriftOptions {
  target: string;
  deployment: string;
  /** Only the requests this model version answered. */
  version?: string;
  /** The window; by default from the first to the last logged request. */
  from?: Date;
  to?: Date;
  /** The training data: a lake table (its latest version) or a dataset file (CSV, TSV, Parquet, JSON, JSONL). */
  baseline: { table?: string; file?: string };
  /** By default every column of the baseline that the logged inputs have. */
  features?: string[];
  /** Time slices of the window for each feature's trend (8). */
  slices?: number;
  signal?: AbortSignal;
}

export interface RequestDrift {
  /** The most drifted first. A trend's slice without requests is NaN (null in JSON). */
  rows: DriftRow[];
  baselineRows: number;
  /** Input rows of the logged requests in the window. */
  currentRows: number;
  /** Why `rows` is empty (no baseline, no logged requests), or which baseline columns the requests lack. */
  note?: string;
}

const sqlTimestamp = (date: Date) => `TIMESTAMP ${sqlString(date.toISOString().replace('T', ' ').replace('Z', ''))}`;

/** Loads the baseline into table `baseline`; returns why it cannot when it cannot. */
async function loadBaseline(
  db: DuckDb,
  lake: Lake,
  baseline: RequestDriftOptions['baseline'],
): Promise<string | undefined> {
  if (baseline.table) {
    if (!hasTable(lake, baseline.table)) return `No baseline: the lake ${lake.root} has no table ${baseline.table}.`;
    await db.query(`CREATE TABLE baseline AS SELECT * FROM ${latestRelation(lake, baseline.table)}`);
    return undefined;
  }
  if (baseline.file) {
    const path = resolve(baseline.file);
    if (!existsSync(path) || !statSync(path).isFile()) return `No baseline: the training data ${path} does not exist.`;
    const source = await openSource(path);
    await readDataset(source, (relation) => db.query(`CREATE OR REPLACE TABLE baseline AS SELECT * FROM ${relation}`));
    return undefined;
  }
  return 'No baseline: no training data is known for this deployment (a lake table or a dataset file).';
}

/**
 * Input drift of the requests a deployment logged in a window against its training data: the
 * `inputs` of every request flattened into one row per input row and one column per feature (a
 * member of a row object, or the position of a row list: features "0", "1", ...), typed as the
 * baseline's column (numbers as DOUBLE), then PSI and KS per feature as `mlops drift` measures
 * them, and the PSI of each time slice of the window.
 */
export async function requestDrift(lake: Lake, options: RequestDriftOptions): Promise<RequestDrift> {
  const slices = options.slices ?? 8;
  if (!Number.isInteger(slices) || slices < 1)
    throw new MlopsError(`The number of slices must be a whole number above 0, not ${slices}.`);
  const db = await openDuckDb({ preserveInsertionOrder: false, signal: options.signal });
  try {
    await db.query(`SET TimeZone = 'UTC'`);
    const notes: string[] = [];
    const baselineNote = await loadBaseline(db, lake, options.baseline);
    if (baselineNote) notes.push(baselineNote);

    const window = [
      options.from ? `ts >= ${sqlTimestamp(options.from)}` : '',
      options.to ? `ts <= ${sqlTimestamp(options.to)}` : '',
    ].filter(Boolean);
    const requests = hasTable(lake, REQUESTS_TABLE) ? latestRelation(lake, REQUESTS_TABLE) : undefined;
    // A shadow's answers repeat inputs already counted from production.
    const shadow =
      requests && (await lake.versions(REQUESTS_TABLE)).at(-1)!.schema.some((column) => column.name === 'shadow')
        ? ['shadow IS NOT TRUE']
        : [];
    const where = [
      `target = ${sqlString(options.target)}`,
      `deployment = ${sqlString(options.deployment)}`,
      ...(options.version ? [`version = ${sqlString(options.version)}`] : []),
      ...window,
      '"rows" > 0',
      ...shadow,
    ];
    const logged = requests
      ? Number(
          (await db.query(`SELECT coalesce(sum("rows"), 0) FROM ${requests} WHERE ${where.join(' AND ')}`))
            .rows[0]?.[0] ?? 0,
        )
      : 0;
    if (logged === 0) {
      const between =
        options.from || options.to
          ? ` between ${options.from?.toISOString() ?? 'the first'} and ${options.to?.toISOString() ?? 'the last'}`
          : '';
      notes.push(
        `No logged requests: ${options.target}/${options.deployment}${options.version ? ` version ${options.version}` : ''} has no request with inputs in the lake${between}.`,
      );
    }
    if (notes.length) {
      const baselineRows = baselineNote
        ? 0
        : Number((await db.query('SELECT count(*) FROM baseline')).rows[0]?.[0] ?? 0);
      return { rows: [], baselineRows, currentRows: logged, note: notes.join(' ') };
    }

    const types = new Map((await db.query('DESCRIBE baseline')).rows.map((row) => [String(row[0]), String(row[1])]));
    for (const feature of options.features ?? []) {
      if (!types.has(feature))
        throw new MlopsError(
          `${feature} is not a column of the baseline.`,
          `Its columns: ${[...types.keys()].join(', ')}.`,
        );
    }
    const wanted = options.features ?? [...types.keys()];
    const numeric = (type: string) =>
      /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i.test(
        type,
      );
    const typeOf = (name: string) => (numeric(types.get(name)!) ? 'DOUBLE' : 'VARCHAR');
    // One JSON parse per request: json_transform types every member as the baseline's column (a
    // value that is not a number is null for a numeric feature). The stored JSON is minified, so
    // rows sent as lists start with [[; their features are named by position.
    const shape = JSON.stringify([Object.fromEntries(wanted.map((name) => [name, typeOf(name)]))]);
    const positional = (name: string) =>
      /^(0|[1-9][0-9]*)$/.test(name)
        ? `TRY_CAST(__mlops_r[${Number(name) + 1}] AS ${typeOf(name)})`
        : `CAST(NULL AS ${typeOf(name)})`;
    await db.query(`
      CREATE TABLE current AS
      WITH req AS (SELECT epoch_ms(ts) AS __mlops_ms, CAST(inputs AS VARCHAR) AS inputs FROM ${requests} WHERE ${where.join(' AND ')}),
      objects AS (SELECT __mlops_ms, unnest(json_transform(inputs, ${sqlString(shape)})) AS __mlops_r FROM req WHERE NOT starts_with(inputs, '[[')),
      lists AS (SELECT __mlops_ms, unnest(json_transform(inputs, '[["VARCHAR"]]')) AS __mlops_r FROM req WHERE starts_with(inputs, '[['))
      SELECT __mlops_ms, ${wanted.map((name) => `__mlops_r[${sqlString(name)}] AS ${sqlIdentifier(name)}`).join(', ')} FROM objects
      UNION ALL
      SELECT __mlops_ms, ${wanted.map((name) => `${positional(name)} AS ${sqlIdentifier(name)}`).join(', ')} FROM lists`);
    const counts = (
      await db.query(
        `SELECT count(*), min(__mlops_ms), max(__mlops_ms), ${wanted.map((name) => `count(${sqlIdentifier(name)})`).join(', ')} FROM current`,
      )
    ).rows[0];
    const [currentRows, firstMs, lastMs] = counts.slice(0, 3).map(Number);
    const present = wanted.filter((_, i) => Number(counts[i + 3]) > 0);
    const missing = wanted.filter((name) => !present.includes(name));
    const baselineRows = Number((await db.query('SELECT count(*) FROM baseline')).rows[0]?.[0] ?? 0);
    if (present.length === 0) {
      return {
        rows: [],
        baselineRows,
        currentRows,
        note: `The logged inputs have none of the baseline's columns (${wanted.join(', ')}); rows sent as lists name their features 0, 1, ...`,
      };
    }
    const start = options.from?.getTime() ?? firstMs;
    const end = options.to?.getTime() ?? lastMs + 1;
    const span = Math.max(end - start, 1);
    const slice = `least(greatest(CAST(floor((__mlops_ms - ${start}) * ${slices} / ${span}) AS BIGINT), 0), ${slices - 1})`;
    const results = await drift(db, 'baseline', 'current', present, { slice, slices });
    const rows: DriftRow[] = results.map(({ feature, kind, psi, ks, severity, trend }) => ({
      feature,
      kind,
      psi,
      ks,
      severity,
      trend,
    }));
    return {
      rows,
      baselineRows,
      currentRows,
      ...(missing.length ? { note: `Not in the logged inputs, so not measured: ${missing.join(', ')}.` } : {}),
    };
  } catch (error) {
    if ((error as Error)?.name === 'AbortError')
      throw new MlopsError('Measuring drift was cancelled.', undefined, { cause: error });
    throw error;
  } finally {
    db.close();
  }
}
