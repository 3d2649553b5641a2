// Saves a dashboard in Grafana: POST /api/dashboards/db with overwrite, authenticated by a service
// account token (Bearer). Failures are MlopsErrors that say what to do: a token refused (401) or
// without the right (403), no Grafana API there (404), a clash with another dashboard (412), no
// answer at all. The token never appears in a message.
import * as v from 'valibot';
import { MlopsError } from '../../shared/errors';

export interface PushDashboardOptions {
  /** The Grafana root, e.g. https://grafana.example.com (a sub path such as /grafana is kept). */
  grafanaUrl: string;
  /** A service account token (or API key), sent as a Bearer token. */
  token: string;
  /** The dashboard JSON model; its uid decides which dashboard is replaced. */
  dashboard: { uid?: string; title?: string } & Record<string, unknown>;
  /** The folder to save it in; absent: the General folder (or where it already is). */
  folderUid?: string;
  /** The version history note. */
  message?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface PushDashboardResult {
  /** The dashboard's address in Grafana. */
  url: string;
  uid: string;
  version: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** What Grafana answers to POST /api/dashboards/db, loosely: a field it does not send, or a body that is not an object, is judged below. */
const GrafanaAnswer = v.fallback(
  v.looseObject({
    message: v.optional(v.unknown()),
    status: v.optional(v.unknown()),
    uid: v.optional(v.unknown()),
    url: v.optional(v.unknown()),
    version: v.optional(v.unknown()),
  }),
  {},
);
type GrafanaAnswer = v.InferOutput<typeof GrafanaAnswer>;
const TOKEN_REMEDY =
  'Create a service account token with the Editor role in Grafana (Administration › Service accounts) and set it with "MLOps: Set Grafana Token", or in GRAFANA_TOKEN for the CLI.';

function grafanaBase(grafanaUrl: string): URL {
  let base: URL;
  try {
    base = new URL(grafanaUrl);
  } catch {
    throw new MlopsError(
      `${JSON.stringify(grafanaUrl)} is not a Grafana URL.`,
      'Give its root, e.g. http://localhost:3000, in mlops.grafanaUrl or --grafana-url.',
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new MlopsError(`${grafanaUrl} is not an http(s) URL.`, 'Give the Grafana root, e.g. http://localhost:3000.');
  if (base.username || base.password) throw new MlopsError('The Grafana URL must not hold credentials.', TOKEN_REMEDY);
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return base;
}

export async function pushDashboard(options: PushDashboardOptions): Promise<PushDashboardResult> {
  const base = grafanaBase(options.grafanaUrl);
  const where = base.toString().replace(/\/$/, '');
  if (!options.token) throw new MlopsError(`No Grafana token is set for ${where}.`, TOKEN_REMEDY);
  const endpoint = new URL('api/dashboards/db', base);
  const title = options.dashboard.title ?? options.dashboard.uid ?? 'the dashboard';
  const hide = (text: string) => (options.token.length >= 4 ? text.split(options.token).join('***') : text);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        // id null: found by uid, created when it is not there yet.
        dashboard: { ...options.dashboard, id: null },
        overwrite: true,
        ...(options.folderUid ? { folderUid: options.folderUid } : {}),
        message: options.message ?? 'Saved by MLOps for Data Scientists',
      }),
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      // A redirect (to a login page) is an answer to report, not to follow with the token.
      redirect: 'manual',
    });
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted && !timeout.aborted) throw error;
    const err = error as Error & { cause?: Error & { code?: string } };
    const reason =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000} s`
        : err.cause?.code === 'ECONNREFUSED'
          ? 'ECONNREFUSED: nothing listens there'
          : (err.cause?.message ?? err.message);
    throw new MlopsError(
      `Grafana at ${where} cannot be reached: ${hide(reason)}.`,
      'Check that Grafana runs there, or change mlops.grafanaUrl (--grafana-url).',
      { cause: error },
    );
  }
  let body: GrafanaAnswer = {};
  try {
    body = v.parse(GrafanaAnswer, JSON.parse(text));
  } catch {
    /* not JSON: reported below by status */
  }
  const said = hide(typeof body.message === 'string' ? body.message : text.replace(/\s+/g, ' ').trim().slice(0, 200));
  const detail = said ? `: ${said}` : '';
  switch (response.status) {
    case 200:
      break;
    case 401:
      throw new MlopsError(`Grafana at ${where} did not accept the token (HTTP 401${detail}).`, TOKEN_REMEDY);
    case 403:
      throw new MlopsError(
        `Grafana at ${where} refused to save ${title} with this token (HTTP 403${detail}).`,
        'Give its service account the Editor role, or write access to the folder.',
      );
    case 404:
      throw new MlopsError(
        `${where} has no Grafana dashboards API (HTTP 404 on POST /api/dashboards/db${detail}).`,
        options.folderUid
          ? `Check that folder ${options.folderUid} exists, and that the URL is the Grafana root.`
          : 'Check that the URL is the Grafana root (with its sub path, if it is served under one).',
      );
    case 412: {
      const status = typeof body.status === 'string' ? body.status : 'precondition failed';
      throw new MlopsError(
        `Grafana refused to save ${title} at ${where} (HTTP 412, ${status}${detail}).`,
        status === 'name-exists'
          ? 'Another dashboard in that folder has the same title: rename or move it.'
          : status === 'plugin-dashboard'
            ? 'A plugin provides a dashboard with this uid: remove it in Grafana first.'
            : 'Another dashboard has this uid or title: rename or delete it in Grafana, then push again.',
      );
    }
    default:
      if (response.status >= 300 && response.status < 400) {
        throw new MlopsError(
          `Grafana at ${where} redirected the request (HTTP ${response.status} to ${response.headers.get('location') ?? 'elsewhere'}).`,
          'Give the URL Grafana is served at (https, sub path), as the redirect suggests.',
        );
      }
      throw new MlopsError(`Grafana at ${where} answered HTTP ${response.status} to POST /api/dashboards/db${detail}`);
  }
  if (typeof body.uid !== 'string' || typeof body.url !== 'string') {
    throw new MlopsError(
      `${where} answered POST /api/dashboards/db without a dashboard uid and url: is it Grafana?`,
      'Give the Grafana root URL.',
    );
  }
  return { url: new URL(body.url, base.origin).toString(), uid: body.uid, version: Number(body.version ?? 0) };
}
