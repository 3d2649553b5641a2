// An in-memory DuckDB for reading dataset files and for the lake. The native module loads on first
// use, never at activation, and each operation gets a fresh instance: a fatal error (DuckDB
// invalidates the database on some read errors) never outlives the operation, no file is ever held
// open, and no process holds a lock on the lake.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBResultReader, DuckDBValue, DuckDBValueConverter, Json } from '@duckdb/node-api';
import type { Column } from './model';

type DuckDbApi = typeof import('@duckdb/node-api');

let api: DuckDbApi | undefined;

function duckdbApi(): DuckDbApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  api ??= require('@duckdb/node-api') as DuckDbApi;
  return api;
}

export interface DuckDbOptions {
  /** Worker threads; DuckDB's default is one per core. */
  threads?: number;
  /** For example '1GB'. Beyond it DuckDB spills to a temporary folder outside the workspace. */
  memoryLimit?: string;
  /**
   * Keep rows in file order (DuckDB's default). Aggregates over big files are faster without it;
   * pages of rows need it.
   */
  preserveInsertionOrder?: boolean;
  /** Where spills go; by default a folder in the system's temporary folder, never DuckDB's ./.tmp in the workspace. */
  tempDirectory?: string;
  /** Keeps `connection.progress` up to date while a statement runs. */
  reportProgress?: boolean;
  /** Interrupts the running query; it then rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
}

export interface Rows {
  columns: Column[];
  rows: Json[][];
}

export interface DuckDb {
  readonly connection: DuckDBConnection;
  /** Runs one statement; `$1`, `$2`... in the SQL take `params`. */
  query(sql: string, params?: DuckDBValue[]): Promise<Rows>;
  close(): void;
}

export async function openDuckDb(options: DuckDbOptions = {}): Promise<DuckDb> {
  options.signal?.throwIfAborted();
  const { DuckDBInstance } = duckdbApi();
  const config: Record<string, string> = {
    temp_directory: options.tempDirectory ?? join(tmpdir(), 'mlops-duckdb'),
    // Only the built-in readers (CSV, Parquet, JSON) are used; never reach for the network.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (options.threads) config.threads = String(options.threads);
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  if (options.preserveInsertionOrder === false) config.preserve_insertion_order = 'false';
  const instance = await DuckDBInstance.create(':memory:', config);
  const connection = await instance.connect();
  // A setting of the connection, not of the database: it cannot go in the config above.
  if (options.reportProgress)
    await connection.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  const interrupt = () => connection.interrupt();
  options.signal?.addEventListener('abort', interrupt);
  let closed = false;
  return {
    connection,
    async query(sql, params) {
      options.signal?.throwIfAborted();
      try {
        const reader = await connection.runAndReadAll(sql, params);
        return { columns: columnsOf(reader), rows: cells(reader) };
      } catch (error) {
        options.signal?.throwIfAborted();
        throw error;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      options.signal?.removeEventListener('abort', interrupt);
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Opens a database for the length of `use`, and closes it whatever happens. */
export async function withDuckDb<T>(options: DuckDbOptions, use: (db: DuckDb) => Promise<T>): Promise<T> {
  const db = await openDuckDb(options);
  try {
    return await use(db);
  } finally {
    db.close();
  }
}

export function columnsOf(reader: DuckDBResultReader): Column[] {
  const types = reader.columnTypes();
  return reader.columnNames().map((name, i) => ({ name, type: types[i].toString() }));
}

/** The columns of a SELECT, as `DESCRIBE` gives them. */
export async function describe(connection: DuckDBConnection, select: string): Promise<Column[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${select}`);
  return reader.getRowObjectsJson().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/**
 * How many statements DuckDB's parser finds in `sql` (a ';' in a string or a comment ends none):
 * 0 for blank text or comments only, undefined when it does not parse (running it then reports
 * the syntax error).
 */
export async function countStatements(connection: DuckDBConnection, sql: string): Promise<number | undefined> {
  try {
    return (await connection.extractStatements(sql)).count;
  } catch (error) {
    if (/^Failed to extract statements/.test((error as Error).message)) return undefined;
    // Text with no statement fails without a parser message.
    return 0;
  }
}

/**
 * The one statement of `sql` without its closing ';' and the blanks and comments after it, and
 * with a line break at its end, ready to be wrapped (DESCRIBE, COPY (...), a subquery) even when
 * it ends in a comment. The parser finds the closing ';': the first one with exactly one
 * statement before it and none after it.
 */
export async function statementText(connection: DuckDBConnection, sql: string): Promise<string> {
  for (let at = sql.indexOf(';'); at >= 0; at = sql.indexOf(';', at + 1)) {
    if (
      (await countStatements(connection, sql.slice(at + 1))) === 0 &&
      (await countStatements(connection, sql.slice(0, at))) === 1
    )
      return `${sql.slice(0, at)}\n`;
  }
  return `${sql}\n`;
}

let cellConverter: DuckDBValueConverter<Json> | undefined;

/**
 * JSON-ready cells. DuckDB's JSON converter writes every BIGINT and DECIMAL as a string; counts,
 * ids and amounts read better as numbers, so those that a double holds exactly become numbers.
 */
export function cells(reader: DuckDBResultReader): Json[][] {
  if (!cellConverter) {
    const { DuckDBTypeId, JsonDuckDBValueConverter } = duckdbApi();
    const bigIntegers = new Set<number>([
      DuckDBTypeId.BIGINT,
      DuckDBTypeId.UBIGINT,
      DuckDBTypeId.HUGEINT,
      DuckDBTypeId.UHUGEINT,
    ]);
    cellConverter = (value, type, self) => {
      if (value !== null && bigIntegers.has(type.typeId)) {
        const big = value as bigint;
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(big)
          : big.toString();
      }
      if (value !== null && type.typeId === DuckDBTypeId.DECIMAL && (type as { width: number }).width <= 15) {
        return (value as { toDouble(): number }).toDouble();
      }
      return JsonDuckDBValueConverter(value, type, self);
    };
  }
  return reader.convertRows(cellConverter) as Json[][];
}
