// The checks of a validate step, as SQL over one pinned version of a lake table. Each failed
// check names its rule and column and shows up to five offending rows. Nulls only fail notNull:
// unique, range and allowedValues look at the values that are there.
import { MlopsError } from '../../shared/errors';
import { sqlIdentifier as identifier, sqlString } from '../sql';
import type { Column, Lake, QueryResult } from '../model';
import type { Expectation, ExpectationValue, TableRef } from './pipelineModel';

export const MAX_EXAMPLES = 5;

export interface CheckResult {
  rule: Expectation['rule'];
  column?: string;
  passed: boolean;
  /** What was found, e.g. "3 rows are null". */
  detail: string;
  examples: Record<string, unknown>[];
}

interface Check {
  rule: Expectation['rule'];
  column?: string;
  /** Columns the check reads, which must be in the table. */
  columns: string[];
  sql: string;
  judge(rows: Record<string, unknown>[]): Omit<CheckResult, 'rule' | 'column'>;
}

/** The types a range compares: numbers, dates, times and intervals. */
const ORDERED_TYPE =
  /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\)|DATE|TIME|TIME WITH TIME ZONE|TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?|INTERVAL)$/;

/** Each check's result; a check that cannot run fails with the reason, and the others still run. */
export async function runExpectations(
  lake: Lake,
  target: TableRef,
  schema: readonly Column[],
  expectations: readonly Expectation[],
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of expectations.flatMap((e) => checksOf(e, target.table))) {
    const outcome = unfit(check, target.table, schema) ?? (await judge(lake, check, target));
    results.push({ rule: check.rule, ...(check.column === undefined ? {} : { column: check.column }), ...outcome });
  }
  return results;
}

/** Why a check does not fit the table's columns: one is missing, or a range is asked of a column that is not ordered. */
function unfit(
  check: Check,
  table: string,
  schema: readonly Column[],
): Omit<CheckResult, 'rule' | 'column'> | undefined {
  const find = (name: string) => schema.find((s) => s.name.toLowerCase() === name.toLowerCase());
  const missing = check.columns.filter((c) => !find(c));
  if (missing.length)
    return {
      passed: false,
      detail: `no column ${missing.map((c) => `'${c}'`).join(', ')} in ${table} (columns: ${schema.map((s) => s.name).join(', ')})`,
      examples: [],
    };
  const type = check.rule === 'range' ? find(check.columns[0]!)!.type : undefined;
  if (type !== undefined && !ORDERED_TYPE.test(type))
    return {
      passed: false,
      detail: `the column is ${type}, and range compares numbers, dates and times only`,
      examples: [],
    };
  return undefined;
}

async function judge(lake: Lake, check: Check, target: TableRef): Promise<Omit<CheckResult, 'rule' | 'column'>> {
  try {
    return check.judge(records(await lake.query(check.sql, { versions: { [target.table]: target.version } })));
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    return { passed: false, detail: `could not be checked: ${error.message}`, examples: [] };
  }
}

/** Judges a query of offending rows that carries their total in `__offending`. */
function offending(describe: (count: number) => string): Check['judge'] {
  return (rows) => {
    const count = rows.length ? Number(rows[0]!.__offending) : 0;
    return {
      passed: count === 0,
      detail: describe(count),
      examples: rows.map(({ __offending: _total, ...row }) => row),
    };
  };
}

function checksOf(expected: Expectation, table: string): Check[] {
  const from = identifier(table);
  const offendingRows = (where: string) =>
    `SELECT *, count(*) OVER () AS __offending FROM ${from} WHERE ${where} LIMIT ${MAX_EXAMPLES}`;
  const rows = (n: number) => (n === 1 ? '1 row' : `${n} rows`);
  switch (expected.rule) {
    case 'notNull':
      return expected.columns.map((column) => ({
        rule: 'notNull',
        column,
        columns: [column],
        sql: offendingRows(`${identifier(column)} IS NULL`),
        judge: offending((n) => (n ? `${rows(n)} null` : 'no nulls')),
      }));
    case 'unique': {
      const key = expected.columns.map(identifier).join(', ');
      const present = expected.columns.map((c) => `${identifier(c)} IS NOT NULL`).join(' AND ');
      return [
        {
          rule: 'unique',
          column: expected.columns.join(', '),
          columns: expected.columns,
          sql: `SELECT ${key}, count(*) AS rows, count(*) OVER () AS __offending FROM ${from} WHERE ${present} GROUP BY ${key} HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT ${MAX_EXAMPLES}`,
          judge: offending((n) =>
            n ? `${n === 1 ? '1 value occurs' : `${n} values occur`} more than once` : 'all values distinct',
          ),
        },
      ];
    }
    case 'range': {
      const column = identifier(expected.column);
      const outside = [
        expected.min === undefined ? '' : `${column} < ${literal(expected.min)}`,
        expected.max === undefined ? '' : `${column} > ${literal(expected.max)}`,
      ].filter(Boolean);
      const bounds = [
        expected.min === undefined ? '' : `min ${expected.min}`,
        expected.max === undefined ? '' : `max ${expected.max}`,
      ]
        .filter(Boolean)
        .join(', ');
      return [
        {
          rule: 'range',
          column: expected.column,
          columns: [expected.column],
          sql: offendingRows(outside.join(' OR ')),
          judge: offending((n) => (n ? `${rows(n)} outside ${bounds}` : `all within ${bounds}`)),
        },
      ];
    }
    case 'allowedValues': {
      const column = identifier(expected.column);
      return [
        {
          rule: 'allowedValues',
          column: expected.column,
          columns: [expected.column],
          sql: offendingRows(`${column} IS NOT NULL AND ${column} NOT IN (${expected.values.map(literal).join(', ')})`),
          judge: offending((n) =>
            n ? `${rows(n)} with a value not in [${expected.values.join(', ')}]` : 'all values allowed',
          ),
        },
      ];
    }
    case 'rowCount':
      return [
        {
          rule: 'rowCount',
          columns: [],
          sql: `SELECT count(*) AS n FROM ${from}`,
          judge: (result) => {
            const count = Number(result[0]?.n ?? 0);
            const tooFew = expected.min !== undefined && count < expected.min;
            const tooMany = expected.max !== undefined && count > expected.max;
            const detail = tooFew
              ? `${rows(count)}, expected at least ${expected.min}`
              : tooMany
                ? `${rows(count)}, expected at most ${expected.max}`
                : rows(count);
            return { passed: !tooFew && !tooMany, detail, examples: [] };
          },
        },
      ];
  }
}

/** Rows as objects that JSON can hold (counts may come back as bigint). */
function records(result: QueryResult): Record<string, unknown>[] {
  const plain = (value: unknown) =>
    typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value;
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column.name, plain(row[i])])));
}

function literal(value: ExpectationValue): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return sqlString(value);
}

/** "unique on column 'id': 2 values occur more than once, e.g. {"id":3,"rows":2}; {"id":7,"rows":2}" */
export function describeFailure(result: CheckResult): string {
  const where = result.column === undefined ? '' : ` on column '${result.column}'`;
  const examples = result.examples.length
    ? `, e.g. ${result.examples.map((row) => JSON.stringify(row)).join('; ')}`
    : '';
  return `${result.rule}${where}: ${result.detail}${examples}`;
}
