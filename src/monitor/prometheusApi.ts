// A small client for Prometheus' HTTP API: instant queries (GET /api/v1/query) and range queries
// (GET /api/v1/query_range), with numbers parsed ('NaN', '+Inf' and '-Inf' included). Every
// failure is an MlopsError naming the endpoint: unreachable, an HTTP status, Prometheus' own
// errorType and error, or an answer that is not Prometheus'. Credentials never appear in messages.
import * as v from 'valibot';
import { describeIssues } from '../shared/checked';
import { MlopsError } from '../shared/errors';
import { redactUserInfo } from '../shared/redact';

export interface PrometheusConnection {
  /** The server root, e.g. http://prometheus:9090 (a path prefix such as /prometheus is kept). */
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  /** Basic auth, when there is no token. */
  username?: string;
  password?: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type Labels = Record<string, string>;

export interface Point {
  /** Seconds since the epoch, as Prometheus gives it. */
  time: number;
  value: number;
}

export interface InstantSample extends Point {
  metric: Labels;
}

export interface RangeSeries {
  metric: Labels;
  points: Point[];
}

/** What an instant query gives: usually a vector; a scalar for `1 + 1`; a matrix for `x[5m]`. */
export type InstantResult =
  | { resultType: 'vector'; samples: InstantSample[]; warnings: string[] }
  | { resultType: 'scalar'; value: Point; warnings: string[] }
  | { resultType: 'string'; time: number; text: string; warnings: string[] }
  | { resultType: 'matrix'; series: RangeSeries[]; warnings: string[] };

export interface RangeResult {
  series: RangeSeries[];
  warnings: string[];
}

/** A time for the API: a Date, epoch milliseconds, or an RFC 3339 / epoch-seconds string as is. */
export type TimeArg = Date | number | string;

const DEFAULT_TIMEOUT_MS = 30_000;

/** The number a sample value string stands for: Prometheus writes NaN, +Inf and -Inf as words. */
export function sampleValue(text: unknown): number {
  if (!isSampleValue(text)) throw new Error(`${JSON.stringify(text)} is not a sample value`);
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function isSampleValue(text: unknown): text is string {
  if (text === 'NaN' || text === '+Inf' || text === 'Inf' || text === '-Inf') return true;
  return typeof text === 'string' && text.trim() !== '' && !Number.isNaN(Number(text));
}

function timeParam(time: TimeArg): string {
  if (time instanceof Date) return (time.getTime() / 1000).toFixed(3);
  if (typeof time === 'number') return (time / 1000).toFixed(3);
  return time;
}

/** The URL without user:password or a trailing slash, for messages. */
export function redactedUrl(url: string): string {
  return redactUserInfo(url).replace(/\/+$/, '');
}

/** Instant query: the value of `expr` at `time` (default: now). */
export function queryPrometheus(
  connection: PrometheusConnection,
  expr: string,
  options: { time?: TimeArg; signal?: AbortSignal } = {},
): Promise<InstantResult> {
  const params = { query: expr, ...(options.time !== undefined ? { time: timeParam(options.time) } : {}) };
  return call(connection, 'query', params, options.signal, (data, warnings): InstantResult => {
    switch (data.resultType) {
      case 'vector':
        return { resultType: 'vector', samples: resultOf(data, v.array(InstantSample)), warnings };
      case 'matrix':
        return { resultType: 'matrix', series: resultOf(data, v.array(RangeSeries)), warnings };
      case 'scalar':
        return { resultType: 'scalar', value: resultOf(data, Point), warnings };
      case 'string': {
        const [time, text] = resultOf(data, Pair);
        return { resultType: 'string', time: Number(time), text: String(text), warnings };
      }
      default:
        throw new Error(`resultType ${JSON.stringify(data.resultType)} is none of vector, matrix, scalar, string`);
    }
  });
}

/** Range query: `expr` from `start` to `end` every `step` (seconds, or a duration such as "15s"). */
export function queryPrometheusRange(
  connection: PrometheusConnection,
  expr: string,
  range: { start: TimeArg; end: TimeArg; step: number | string; signal?: AbortSignal },
): Promise<RangeResult> {
  const params = { query: expr, start: timeParam(range.start), end: timeParam(range.end), step: String(range.step) };
  return call(connection, 'query_range', params, range.signal, (data, warnings) => {
    if (data.resultType !== 'matrix')
      throw new Error(`a range query gave resultType ${JSON.stringify(data.resultType)}, not matrix`);
    return { series: resultOf(data, v.array(RangeSeries)), warnings };
  });
}

/** The samples of an instant query that must give a vector (what `sum by (…) (…)` gives). */
export async function queryVector(
  connection: PrometheusConnection,
  expr: string,
  options: { time?: TimeArg; signal?: AbortSignal } = {},
): Promise<InstantSample[]> {
  const result = await queryPrometheus(connection, expr, options);
  if (result.resultType === 'vector') return result.samples;
  if (result.resultType === 'scalar') return [{ metric: {}, ...result.value }];
  throw new MlopsError(`The query ${expr} gives a ${result.resultType}, not an instant vector.`);
}

/** What every answer of the API is: a status, and data on success or an error on failure. */
const ApiAnswer = v.looseObject({
  status: v.picklist(['success', 'error']),
  data: v.optional(v.unknown()),
  errorType: v.optional(v.unknown()),
  error: v.optional(v.unknown()),
  warnings: v.optional(v.unknown()),
});
const ApiData = v.looseObject({ resultType: v.optional(v.unknown()), result: v.optional(v.unknown()) });
type ApiData = v.InferOutput<typeof ApiData>;

const Pair = v.strictTuple([v.unknown(), v.unknown()], 'Expected a [time, value] pair');
const Point = v.pipe(
  v.strictTuple(
    [
      v.unknown(),
      v.pipe(
        v.unknown(),
        v.check(isSampleValue, (issue) => `${JSON.stringify(issue.input)} is not a sample value`),
        v.transform(sampleValue),
      ),
    ],
    'Expected a [time, value] pair',
  ),
  v.transform(([time, value]): Point => ({ time: Number(time), value })),
);
const Labels = v.pipe(
  v.optional(v.record(v.string(), v.unknown()), {}),
  v.transform((labels): Labels =>
    Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, String(value)])),
  ),
);
const InstantSample = v.pipe(
  v.looseObject({ metric: Labels, value: Point }),
  v.transform(({ metric, value }): InstantSample => ({ metric, ...value })),
);
const RangeSeries = v.pipe(
  v.looseObject({ metric: Labels, values: v.optional(v.array(Point), []) }),
  v.transform(({ metric, values }): RangeSeries => ({ metric, points: values })),
);

/** The result of `data` as `schema` says; an Error naming the field otherwise (`call` adds the endpoint). */
function resultOf<TSchema extends v.GenericSchema>(data: ApiData, schema: TSchema): v.InferOutput<TSchema> {
  const parsed = v.safeParse(v.looseObject({ result: schema }), data);
  if (!parsed.success) throw new Error(describeIssues(parsed.issues, 'data'));
  return parsed.output.result;
}

async function call<T>(
  connection: PrometheusConnection,
  endpoint: 'query' | 'query_range',
  params: Record<string, string>,
  signal: AbortSignal | undefined,
  parse: (data: ApiData, warnings: string[]) => T,
): Promise<T> {
  const { url, headers } = request(connection, endpoint, params);
  const where = `${redactedUrl(connection.url)}/api/v1/${endpoint}`;
  const timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signals = [AbortSignal.timeout(timeoutMs), connection.signal, signal].filter((s): s is AbortSignal =>
    Boolean(s),
  );
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.any(signals), redirect: 'follow' });
    text = await response.text();
  } catch (error) {
    if ((connection.signal?.aborted || signal?.aborted) && !signals[0]!.aborted) throw error;
    throw new MlopsError(
      `Prometheus at ${where} cannot be reached: ${networkReason(error, timeoutMs)}.`,
      'Check that Prometheus runs and listens there, or change mlops.prometheusUrl.',
      { cause: error },
    );
  }
  const answer = v.safeParse(ApiAnswer, parseJson(text));
  if (response.status === 401 || response.status === 403) {
    throw new MlopsError(
      `Prometheus at ${where} refused the credentials (HTTP ${response.status}${answer.success && answer.output.error ? `: ${String(answer.output.error)}` : ''}).`,
      connection.token || connection.username
        ? 'Check the token or user name and password it was given.'
        : 'It needs a bearer token or basic auth.',
    );
  }
  if (!answer.success) {
    const status = response.ok ? '' : ` (HTTP ${response.status} ${response.statusText})`;
    throw new MlopsError(
      `${where} did not answer like the Prometheus HTTP API${status}: ${snippet(text)}`,
      'Give the Prometheus server root (http://host:9090, plus its path prefix if it has one), not its UI, a Grafana or a model server.',
    );
  }
  const body = answer.output;
  if (body.status !== 'success') {
    const errorType = typeof body.errorType === 'string' ? body.errorType : 'error';
    throw new MlopsError(
      `Prometheus at ${where} answered HTTP ${response.status} (${errorType}): ${typeof body.error === 'string' ? body.error : snippet(text)}`,
      errorType === 'bad_data'
        ? 'The query is not valid PromQL, or a parameter is malformed.'
        : errorType === 'timeout'
          ? 'Query a shorter range or a coarser step.'
          : undefined,
    );
  }
  if (!response.ok)
    throw new MlopsError(`Prometheus at ${where} answered HTTP ${response.status} with status success.`);
  const data = v.safeParse(ApiData, body.data);
  if (!data.success) throw new MlopsError(`Prometheus at ${where} answered success without data.`);
  const warnings = Array.isArray(body.warnings) ? body.warnings.map(String) : [];
  try {
    return parse(data.output, warnings);
  } catch (error) {
    throw new MlopsError(
      `Prometheus at ${where} answered data that is not a query result: ${(error as Error).message}.`,
    );
  }
}

function request(
  connection: PrometheusConnection,
  endpoint: string,
  params: Record<string, string>,
): { url: URL; headers: Record<string, string> } {
  let base: URL;
  try {
    base = new URL(connection.url);
  } catch {
    throw new MlopsError(
      `${JSON.stringify(connection.url)} is not a Prometheus URL.`,
      'Give the server root, e.g. http://localhost:9090.',
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new MlopsError(
      `${redactedUrl(connection.url)} is not an http(s) URL.`,
      'Give the server root, e.g. http://localhost:9090.',
    );
  // fetch refuses URLs with credentials: they become basic auth.
  const userInUrl = base.username
    ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
    : undefined;
  base.username = '';
  base.password = '';
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/api/v1/${endpoint}`, base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const headers: Record<string, string> = { accept: 'application/json' };
  const username = connection.username ?? userInUrl?.username;
  const password = connection.username !== undefined ? connection.password : userInUrl?.password;
  if (connection.token) headers.authorization = `Bearer ${connection.token}`;
  else if (username !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  return { url, headers };
}

function networkReason(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: Error & { code?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = err.cause;
  if (cause?.code === 'ECONNREFUSED') return 'ECONNREFUSED: nothing listens there';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN')
    return `${cause.code}: the host name does not resolve`;
  return cause?.message ?? err.message;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat ? (flat.length > 200 ? `${flat.slice(0, 200)}…` : flat) : '(an empty body)';
}
