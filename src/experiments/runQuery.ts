// MLflow's run search, evaluated in memory: the filter syntax (`metrics.acc > 0.9 AND
// params.model = 'rf'`), order_by clauses and page tokens, with MLflow's semantics.
import * as v from 'valibot';
import { checked } from '../shared/checked';
import { MlopsError } from '../shared/errors';
import type { Run, RunPage, RunSearch } from './model';

type Entity = 'metrics' | 'params' | 'tags' | 'attributes';
type Operator = '=' | '!=' | '<' | '>' | '<=' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Comparison {
  entity: Entity;
  key: string;
  operator: Operator;
  value: string | number | string[];
}

const ENTITY_ALIASES: Record<string, Entity> = {
  metric: 'metrics',
  metrics: 'metrics',
  param: 'params',
  params: 'params',
  parameter: 'params',
  parameters: 'params',
  tag: 'tags',
  tags: 'tags',
  attribute: 'attributes',
  attributes: 'attributes',
  attr: 'attributes',
  run: 'attributes',
};

const ATTRIBUTE_ALIASES: Record<string, string> = {
  run_id: 'run_id',
  run_uuid: 'run_id',
  id: 'run_id',
  run_name: 'run_name',
  status: 'status',
  start_time: 'start_time',
  end_time: 'end_time',
  artifact_uri: 'artifact_uri',
  user_id: 'user_id',
  lifecycle_stage: 'lifecycle_stage',
};
const NUMERIC_ATTRIBUTES = new Set(['start_time', 'end_time']);

const TOKEN =
  /\s*(?:(`[^`]*`|"[^"]*"|'(?:[^']|'')*')|(<=|>=|!=|=|<|>)|(\()|(\))|(,)|([A-Za-z_][\w\-/]*(?:\.(?:`[^`]*`|"[^"]*"|[\w.\-/]+))?)|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))/y;

interface Token {
  kind: 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'word' | 'number';
  text: string;
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < filter.length) {
    if (/^\s*$/.test(filter.slice(position))) break;
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(filter);
    if (!match)
      throw new MlopsError(
        `The filter has an unexpected character at position ${position + 1}: ${filter.slice(position, position + 12)}`,
      );
    position = TOKEN.lastIndex;
    const [, quoted, op, lparen, rparen, comma, word, number] = match;
    if (quoted !== undefined) tokens.push({ kind: 'string', text: quoted });
    else if (op) tokens.push({ kind: 'op', text: op });
    else if (lparen) tokens.push({ kind: 'lparen', text: '(' });
    else if (rparen) tokens.push({ kind: 'rparen', text: ')' });
    else if (comma) tokens.push({ kind: 'comma', text: ',' });
    else if (word) tokens.push({ kind: 'word', text: word });
    else tokens.push({ kind: 'number', text: number });
  }
  return tokens;
}

function unquote(text: string): string {
  const quote = text[0];
  if (quote === "'") return text.slice(1, -1).replace(/''/g, "'");
  if (quote === '"' || quote === '`') return text.slice(1, -1);
  return text;
}

/** Splits `metrics.acc`, `params."my key"`, `run_name` into an entity and a key. */
export function parseIdentifier(identifier: string): { entity: Entity; key: string } {
  const dot = identifier.indexOf('.');
  if (dot < 0) {
    const attribute = ATTRIBUTE_ALIASES[identifier.toLowerCase()];
    if (!attribute)
      throw new MlopsError(
        `'${identifier}' is not a run attribute. Use metrics.KEY, params.KEY, tags.KEY or attributes.NAME.`,
      );
    return { entity: 'attributes', key: attribute };
  }
  const entity = ENTITY_ALIASES[identifier.slice(0, dot).toLowerCase()];
  if (!entity)
    throw new MlopsError(
      `'${identifier.slice(0, dot)}' is not a valid prefix in '${identifier}'. Use metrics., params., tags. or attributes.`,
    );
  const key = unquote(identifier.slice(dot + 1));
  if (entity === 'attributes') {
    const attribute = ATTRIBUTE_ALIASES[key.toLowerCase()];
    if (!attribute)
      throw new MlopsError(
        `'${key}' is not a run attribute (run_id, run_name, status, start_time, end_time, artifact_uri, user_id).`,
      );
    return { entity, key: attribute };
  }
  return { entity, key };
}

/** Parses a filter in MLflow's syntax: comparisons joined by AND. */
export function parseFilter(filter: string | undefined): Comparison[] {
  if (!filter?.trim()) return [];
  const tokens = tokenize(filter);
  const comparisons: Comparison[] = [];
  let i = 0;
  const next = () => tokens[i++];
  const fail = (what: string): never => {
    throw new MlopsError(
      `Cannot read the filter '${filter}': ${what}.`,
      "Write comparisons like metrics.acc > 0.9 AND params.model = 'rf'.",
    );
  };
  while (i < tokens.length) {
    const identifier = next();
    if (identifier?.kind !== 'word')
      fail(`expected a metric, param, tag or attribute, found '${identifier?.text ?? 'the end'}'`);
    const { entity, key } = parseIdentifier(identifier.text);
    let operatorToken = next();
    let operator: Operator;
    if (operatorToken?.kind === 'op') operator = operatorToken.text as Operator;
    else if (operatorToken?.kind === 'word' && /^(I?LIKE|IN)$/i.test(operatorToken.text))
      operator = operatorToken.text.toUpperCase() as Operator;
    else if (
      operatorToken?.kind === 'word' &&
      /^NOT$/i.test(operatorToken.text) &&
      /^IN$/i.test(tokens[i]?.text ?? '')
    ) {
      next();
      operator = 'NOT IN';
    } else {
      operatorToken ??= { kind: 'word', text: 'the end' };
      return fail(
        `expected an operator (= != < > <= >= LIKE ILIKE IN) after ${identifier.text}, found '${operatorToken.text}'`,
      );
    }
    let value: Comparison['value'];
    if (operator === 'IN' || operator === 'NOT IN') {
      if (next()?.kind !== 'lparen') fail(`expected ( after ${operator}`);
      const values: string[] = [];
      for (;;) {
        const item = next();
        if (item?.kind !== 'string') fail(`${operator} takes quoted strings`);
        values.push(unquote(item.text));
        const separator = next();
        if (separator?.kind === 'rparen') break;
        if (separator?.kind !== 'comma') fail(`expected , or ) in the ${operator} list`);
      }
      value = values;
    } else {
      const literal = next();
      if (!literal || (literal.kind !== 'string' && literal.kind !== 'number'))
        fail(`expected a value after ${identifier.text} ${operator}`);
      value = literal.kind === 'number' ? Number(literal.text) : unquote(literal.text);
    }
    const numeric = entity === 'metrics' || (entity === 'attributes' && NUMERIC_ATTRIBUTES.has(key));
    if (numeric && typeof value !== 'number')
      fail(`${identifier.text} is compared with a number, not ${JSON.stringify(value)}`);
    if (numeric && /LIKE|IN/.test(operator)) fail(`${operator} does not apply to the number ${identifier.text}`);
    if (!numeric && typeof value === 'number')
      fail(`${identifier.text} is compared with a quoted string, not ${value}`);
    if (!numeric && ['<', '>', '<=', '>='].includes(operator) && entity !== 'attributes')
      fail(`${operator} does not apply to ${entity}; use = != LIKE or ILIKE`);
    comparisons.push({ entity, key, operator, value });
    const joiner = next();
    if (joiner === undefined) break;
    if (joiner.kind === 'word' && /^OR$/i.test(joiner.text)) fail('MLflow filters join comparisons with AND only');
    if (joiner.kind !== 'word' || !/^AND$/i.test(joiner.text)) fail(`expected AND, found '${joiner.text}'`);
  }
  return comparisons;
}

function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const source = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
}

/** The value a comparison or ordering reads from a run. */
export function runValue(run: Run, entity: Entity, key: string): string | number | undefined {
  switch (entity) {
    case 'metrics':
      return run.metrics[key];
    case 'params':
      return run.params[key];
    case 'tags':
      return run.tags[key];
    case 'attributes':
      switch (key) {
        case 'run_id':
          return run.runId;
        case 'run_name':
          return run.runName;
        case 'status':
          return run.status;
        case 'start_time':
          return run.startTime ?? undefined;
        case 'end_time':
          return run.endTime ?? undefined;
        case 'artifact_uri':
          return run.artifactUri;
        case 'user_id':
          return run.tags['mlflow.user'];
        case 'lifecycle_stage':
          return run.lifecycleStage;
      }
  }
  return undefined;
}

function compare(actual: string | number, operator: Operator, expected: Comparison['value']): boolean {
  switch (operator) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < (expected as number | string);
    case '>':
      return actual > (expected as number | string);
    case '<=':
      return actual <= (expected as number | string);
    case '>=':
      return actual >= (expected as number | string);
    case 'LIKE':
      return likeToRegExp(String(expected), false).test(String(actual));
    case 'ILIKE':
      return likeToRegExp(String(expected), true).test(String(actual));
    case 'IN':
      return (expected as string[]).includes(String(actual));
    case 'NOT IN':
      return !(expected as string[]).includes(String(actual));
  }
}

export function matchesFilter(run: Run, comparisons: Comparison[]): boolean {
  return comparisons.every(({ entity, key, operator, value }) => {
    const actual = runValue(run, entity, key);
    return actual !== undefined && compare(actual, operator, value);
  });
}

export interface OrderClause {
  entity: Entity;
  key: string;
  ascending: boolean;
}

// A key, quoted when it holds spaces (metrics.`my key`), then at most one more word: the direction.
const ORDER_CLAUSE = /^\s*([A-Za-z_][\w\-/]*(?:\.(?:`[^`]*`|"[^"]*"|\S+?))?)(?:\s+(\S+))?\s*$/;

export function parseOrderBy(orderBy: string[] | undefined): OrderClause[] {
  return (orderBy ?? []).map((clause) => {
    const match = ORDER_CLAUSE.exec(clause);
    if (!match)
      throw new MlopsError(
        `Cannot read the order '${clause}'.`,
        'Write it like metrics.acc DESC or attributes.start_time, one key and an optional direction.',
      );
    const direction = (match[2] ?? 'ASC').toUpperCase();
    if (direction !== 'ASC' && direction !== 'DESC') {
      throw new MlopsError(
        `'${match[2]}' is not a direction in the order '${clause}'.`,
        `Use ASC or DESC after the key, e.g. ${match[1]} DESC.`,
      );
    }
    return { ...parseIdentifier(match[1]), ascending: direction === 'ASC' };
  });
}

/**
 * MLflow's ordering: the given clauses, with missing values last whatever the direction, then
 * start_time descending (unless ordered by it), then run id ascending as the tie-breaker.
 */
export function compareRuns(clauses: OrderClause[]): (a: Run, b: Run) => number {
  const all = [...clauses];
  if (!all.some((c) => c.entity === 'attributes' && c.key === 'start_time'))
    all.push({ entity: 'attributes', key: 'start_time', ascending: false });
  all.push({ entity: 'attributes', key: 'run_id', ascending: true });
  return (a, b) => {
    for (const { entity, key, ascending } of all) {
      const x = runValue(a, entity, key);
      const y = runValue(b, entity, key);
      const xMissing = x === undefined || (typeof x === 'number' && Number.isNaN(x));
      const yMissing = y === undefined || (typeof y === 'number' && Number.isNaN(y));
      if (xMissing || yMissing) {
        if (xMissing && yMissing) continue;
        return xMissing ? 1 : -1;
      }
      if (x === y) continue;
      const order = x! < y! ? -1 : 1;
      return ascending ? order : -order;
    }
    return 0;
  };
}

/** Filters, orders and pages runs that a store has read, as MLflow's search_runs does. */
export function searchInMemory(runs: Iterable<Run>, search: RunSearch): RunPage {
  const comparisons = parseFilter(search.filter);
  const lifecycle = search.lifecycle ?? 'active';
  const matched: Run[] = [];
  for (const run of runs) {
    if (lifecycle !== 'all' && run.lifecycleStage !== lifecycle) continue;
    if (matchesFilter(run, comparisons)) matched.push(run);
  }
  matched.sort(compareRuns(parseOrderBy(search.orderBy)));
  const offset = decodePageToken(search.pageToken);
  const limit = search.maxResults ?? matched.length;
  const page = matched.slice(offset, offset + limit);
  const nextOffset = offset + page.length;
  return nextOffset < matched.length ? { runs: page, nextPageToken: encodePageToken(nextOffset) } : { runs: page };
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

const PageToken = v.object({ offset: v.pipe(v.number(), v.integer(), v.minValue(0)) });

function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  const source = `The page token '${token}'`;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw new MlopsError(`${source} is not one this store gave out.`, undefined, { cause: error });
  }
  return checked(PageToken, value, source, 'one this store gave out').offset;
}
