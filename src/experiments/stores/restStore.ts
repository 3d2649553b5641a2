// A tracking server over MLflow's REST API (/api/2.0/mlflow/...), read-only, with paging,
// a bearer token (MLFLOW_TRACKING_TOKEN or one kept in SecretStorage) and timeouts.
import * as v from 'valibot';
import { describeIssues } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { downsample } from '../../shared/downsample';
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

// The parts of MLflow's answers that are read, loosely: extra fields pass, and what protobuf JSON
// leaves out when unset is optional. int64 fields come as numbers or as strings of digits.
const Int64 = v.optional(
  v.union([v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^-?\d+$/, 'Expected an integer'))]),
);
/** Protobuf JSON writes non-finite doubles as "NaN" and "Infinity"; numbers may be strings too. */
const Double = v.optional(v.union([v.number(), v.pipe(v.string(), v.check(isFloat, 'Expected a number'))]));
const KeyValues = v.optional(v.array(v.looseObject({ key: v.string(), value: v.optional(v.string()) })));
const PageToken = v.optional(v.string());
/** MLflow's error answer ({error_code, message}); anything else is shown as text. */
const ErrorAnswer = v.looseObject({ message: v.optional(v.string()) });

const ExperimentsPage = v.looseObject({
  experiments: v.optional(
    v.array(
      v.looseObject({
        experiment_id: v.string(),
        name: v.string(),
        lifecycle_stage: v.optional(v.string()),
        artifact_location: v.optional(v.string()),
        creation_time: Int64,
        last_update_time: Int64,
        tags: KeyValues,
      }),
    ),
  ),
  next_page_token: PageToken,
});

const RestRun = v.looseObject({
  info: v.looseObject({
    run_id: v.string(),
    run_name: v.optional(v.string()),
    experiment_id: v.string(),
    status: v.optional(v.string()),
    start_time: Int64,
    end_time: Int64,
    lifecycle_stage: v.optional(v.string()),
    artifact_uri: v.optional(v.string()),
  }),
  data: v.optional(
    v.looseObject({
      metrics: v.optional(v.array(v.looseObject({ key: v.string(), value: Double }))),
      params: KeyValues,
      tags: KeyValues,
    }),
  ),
});
type RestRun = v.InferOutput<typeof RestRun>;

const RunsPage = v.looseObject({ runs: v.optional(v.array(RestRun)), next_page_token: PageToken });

const HistoryPage = v.looseObject({
  metrics: v.optional(v.array(v.looseObject({ value: Double, timestamp: Int64, step: Int64 }))),
  next_page_token: PageToken,
});

const Version = v.union([v.string(), v.pipe(v.number(), v.integer())]);

const RegisteredModelsPage = v.looseObject({
  registered_models: v.optional(
    v.array(
      v.looseObject({
        name: v.string(),
        description: v.optional(v.string()),
        creation_timestamp: Int64,
        last_updated_timestamp: Int64,
        aliases: v.optional(v.array(v.looseObject({ alias: v.string(), version: Version }))),
      }),
    ),
  ),
  next_page_token: PageToken,
});

const ModelVersionsPage = v.looseObject({
  model_versions: v.optional(
    v.array(
      v.looseObject({
        version: Version,
        run_id: v.optional(v.string()),
        source: v.optional(v.string()),
        status: v.optional(v.string()),
        current_stage: v.optional(v.string()),
        creation_timestamp: Int64,
      }),
    ),
  ),
  next_page_token: PageToken,
});

export interface RestOptions extends TrackingCredentials {
  timeoutMs?: number;
}

function isFloat(text: string): boolean {
  try {
    parsePythonFloat(text);
    return true;
  } catch {
    return false;
  }
}

/** The first problems valibot found, each with the field it is in (experiments.0.name). */
function number(value: number | string | undefined): number {
  if (typeof value === 'number') return value;
  return value === undefined ? 0 : parsePythonFloat(value);
}

function optionalTime(value: string | number | undefined): number | null {
  return value === undefined ? null : Number(value);
}

function record(items: { key: string; value?: string }[] | undefined): Record<string, string> {
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

  private async call<S extends v.GenericSchema>(
    path: string,
    schema: S,
    init: { method?: 'GET' | 'POST'; query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<v.InferOutput<S>> {
    const url = new URL(`${this.base}/api/2.0/mlflow/${path}`);
    for (const [key, value] of Object.entries(init.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
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
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${timeoutMs / 1000} s`
          : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
      if (reason === 'bad port') {
        throw new MlopsError(
          `The tracking server at ${this.base} cannot be reached: port ${url.port} is one that Node's fetch refuses to connect to (a port reserved for another protocol).`,
          "Run the tracking server on another port (MLflow's default is 5000), and change mlops.trackingUri or MLFLOW_TRACKING_URI to match.",
          { cause: error },
        );
      }
      throw new MlopsError(
        `The tracking server at ${this.base} cannot be reached: ${reason}.`,
        'Check that the server runs, or change mlops.trackingUri.',
        { cause: error },
      );
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
        const error = v.safeParse(ErrorAnswer, JSON.parse(text));
        if (error.success && error.output.message !== undefined) message = error.output.message;
      } catch {
        /* not JSON: keep the text */
      }
      throw new MlopsError(
        `The tracking server at ${this.base} answered HTTP ${response.status} to ${path}: ${message}`,
      );
    }
    let answer: unknown;
    try {
      // Python's json writes bare NaN and Infinity, which JSON.parse rejects.
      answer = JSON.parse(text.replace(/(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '"$1"'));
    } catch {
      throw new MlopsError(`The tracking server at ${this.base} did not answer JSON to ${path}.`);
    }
    const parsed = v.safeParse(schema, answer);
    if (!parsed.success) {
      throw new MlopsError(
        `The tracking server at ${this.base} gave an answer to ${path} that is not MLflow's: ${describeIssues(parsed.issues, 'the answer')}.`,
        'Check that mlops.trackingUri (or MLFLOW_TRACKING_URI) is the root URL of an MLflow tracking server, not a proxy or another service.',
      );
    }
    return parsed.output;
  }

  async listExperiments(): Promise<Experiment[]> {
    const experiments: Experiment[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('experiments/search', ExperimentsPage, {
        method: 'POST',
        body: { max_results: 1000, view_type: 'ALL', ...(pageToken ? { page_token: pageToken } : {}) },
      });
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
      const page = await this.call('runs/search', RunsPage, {
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
      const page = await this.call('metrics/get-history', HistoryPage, {
        query: { run_id: runId, metric_key: key, max_results: HISTORY_PAGE, page_token: pageToken },
      });
      for (const m of page.metrics ?? [])
        points.push({ step: Number(m.step ?? 0), timestamp: Number(m.timestamp ?? 0), value: number(m.value) });
      pageToken = page.next_page_token;
    } while (pageToken);
    points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { runId, key, totalPoints: points.length, points: downsample(points, maxPoints) };
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const models: RegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call('registered-models/search', RegisteredModelsPage, {
        query: { max_results: 1000, page_token: pageToken },
      });
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
      const page = await this.call('model-versions/search', ModelVersionsPage, {
        query: { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: 1000, page_token: pageToken },
      });
      for (const modelVersion of page.model_versions ?? []) {
        versions.push({
          name,
          version: String(modelVersion.version),
          runId: modelVersion.run_id || undefined,
          source: modelVersion.source,
          status: modelVersion.status,
          stage: modelVersion.current_stage,
          creationTime: optionalTime(modelVersion.creation_timestamp) ?? undefined,
          aliases: Object.entries(aliases)
            .filter(([, version]) => version === String(modelVersion.version))
            .map(([alias]) => alias),
        });
      }
      pageToken = page.next_page_token;
    } while (pageToken);
    return versions.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async close(): Promise<void> {}
}
