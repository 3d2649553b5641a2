// The SELECT that reads an ingest's files with DuckDB's readers, and the errors of those readers
// turned into messages that name the file and line at fault.
import { openSync, readSync, closeSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MlopsError } from '../../shared/errors';
import type { DatasetFormat } from '../model';
import { invalidUtf8Line, lineOfInvalidJson } from '../source';
import { sqlIdentifier, sqlList, sqlString } from '../sql';

const READERS: Record<DatasetFormat, (files: string[], delimiter: string) => string> = {
  // skip=0: left to itself the sniffer may skip the top lines of a ragged file and read the rest.
  csv: (files, delimiter) =>
    `read_csv(${sqlList(files)}, delim = ${sqlString(delimiter)}, skip = 0, union_by_name = true)`,
  tsv: (files) => `read_csv(${sqlList(files)}, delim = '\t', skip = 0, union_by_name = true)`,
  parquet: (files) => `read_parquet(${sqlList(files)}, union_by_name = true)`,
  json: (files) => `read_json(${sqlList(files)}, format = 'auto', union_by_name = true)`,
  jsonl: (files) => `read_json(${sqlList(files)}, format = 'newline_delimited', union_by_name = true)`,
};

/**
 * The sniffed delimiter of a CSV file when it finds several columns with it (`;` files), else `,`.
 * A ragged file sniffs as one column; `,` then makes DuckDB report the ragged line.
 */
async function csvDelimiter(connection: DuckDBConnection, file: string): Promise<string> {
  try {
    const reader = await connection.runAndReadAll(
      `SELECT Delimiter AS delimiter, len(Columns) AS columns FROM sniff_csv(${sqlString(file)}, skip = 0)`,
    );
    const [row] = reader.getRowObjectsJson();
    return Number(row?.columns) > 1 && typeof row.delimiter === 'string' ? row.delimiter : ',';
  } catch {
    return ',';
  }
}

export interface SourceRead {
  select: string;
  /** The delimiter used for the CSV files, for diagnosis. */
  csvDelimiter: string;
}

/** One SELECT over all the files: each format through its reader, unioned by column name. */
export async function selectSources(
  connection: DuckDBConnection,
  files: { path: string; format: DatasetFormat }[],
): Promise<SourceRead> {
  const groups = new Map<DatasetFormat, string[]>();
  for (const { path, format } of files) groups.set(format, [...(groups.get(format) ?? []), path]);
  const csv = groups.get('csv');
  const delimiter = csv ? await csvDelimiter(connection, csv[0]) : ',';
  const selects = [...groups].map(([format, paths]) => `SELECT * FROM ${READERS[format](paths, delimiter)}`);
  return {
    select: selects.length === 1 ? selects[0] : selects.map((s) => `(${s})`).join(' UNION ALL BY NAME '),
    csvDelimiter: delimiter,
  };
}

/** Fields of the first line, minding quotes: enough to read the rest strictly. */
function firstLineFields(file: string, delimiter: string): number {
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = buffer.subarray(0, length).toString('utf8');
  let fields = 1;
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === delimiter) fields++;
    else if (!quoted && (char === '\n' || char === '\r')) break;
  }
  return fields;
}

/**
 * When DuckDB's sniffer gives up on a CSV file it says neither which line nor (with several
 * files) which file. Reading each file strictly, with as many columns as its first line, makes
 * DuckDB name both. Resolves with that error, or undefined when every file reads.
 */
export async function diagnoseCsv(
  connection: DuckDBConnection,
  files: { path: string; format: DatasetFormat }[],
  delimiter: string,
): Promise<MlopsError | undefined> {
  for (const { path, format } of files) {
    if (format !== 'csv' && format !== 'tsv') continue;
    const delim = format === 'tsv' ? '\t' : delimiter;
    const columns = Array.from(
      { length: firstLineFields(path, delim) },
      (_, i) => `${sqlIdentifier(`c${i}`)}: 'VARCHAR'`,
    ).join(', ');
    try {
      await connection.run(
        `SELECT count(*) FROM read_csv(${sqlString(path)}, delim = ${sqlString(delim)}, quote = '"', escape = '"', header = false, auto_detect = false, columns = {${columns}})`,
      );
    } catch (error) {
      return explainReadError(error, [{ path, format }]);
    }
  }
  return undefined;
}

export function isSnifferFailure(error: unknown): boolean {
  return /Error when sniffing file/.test((error as Error)?.message ?? '');
}

/**
 * A read error as `readError` gives it, except where DuckDB's line is not the one at fault: bytes
 * that are not UTF-8 (DuckDB quotes the line before them, the header on a short file) and
 * malformed newline-delimited JSON (DuckDB's line can be one off). Those lines are found here.
 */
export async function explainReadError(
  error: unknown,
  files: { path: string; format: DatasetFormat }[],
): Promise<MlopsError> {
  const message = (error as Error)?.message ?? String(error);
  const paths = files.map((f) => f.path);
  const named = paths.find((path) => message.includes(path)) ?? (paths.length === 1 ? paths[0] : undefined);
  if (/Invalid unicode/.test(message)) {
    for (const { path, format } of files) {
      if (
        (named && path !== named) ||
        (format !== 'csv' && format !== 'tsv' && format !== 'json' && format !== 'jsonl')
      )
        continue;
      const bad = await invalidUtf8Line(path);
      if (bad) {
        return new MlopsError(
          `Cannot ingest ${path}, line ${bad.line}: this file is not utf-8 encoded (the line reads: ${bad.text}).`,
          'Save the file as UTF-8, the encoding the lake reads; the lake was not changed.',
          { cause: error },
        );
      }
    }
  }
  const malformed = /Malformed JSON in file "(.*?)", at byte \d+ in line \d+: (.*?)\.?\s*$/m.exec(message);
  const jsonl = malformed && files.find((f) => f.path === malformed[1] && f.format === 'jsonl');
  const line = jsonl ? await lineOfInvalidJson(jsonl.path) : undefined;
  if (jsonl && line)
    return new MlopsError(
      `Cannot ingest ${jsonl.path}, line ${line}: malformed JSON (${malformed[2]}).`,
      'Fix or remove the file; the lake was not changed.',
      { cause: error },
    );
  return readError(error, paths);
}

/**
 * DuckDB's message for a file it could not read, cut to what matters to the user: the file, the
 * line, the problem. Dropped: the SQL position (it points into our own SQL) and the generic fixes.
 */
export function readError(error: unknown, files: string[]): MlopsError {
  const message = (error as Error)?.message ?? String(error);
  const named = /^\s*file = (.+)$/m.exec(message)?.[1] ?? files.find((file) => message.includes(file));
  const file = named ?? (files.length === 1 ? files[0] : undefined);
  const [first, ...rest] = message
    .split(/\n\s*\n|\nPossible fixes:/)[0]
    .replace(/^(Invalid Input|Conversion|IO|Binder|Parser) Error: /, '')
    .split('\n');
  const csvLine = /^CSV Error on Line: (\d+)$/.exec(first)?.[1];
  const lines = csvLine ? rest : [first, ...rest];
  const original = lines.find((text) => text.startsWith('Original Line: '));
  const summary = [
    ...lines.filter((text) => text !== original),
    ...(original ? [`(the line reads: ${original.slice('Original Line: '.length)})`] : []),
  ]
    .join(' ')
    .trim();
  const line = csvLine ?? / line (\d+)\b/.exec(summary)?.[1];
  const where = file
    ? `${file}${line ? `, line ${line}` : ''}`
    : `one of ${files.length} files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''})`;
  return new MlopsError(`Cannot ingest ${where}: ${summary}`, 'Fix or remove the file; the lake was not changed.', {
    cause: error,
  });
}
