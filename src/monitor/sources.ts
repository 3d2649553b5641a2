// Where a deployment's numbers are read, without Prometheus: every instance's /metrics and
// request log. On Swarm the router on the published port fans out to the tasks
// (/router/backends/...); on Kubernetes each pod is reached through the API server's pod proxy;
// a lone model server (a container run by hand, a test) is read directly. Request logs are read
// with the deployment's data token; metrics need none.
import * as v from 'valibot';
import { describeError, MlopsError } from '../shared/errors';
import { httpGet, type HttpAnswer, type HttpGetOptions } from '../shared/httpGet';
import { DATA_TOKEN_HEADER } from '../deploy/targets/dataToken';
import type { DeployTarget } from '../deploy/targets/deployTarget';
import type { Scrape } from './model';
import { parsePrometheusText } from './prometheusText';

export interface RequestLinesPage {
  /** JSON lines of the request log, oldest first, each with an `instance` field. */
  lines: string[];
  /** More lines wait past the last one: ask again from its `ts`. */
  more: boolean;
  unreachable: string[];
}

export interface MonitorSource {
  /** "the router at http://localhost:8080", for messages. */
  readonly description: string;
  scrape(signal?: AbortSignal): Promise<Scrape>;
  /** Request log lines with a `ts` after `since` (all when null). */
  requestLines(since: string | null, limit: number, signal?: AbortSignal): Promise<RequestLinesPage>;
}

const LINES_LIMIT_HEADER = 'x-mlops-more';

/** The data token, asked for when a request log is first read. */
export type TokenSource = () => Promise<string>;

async function tokenHeaders(token: TokenSource | undefined): Promise<Record<string, string>> {
  return token ? { [DATA_TOKEN_HEADER]: await token() } : {};
}

/** A token source that asks once. */
function once(token: TokenSource): TokenSource {
  let asked: Promise<string> | undefined;
  return () => (asked ??= token());
}

function requestsPath(base: string, since: string | null, limit: number): string {
  const query = new URLSearchParams({ limit: String(limit), ...(since ? { since } : {}) });
  return `${base}?${query}`;
}

/** A model server's or router's error answer; anything else is shown as text. */
const ErrorAnswer = v.looseObject({ message: v.optional(v.string()) });

function ensureOk(answer: HttpAnswer, what: string): HttpAnswer {
  if (answer.status !== 200) {
    let detail = answer.body.trim().slice(0, 300);
    try {
      const error = v.safeParse(ErrorAnswer, JSON.parse(answer.body));
      if (error.success && error.output.message !== undefined) detail = error.output.message;
    } catch {
      // plain text: keep it
    }
    throw new MlopsError(`${what} answered HTTP ${answer.status}: ${detail}`);
  }
  return answer;
}

function splitLines(body: string): string[] {
  return body.split('\n').filter((line) => line.trim());
}

function listHeader(answer: HttpAnswer, name: string): string[] {
  return (answer.headers[name] ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The router of a Swarm deployment, which fans out to its tasks. */
export function routerSource(url: string, token?: TokenSource): MonitorSource {
  const base = url.replace(/\/$/, '');
  const description = `the router at ${base}`;
  return {
    description,
    async scrape(signal) {
      const at = Date.now();
      const answer = ensureOk(
        await reach(description, () => httpGet(`${base}/router/backends/metrics`, { signal })),
        description,
      );
      const samples = parsePrometheusText(answer.body, `${base}/router/backends/metrics`);
      const down = samples
        .filter((s) => s.name === 'mlops_backend_up' && s.value === 0)
        .map((s) => s.labels.instance ?? '');
      const reasons = new Map(listHeader(answer, 'x-mlops-unreachable').map((entry) => [entry.split(' ')[0], entry]));
      return {
        at,
        samples: samples.filter((s) => s.name !== 'mlops_backend_up'),
        unreachable: down.map((instance) => ({ instance, error: reasons.get(instance) ?? 'no answer' })),
      };
    },
    async requestLines(since, limit, signal) {
      const headers = await tokenHeaders(token);
      const answer = ensureOk(
        await reach(description, () =>
          httpGet(`${base}${requestsPath('/router/backends/requests', since, limit)}`, { signal, headers }),
        ),
        description,
      );
      return {
        lines: splitLines(answer.body),
        more: answer.headers[LINES_LIMIT_HEADER] === '1',
        unreachable: listHeader(answer, 'x-mlops-unreachable'),
      };
    },
  };
}

export interface InstanceReader {
  instance: string;
  get(path: string, options?: Pick<HttpGetOptions, 'signal' | 'headers'>): Promise<HttpAnswer>;
}

/**
 * Model servers read one by one (pods, or a single server): the scrape gets each one's
 * `instance` label here, and request lines are merged as the router merges them.
 */
export function instancesSource(
  description: string,
  list: () => Promise<InstanceReader[]>,
  token?: TokenSource,
): MonitorSource {
  return {
    description,
    async scrape(signal) {
      const at = Date.now();
      const readers = await list();
      const results = await Promise.all(
        readers.map(async (reader) => {
          try {
            const answer = ensureOk(await reader.get('/metrics', { signal }), reader.instance);
            return { reader, samples: parsePrometheusText(answer.body, `${reader.instance}/metrics`) };
          } catch (error) {
            return { reader, error: describeError(error) };
          }
        }),
      );
      return {
        at,
        samples: results.flatMap((r) =>
          (r.samples ?? []).map((s) => ({ ...s, labels: { ...s.labels, instance: r.reader.instance } })),
        ),
        unreachable: results
          .filter((r) => r.error !== undefined)
          .map((r) => ({ instance: r.reader.instance, error: r.error! })),
      };
    },
    async requestLines(since, limit, signal) {
      const readers = await list();
      const headers = await tokenHeaders(token);
      const pages = await Promise.all(
        readers.map(async (reader) => {
          try {
            const answer = await reader.get(requestsPath('/requests', since, limit), { signal, headers });
            if (answer.status === 404 && answer.body.includes('REQUEST_LOG_DISABLED'))
              return { reader, lines: [] as string[], more: false };
            ensureOk(answer, reader.instance);
            const completeBefore = answer.headers['x-mlops-complete-before'];
            return {
              reader,
              lines: splitLines(answer.body).map((line) => withInstance(line, reader.instance)),
              more: answer.headers[LINES_LIMIT_HEADER] === '1',
              ...(completeBefore ? { completeBefore } : {}),
            };
          } catch (error) {
            return { reader, lines: [] as string[], more: false, error: describeError(error) };
          }
        }),
      );
      return mergePages(pages);
    },
  };
}

function withInstance(line: string, instance: string): string {
  return line.startsWith('{') ? `{"instance":${JSON.stringify(instance)},${line.slice(1)}` : line;
}

const tsOf = (line: string) => /"ts":"([^"]*)"/.exec(line)?.[1] ?? '';

/**
 * Merges the pages of several instances by time. When one was cut short, lines after its last
 * time are left for the next read, so continuing from the last time returned loses nothing. So
 * are lines at or after the earliest time an instance says its log is complete before (its
 * current millisecond, or a clock behind the others'), as the router does.
 */
export function mergePages(
  pages: { reader: { instance: string }; lines: string[]; more: boolean; completeBefore?: string; error?: string }[],
): RequestLinesPage {
  const truncated = pages.filter((p) => p.more && p.lines.length);
  const cutoff = truncated.length ? truncated.map((p) => tsOf(p.lines.at(-1)!)).sort()[0] : undefined;
  const settled = pages.flatMap((p) => (p.completeBefore ? [p.completeBefore] : [])).sort()[0];
  const lines = pages
    .flatMap((p) => p.lines)
    .filter((line) => (cutoff === undefined || tsOf(line) <= cutoff) && (settled === undefined || tsOf(line) < settled))
    .map((line) => ({ line, ts: tsOf(line) }))
    .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
    .map((entry) => entry.line);
  return {
    lines,
    more: cutoff !== undefined,
    unreachable: pages.filter((p) => p.error).map((p) => `${p.reader.instance} (${p.error})`),
  };
}

/** One model server at `url`, its instance named by its address. */
export function serverSource(url: string, token?: TokenSource): MonitorSource {
  const base = url.replace(/\/$/, '');
  const instance = new URL(base).host;
  return instancesSource(
    `the model server at ${base}`,
    async () => [{ instance, get: (path, options) => httpGet(`${base}${path}`, options) }],
    token,
  );
}

async function reach(description: string, request: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  try {
    return await request();
  } catch (error) {
    throw new MlopsError(
      `Cannot reach ${description}: ${describeError(error)}.`,
      'Check that the deployment is running and its port is published.',
      { cause: error },
    );
  }
}

/** The source of a deployment on its target: pods on Kubernetes, the router (or the service) on Swarm. */
export async function deploymentSource(target: DeployTarget, name: string): Promise<MonitorSource> {
  const token = once(() => target.dataToken(name));
  if (target.kind === 'kubernetes') {
    const kubernetes = target as import('../deploy/targets/kubernetes/kubernetesTarget').KubernetesTarget;
    return instancesSource(
      `the pods of ${name} on ${target.location}`,
      async () => {
        const proxies = await kubernetes.podProxies(name);
        if (!proxies.length)
          throw new MlopsError(`${name} on ${target.location} has no running pods to read metrics from.`);
        return proxies.map((proxy) => ({ instance: proxy.pod, get: proxy.get }));
      },
      token,
    );
  }
  const status = await target.status(name);
  const endpoint =
    status.endpoints.find((e) => e.publishMode === 'host') ?? status.endpoints.find((e) => e.publishMode === 'ingress');
  if (!endpoint)
    throw new MlopsError(
      `${name} on ${target.location} publishes no port, so its metrics cannot be read from here.`,
      'Deploy it with a published port: monitoring reads the tasks through its router.',
    );
  if (endpoint.publishMode === 'host') return routerSource(endpoint.url, token);
  return serverSource(endpoint.url, token);
}
