// A tracking server over MLflow's REST API (/api/2.0/mlflow/...), read-only, with paging,
// a bearer token (MLFLOW_TRACKING_TOKEN or one kept in SecretStorage) and timeouts.
import { MlopsError } from '../../shared/errors';
import { downsample } from '../downsample';
import {
  DEFAULT_MAX_POINTS,
  RUN_STATUSES,
  type Experiment,
  type MetricHistory,
  type MetricPoint,
  type ModelVersion,
  type RegisteredModel,
  type Run,
  type RunPage,
  type RunSearch,
  type RunStatus,
  type TrackingStore,
} from '../model';
import { serverRequest, type TrackingCredentials } from '../trackingAuth';
import { parsePythonFloat } from './metricLines';

const RUNS_PAGE = 50_000;
const HISTORY_PAGE = 25_000;

interface KeyValue {
  key: string;
  value: string;
}

interface RestRun {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    status?: string;
    start_time?: string | number;
    end_time?: string | number;
    lifecycle_stage?: string;
    artifact_uri?: string;
  };
  data?: { metrics?: { key: string; value: number | string; timestamp?: string | number; step?: string | number }[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface RestOptions extends TrackingCredentials {
  timeoutMs?: number;
}

/** Protobuf JSON writes non-finite doubles as "NaN" and "Infinity"; numbers may be strings too. */
function number(value: number | string | undefined): number {
  if (typeof value === 'number') return value;
  return value === undefined ? 0 : parsePythonFloat(value);
}

function optionalTime(value: string | number | undefined): number | null {
  return value === undefined || value === null ? null : Number(value);
}

function record(items: KeyValue[] | undefined): Record<string, string> {
  return Object.fromEntries((items ?? []).map(({ key, value }) => [key, value ?? '']));
}

export class RestTrackingStore implements TrackingStore {
  readonly kind = 'rest';
  /** The server's URL without user info, for requests and messages. */
  readonly location: string;
  private readonly base: string;
  private readonly authorization: string | undefined;

  /** User info in the URL (http://user:password@host) is basic auth when no other credentials are given. */
  constructor(
    url: string,
    private readonly options: RestOptions = {},
  ) {
    const { base, authorization } = serverRequest(url, options);
    this.base = base.href.replace(/\/+$/, '');
    this.location = this.base;
    this.authorization = authorization;
  }

  private async call<T>(path: string, init: { method?: 'GET' | 'POST'; query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.base}/api/2.0/mlflow/${path}`);
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
      throw new MlopsError(`The tracking server at ${this.base} cannot be reached: ${reason}.`, 'Check that the server runs, or change mlops.trackingUri.', { cause: error });
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new MlopsError(
        `The tracking server at ${this.base} refused the request (HTTP ${response.status}).`,
        `Set MLFLOW_TRACKING_TOKEN, or run "MLOps: Set Tracking Server Token" for ${new URL(this.base).origin}.`,
      );
    }
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        /* not JSON: keep the text */
      }
      throw new MlopsError(`The tracking server at ${this.base} answered HTTP ${response.status} to ${path}: ${message}`);
    }
    try {
      // Python's json writes bare NaN and Infinity, which JSON.parse rejects.
      return JSON.parse(text.replace(/(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '"$1"')) as T;
    } catch {
      throw new MlopsError(`The tracking server at ${this.base} did not answer JSON to ${path}.`);
    }
  }

  async listExperiments(): Promise<Experiment[]> {
    const experiments: Experiment[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ experiments?: { experiment_id: string; name: string; lifecycle_stage: string; artifact_location?: string; creation_time?: string; last_update_time?: string; tags?: KeyValue[] }[]; next_page_token?: string }>(
        'experiments/search',
        { method: 'POST', body: { max_results: 1000, view_type: 'ALL', ...(pageToken ? { page_token: pageToken } : {}) } },
      );
      for (const e of page.experiments ?? []) {
        experiments.push({
          id: e.experiment_id,
          name: e.name,
          lifecycleStage: e.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
          artifactLocation: e.artifact_location,
          creationTime: optionalTime(e.creation_time) ?? undefined,
          lastUpdateTime: optionalTime(e.last_update_time) ?? undefined,
          tags: record(e.tags),
        });
      }
      pageToken = page.next_page_token;
    } while (pageToken);
    return experiments.sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  }

  private toRun(run: RestRun): Run {
    const { info, data } = run;
    const status = (info.status ?? 'FINISHED').toUpperCase();
    return {
      runId: info.run_id,
      runName: info.run_name ?? record(data?.tags)['mlflow.runName'] ?? '',
      experimentId: info.experiment_id,
      status: (RUN_STATUSES as readonly string[]).includes(status) ? (status as RunStatus) : 'UNKNOWN',
      startTime: optionalTime(info.start_time),
      endTime: optionalTime(info.end_time),
      lifecycleStage: info.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      artifactUri: info.artifact_uri,
      params: record(data?.params),
      metrics: Object.fromEntries((data?.metrics ?? []).map((m) => [m.key, number(m.value)])),
      tags: record(data?.tags),
    };
  }

  async searchRuns(search: RunSearch): Promise<RunPage> {
    const viewType = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' }[search.lifecycle ?? 'active'];
    const wanted = search.maxResults ?? Infinity;
    const runs: Run[] = [];
    let pageToken = search.pageToken;
    do {
      const page = await this.call<{ runs?: RestRun[]; next_page_token?: string }>('runs/search', {
        method: 'POST',
        body: {
          experiment_ids: search.experimentIds,
          filter: search.filter ?? '',
          run_view_type: viewType,
          max_results: Math.min(RUNS_PAGE, wanted - runs.length),
          order_by: search.orderBy ?? [],
          ...(pageToken ? { page_token: pageToken } : {}),
        },
      });
      runs.push(...(page.runs ?? []).map((run) => this.toRun(run)));
      pageToken = page.next_page_token;
    } while (pageToken && runs.length < wanted);
    return pageToken ? { runs, nextPageToken: pageToken } : { runs };
  }

  async metricHistory(runId: string, key: string, maxPoints = DEFAULT_MAX_POINTS): Promise<MetricHistory> {
    const points: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ metrics?: { value: number | string; timestamp?: string | number; step?: string | number }[]; next_page_token?: string }>('metrics/get-history', {
        query: { run_id: runId, metric_key: key, max_results: HISTORY_PAGE, page_token: pageToken },
      });
      for (const m of page.metrics ?? []) points.push({ step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? 0), value: number(m.value) });
      pageToken = page.next_page_token;
    } while (pageToken);
    points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { runId, key, totalPoints: points.length, points: downsample(points, maxPoints) };
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const models: RegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ registered_models?: { name: string; description?: string; creation_timestamp?: string; last_updated_timestamp?: string; aliases?: { alias: string; version: string }[] }[]; next_page_token?: string }>(
        'registered-models/search',
        { query: { max_results: 1000, page_token: pageToken } },
      );
      for (const model of page.registered_models ?? []) {
        const aliases = Object.fromEntries((model.aliases ?? []).map(({ alias, version }) => [alias, String(version)]));
        models.push({
          name: model.name,
          description: model.description || undefined,
          creationTime: optionalTime(model.creation_timestamp) ?? undefined,
          lastUpdatedTime: optionalTime(model.last_updated_timestamp) ?? undefined,
          aliases,
          versions: await this.modelVersions(model.name, aliases),
        });
      }
      pageToken = page.next_page_token;
    } while (pageToken);
    return models.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async modelVersions(name: string, aliases: Record<string, string>): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ model_versions?: { version: string; run_id?: string; source?: string; status?: string; current_stage?: string; creation_timestamp?: string }[]; next_page_token?: string }>(
        'model-versions/search',
        { query: { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: 1000, page_token: pageToken } },
      );
      for (const v of page.model_versions ?? []) {
        versions.push({
          name,
          version: String(v.version),
          runId: v.run_id || undefined,
          source: v.source,
          status: v.status,
          stage: v.current_stage,
          creationTime: optionalTime(v.creation_timestamp) ?? undefined,
          aliases: Object.entries(aliases).filter(([, version]) => version === String(v.version)).map(([alias]) => alias),
        });
      }
      pageToken = page.next_page_token;
    } while (pageToken);
    return versions.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async close(): Promise<void> {}
}
