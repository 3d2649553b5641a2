// Data from outside (HTTP answers, files read back) checked with a valibot schema at the edge: a
// mismatch becomes an MlopsError naming the source and the field, not a TypeError later.
import { existsSync, readFileSync } from 'node:fs';
import * as v from 'valibot';
import { MlopsError } from './errors';

/** Whether a parsed JSON value is an object (not null, not a list). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number written by JSON.stringify, which writes NaN and ±Infinity as null: null reads back as NaN. */
export const JsonNumber = v.pipe(
  v.nullable(v.number()),
  v.transform((value) => value ?? Number.NaN),
);

/** The first three issues, each as "field: message" (`root` names a value that is wrong as a whole). */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], root = 'the value'): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${v.getDotPath(issue) ?? root}: ${issue.message}`)
    .join('; ');
}

/** `value` as `schema` says, or an MlopsError "SOURCE is not EXPECTED: field: message". */
export function checked<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
  source: string,
  expected: string,
  remedy?: string,
): v.InferOutput<TSchema> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  throw new MlopsError(`${source} is not ${expected}: ${describeIssues(parsed.issues)}.`, remedy);
}

/** JSON text parsed, or an MlopsError "SOURCE is not JSON" (the text is not quoted: it may hold a secret). */
export function parseJson(text: string, source: string, remedy?: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MlopsError(`${source} is not JSON.`, remedy, { cause: error });
  }
}

/** JSON text checked against `schema`; either failure names the source. */
export function checkedJson<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  text: string,
  source: string,
  expected: string,
  remedy?: string,
): v.InferOutput<TSchema> {
  return checked(schema, parseJson(text, source, remedy), source, expected, remedy);
}

export interface JsonLinesOptions {
  /** Called for each line that is not JSON or not of the schema; the other lines are kept either way. */
  onBadLine?: (problem: MlopsError) => void;
  /** Lines for which this is false are passed over unparsed (a cheap pre-filter). */
  wanted?: (line: string) => boolean;
}

interface JsonLinesReading<T> extends JsonLinesOptions {
  /** A hand-written guard for files read on a hot path: values it accepts skip the schema, which then only names what is wrong. */
  accepts?: (value: unknown) => value is T;
}

/**
 * The lines of a JSON-lines file that parse and match `schema`, in file order; none when the file
 * is missing. A bad line (one cut short by a crash, or edited by hand) is skipped and reported to
 * `onBadLine` with its file and line number.
 */
export function readJsonLines<const TSchema extends v.GenericSchema>(
  file: string,
  schema: TSchema,
  expected: string,
  options: JsonLinesReading<v.InferOutput<TSchema>> = {},
): v.InferOutput<TSchema>[] {
  if (!existsSync(file)) return [];
  const records: v.InferOutput<TSchema>[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line || (options.wanted && !options.wanted(line))) continue;
    try {
      const source = `Line ${index + 1} of ${file}`;
      const value = parseJson(line, source);
      records.push(options.accepts?.(value) ? value : checked(schema, value, source, expected));
    } catch (error) {
      if (!(error instanceof MlopsError)) throw error;
      options.onBadLine?.(error);
    }
  }
  return records;
}
