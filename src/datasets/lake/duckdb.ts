// DuckDB for the lake: loaded on first use (activation must not pay for the native module), one
// in-memory instance per operation so no process ever holds a lock on the lake.
import type { DuckDBConnection, DuckDBInstance, DuckDBResultReader, DuckDBValueConverter, Json } from '@duckdb/node-api';
import type { Column } from '../model';
import { sqlString } from '../sql';

type DuckDbApi = typeof import('@duckdb/node-api');

let api: DuckDbApi | undefined;

export function duckdb(): DuckDbApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  api ??= require('@duckdb/node-api') as DuckDbApi;
  return api;
}

export interface Session {
  connection: DuckDBConnection;
  close(): void;
}

/** A fresh in-memory database. `tempDirectory` keeps spills out of the current folder (DuckDB's default is `./.tmp`). */
export async function openSession(tempDirectory?: string): Promise<Session> {
  const instance: DuckDBInstance = await duckdb().DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const settings = ['SET enable_progress_bar = true', 'SET enable_progress_bar_print = false'];
  if (tempDirectory) settings.push(`SET temp_directory = ${sqlString(tempDirectory)}`);
  await connection.run(settings.join('; '));
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export function columnsOf(reader: DuckDBResultReader): Column[] {
  const types = reader.columnTypes();
  return reader.columnNames().map((name, i) => ({ name, type: types[i].toString() }));
}

/** Rows of `DESCRIBE ...` as columns. */
export async function describe(connection: DuckDBConnection, select: string): Promise<Column[]> {
  const reader = await connection.runAndReadAll(`DESCRIBE ${select}`);
  return reader.getRowObjectsJson().map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

let cellConverter: DuckDBValueConverter<Json> | undefined;

/**
 * JSON-ready cells. DuckDB's own JSON converter writes every BIGINT as a string; a count or an id
 * reads better as a number, so integers and decimals that fit a double exactly become numbers.
 */
export function cells(reader: DuckDBResultReader): Json[][] {
  if (!cellConverter) {
    const { DuckDBTypeId, JsonDuckDBValueConverter } = duckdb();
    const bigIntegers = new Set<number>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);
    const converter: DuckDBValueConverter<Json> = (value, type, self) => {
      if (value !== null && bigIntegers.has(type.typeId)) {
        const big = value as bigint;
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
      }
      if (value !== null && type.typeId === DuckDBTypeId.DECIMAL && (type as { width: number }).width <= 15) {
        return (value as { toDouble(): number }).toDouble();
      }
      return JsonDuckDBValueConverter(value, type, self);
    };
    cellConverter = converter;
  }
  return reader.convertRows(cellConverter) as Json[][];
}
