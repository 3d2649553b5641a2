// A dataset file as DuckDB reads it: the table expression (read_csv, read_parquet, read_json)
// with the dialect settled, the recovery from a column whose type changes past DuckDB's sample,
// and the errors users see, which name the file and the line or column at fault.
import { createReadStream, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { MlopsError } from '../shared/errors';
import { decodeHead, detectDelimiter, detectEncoding, firstRaggedRow, scanUtf8, type TextEncoding } from './csvSniff';
import { sqlString } from './sql';
import type { DatasetFormat } from './model';

const FORMATS: Record<string, DatasetFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.parquet': 'parquet',
  '.json': 'json',
  '.jsonl': 'jsonl',
};

export function formatOf(path: string): DatasetFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** Enough rows to tell the encoding and the delimiter, and little enough to read at once. */
const HEAD_BYTES = 64 * 1024;

export interface DatasetSource {
  path: string;
  format: DatasetFormat;
  bytes: number;
  /** The table expression that reads the file, as currently adapted. */
  relation(): string;
  /**
   * After a failed read: true when the source now reads differently (a column as VARCHAR, JSON
   * types from every record) and the read is worth trying again.
   */
  adapt(error: unknown): boolean;
  /** The failure as users should see it. */
  explain(error: unknown): Promise<MlopsError>;
}

export async function openSource(file: string): Promise<DatasetSource> {
  const path = resolve(file);
  const format = formatOf(path);
  if (!format) throw new MlopsError(`${path} is not a dataset: CSV, TSV, Parquet, JSON and JSONL files are.`);
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw new MlopsError(
      `${path} cannot be read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message}.`,
      undefined,
      { cause: error },
    );
  }
  if (stats.isDirectory())
    throw new MlopsError(
      `${path} is a folder, not a dataset file, though its name ends in ${extname(path)}.`,
      'Choose one of the files in it.',
    );
  const bytes = stats.size;
  if (bytes === 0) throw new MlopsError(`${path} is empty.`);
  if (format === 'parquet') return parquetSource(path, bytes);
  const head = await readHead(path, bytes);
  const complete = head.length === bytes;
  const encoding = detectEncoding(head, complete);
  if (encoding === 'utf-16be')
    throw new MlopsError(`${path} is UTF-16 big-endian, which DuckDB cannot read.`, 'Save it as UTF-8.');
  const text = decodeHead(head, encoding);
  if (complete && text.replace(/^\uFEFF/, '').trim() === '')
    throw new MlopsError(`${path} is empty: it holds only blank lines.`);
  return format === 'json' || format === 'jsonl'
    ? jsonSource(path, format, bytes)
    : csvSource(path, format, bytes, encoding, text, complete);
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(HEAD_BYTES, bytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function parquetSource(path: string, bytes: number): DatasetSource {
  return {
    path,
    format: 'parquet',
    bytes,
    relation: () => `read_parquet(${sqlString(path)})`,
    adapt: () => false,
    explain: async (error) =>
      new MlopsError(
        `${path} is not a readable Parquet file: ${duckdbMessage(error)}`,
        'Write it again from its source: a Parquet file cut short loses its footer, and with it every row.',
        { cause: error },
      ),
  };
}

function jsonSource(path: string, format: 'json' | 'jsonl', bytes: number): DatasetSource {
  let everyRecord = false;
  return {
    path,
    format,
    bytes,
    relation: () => {
      const options = [
        format === 'jsonl' ? "format='newline_delimited'" : '',
        everyRecord ? 'sample_size=-1' : '',
      ].filter(Boolean);
      return `read_json(${[sqlString(path), ...options].join(', ')})`;
    },
    adapt(error) {
      // A field whose type changes after DuckDB's sample: infer the types from every record.
      if (everyRecord || !/JSON transform error/.test(messageOf(error))) return false;
      everyRecord = true;
      return true;
    },
    async explain(error) {
      const message = messageOf(error);
      const malformed = /Malformed JSON in file ".*?", at byte \d+ in (line \d+|record\/value \d+): (.*?)\.?\s*$/m.exec(
        message,
      );
      if (malformed) {
        // DuckDB's line numbers in newline-delimited JSON can be one off: find the line here.
        const where =
          format === 'jsonl'
            ? `line ${(await lineOfInvalidJson(path)) ?? malformed[1].slice('line '.length)}`
            : malformed[1].replace('record/value', 'record');
        return new MlopsError(`${path} ${where}: malformed JSON (${malformed[2]}).`, undefined, { cause: error });
      }
      const transform = /JSON transform error in file ".*?", in (line \d+|record\/value \d+): (.*)$/m.exec(message);
      if (transform)
        return new MlopsError(`${path} ${transform[1].replace('record/value', 'record')}: ${transform[2]}`, undefined, {
          cause: error,
        });
      return new MlopsError(`${path} could not be read as JSON: ${duckdbMessage(error)}`, undefined, { cause: error });
    },
  };
}

function csvSource(
  path: string,
  format: 'csv' | 'tsv',
  bytes: number,
  encoding: TextEncoding,
  head: string,
  complete: boolean,
): DatasetSource {
  const delimiter = format === 'tsv' ? '\t' : detectDelimiter(head.replace(/^\uFEFF/, ''));
  const asText = new Set<string>();
  return {
    path,
    format,
    bytes,
    relation() {
      const options = [
        sqlString(path),
        `delim=${sqlString(delimiter)}`,
        // RFC 4180 quoting, as pandas reads it: DuckDB's sniffer picks no quote at all when the
        // first rows hold none, and then a quoted comma further down splits a field.
        `quote='"'`,
        `escape='"'`,
        // The sniffer may otherwise skip leading rows it finds odd, or take rows starting with
        // '#' for comments: both lose rows without a word.
        'skip=0',
        "comment=''",
        `encoding=${sqlString(encoding)}`,
      ];
      if (asText.size > 0) options.push(`types={${[...asText].map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}`);
      return `read_csv(${options.join(', ')})`;
    },
    adapt(error) {
      // A value that does not fit the type sniffed from the first rows: read that column as text.
      const column = /Error when converting column "(.*?)"\./.exec(messageOf(error))?.[1];
      if (column === undefined || asText.has(column)) return false;
      asText.add(column);
      return true;
    },
    async explain(error) {
      const message = messageOf(error);
      const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
      const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
      if (line && columns)
        return raggedError(
          path,
          { line: Number(line), expected: Number(columns[1]), fields: Number(columns[2]) },
          error,
        );
      if (/Invalid unicode|^INTERNAL Error/.test(message)) {
        // DuckDB reports bytes that are not UTF-8 with a line, or, in some aggregates, fails
        // with an internal error instead: find the line here.
        const badLine = encoding === 'utf-8' ? await invalidUtf8Line(path) : undefined;
        if (badLine) {
          return new MlopsError(
            `${path} line ${badLine.line} is not valid UTF-8, though the lines before it are.`,
            'Save the file in one encoding: UTF-8, or UTF-16 with a byte-order mark.',
            { cause: error },
          );
        }
      }
      if (/Error when sniffing file/.test(message)) {
        const ragged = firstRaggedRow(head, delimiter, complete);
        if (ragged) return raggedError(path, ragged, error);
        return new MlopsError(
          `${path}: the layout of this ${format.toUpperCase()} file could not be worked out (delimiter ${JSON.stringify(delimiter)}, quote '"').`,
          undefined,
          { cause: error },
        );
      }
      const conversion = /Error when converting column "(.*?)"\. (.*)$/m.exec(message);
      if (conversion)
        return new MlopsError(
          `${path}${line ? ` line ${line}` : ''}, column "${conversion[1]}": ${conversion[2]}`,
          undefined,
          { cause: error },
        );
      return new MlopsError(`${path} could not be read: ${duckdbMessage(error)}`, undefined, { cause: error });
    },
  };
}

function raggedError(
  path: string,
  row: { line: number; fields: number; expected: number },
  cause: unknown,
): MlopsError {
  return new MlopsError(
    `${path} line ${row.line} has ${row.fields} field${row.fields === 1 ? '' : 's'} where the header has ${row.expected}.`,
    'Give every row the same number of fields, and quote fields that contain the delimiter.',
    { cause },
  );
}

/** Reads with `read(relation)`, adapting the source and trying again while it can; then explains the failure. */
export async function readDataset<T>(source: DatasetSource, read: (relation: string) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await read(source.relation());
    } catch (error) {
      if (error instanceof MlopsError || (error as Error)?.name === 'AbortError') throw error;
      if (!source.adapt(error)) throw await source.explain(error);
    }
  }
}

/** The first line holding bytes that are not UTF-8 (1-based), with its text as an editor shows it, streaming through the file. */
export async function invalidUtf8Line(path: string): Promise<{ line: number; text: string } | undefined> {
  let line = 1;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const { invalidAt, validUpTo } = scanUtf8(bytes, false);
    const end = invalidAt ?? validUpTo;
    for (let i = bytes.indexOf(10); i !== -1 && i < end; i = bytes.indexOf(10, i + 1)) line++;
    if (invalidAt !== undefined) return { line, text: lineAround(bytes, invalidAt) };
    carry = bytes.subarray(validUpTo);
  }
  return carry.length > 0 ? { line, text: lineAround(carry, 0) } : undefined;
}

/** The line of `bytes` that holds `at`, its invalid bytes shown as U+FFFD, cut to 200 characters. */
function lineAround(bytes: Buffer, at: number): string {
  const end = bytes.indexOf(10, at);
  // Control characters (the NULs of UTF-16 text) left out.
  const text = new TextDecoder()
    .decode(bytes.subarray(bytes.lastIndexOf(10, at) + 1, end === -1 ? bytes.length : end))
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, '');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The 1-based line of the first line that is not a JSON value, in newline-delimited JSON. */
export async function lineOfInvalidJson(path: string): Promise<number | undefined> {
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    try {
      JSON.parse(text);
    } catch {
      return line;
    }
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** DuckDB's message without its error class, its hints and its echo of the SQL. */
function duckdbMessage(error: unknown): string {
  const first = messageOf(error).split('\n')[0];
  return first.replace(/^[A-Za-z ]*Error: /, '').trim();
}
