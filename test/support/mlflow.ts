// The real MLflow in tests: fixture stores made by its client, what it answers about them, and
// its tracking server. Expected answers are converted to our types (src/experiments/model.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureMlflow, mlflowPaths, mlflowReady, startMlflowServer } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import type {
  Experiment,
  LifecycleStage,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
  RunStatus,
} from '../../src/experiments/model';

const fixtures = join(repoRoot, 'test', 'fixtures', 'mlflow');

/** Installs MLflow if it can (once, into the cache); returns why it cannot run otherwise. */
export function mlflowUnavailableReason(): string | undefined {
  if (mlflowReady()) return undefined;
  const result = ensureMlflow();
  return result.ok ? undefined : result.reason;
}

export interface ExpectedSearch {
  experimentIds: string[];
  filter?: string;
  orderBy: string[];
  lifecycle: 'active' | 'deleted' | 'all';
  /** In MLflow's order. */
  runIds: string[];
}

export type ExpectedRegisteredModel = RegisteredModel & { tags: Record<string, string> };

/** What MLflow's own client answers about one store. */
export interface ExpectedStore {
  mlflowVersion: string;
  trackingUri: string;
  /** search_experiments(view_type=ALL), in MLflow's order. */
  experiments: Experiment[];
  /** Active runs of each active experiment, in MLflow's default order (start time desc, run id). */
  runsByExperiment: Record<string, Run[]>;
  /** Every run of runsByExperiment. */
  runs: Run[];
  searches: ExpectedSearch[];
  /** runId -> key -> every point, sorted by (step, timestamp). */
  histories: Record<string, Record<string, MetricPoint[]>>;
  registeredModels: ExpectedRegisteredModel[];
  runIdsByName: Record<string, string>;
}

export interface MlflowStores {
  dir: string;
  sqlitePath: string;
  sqliteUri: string;
  mlrunsPath: string;
  expectedSqlite: ExpectedStore;
  expectedFile: ExpectedStore;
}

export interface BrokenStores {
  dir: string;
  mlrunsPath: string;
  healthyExperimentId: string;
  runIdsByName: Record<string, string>;
  /** The meta.yaml that is missing, and the garbled one. */
  missingMeta: string;
  garbledMeta: string;
  garbageMetric: { path: string; runId: string; key: string; line: string; lineNumber: number; validPoints: number };
  corruptDb: string;
  truncatedDb: string;
  /** What MLflow's client does with each: `{ok: answer}` or `{error: message}`. */
  mlflowSays: Record<string, { ok?: unknown; error?: string }>;
}

/** An active run of the fixture by its name. */
export function runNamed(expected: ExpectedStore, name: string): Run {
  const run = expected.runs.find((r) => r.runName === name);
  if (!run) throw new Error(`the MLflow fixture has no active run named ${name}`);
  return run;
}

let stores: Promise<MlflowStores> | undefined;
let broken: Promise<BrokenStores> | undefined;

/** Builds the fixture stores once per test process (about 15 s), in a temp folder removed at exit. */
export function mlflowStores(): Promise<MlflowStores> {
  stores ??= (async () => {
    const dir = await runFixtureScript('make_stores.py', 'mlops-mlflow-stores-');
    const sqlitePath = join(dir, 'mlflow.db');
    return {
      dir,
      sqlitePath,
      sqliteUri: `sqlite:///${sqlitePath}`,
      mlrunsPath: join(dir, 'mlruns'),
      expectedSqlite: toExpected(readJson(join(dir, 'expected-sqlite.json'))),
      expectedFile: toExpected(readJson(join(dir, 'expected-file.json'))),
    };
  })();
  return stores;
}

/** Builds the damaged stores once per test process, in a temp folder removed at exit. */
export function brokenStores(): Promise<BrokenStores> {
  broken ??= (async () => {
    const dir = await runFixtureScript('make_broken_stores.py', 'mlops-mlflow-broken-');
    const raw = readJson(join(dir, 'broken.json')) as RawBroken;
    return {
      dir,
      mlrunsPath: raw.mlruns,
      healthyExperimentId: raw.healthy_experiment_id,
      runIdsByName: raw.run_ids_by_name,
      missingMeta: raw.missing_meta,
      garbledMeta: raw.garbled_meta,
      garbageMetric: {
        path: raw.garbage_metric.path,
        runId: raw.garbage_metric.run_id,
        key: raw.garbage_metric.key,
        line: raw.garbage_metric.line,
        lineNumber: raw.garbage_metric.line_number,
        validPoints: raw.garbage_metric.valid_points,
      },
      corruptDb: raw.corrupt_db,
      truncatedDb: raw.truncated_db,
      mlflowSays: raw.mlflow_says,
    };
  })();
  return broken;
}

/** Runs `fn` against a real `mlflow server` over the store, and stops it afterwards. */
export async function withMlflowServer<T>(backendStoreUri: string, fn: (url: string) => Promise<T>): Promise<T> {
  const server = await startMlflowServer({ backendStoreUri });
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

async function runFixtureScript(script: string, prefix: string): Promise<string> {
  const reason = mlflowUnavailableReason();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  try {
    await promisify(execFile)(mlflowPaths().python, [join(fixtures, script), dir], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, MLFLOW_ALLOW_FILE_STORE: 'true', MLFLOW_DISABLE_TELEMETRY: 'true' },
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${script} failed: ${(error as Error).message}\n${stderr ?? ''}`);
  }
  return dir;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

// JSON has no NaN or infinities; the Python side writes them as strings.
type Num = number | 'NaN' | 'Infinity' | '-Infinity';

function num(value: Num): number {
  if (typeof value === 'number') return value;
  return { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY }[value];
}

interface RawRun {
  run_id: string;
  run_name: string;
  experiment_id: string;
  status: RunStatus;
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: LifecycleStage;
  params: Record<string, string>;
  metrics: Record<string, Num>;
  tags: Record<string, string>;
}

interface RawExpected {
  mlflow_version: string;
  tracking_uri: string;
  experiments: { experiment_id: string; name: string; lifecycle_stage: LifecycleStage; tags: Record<string, string> }[];
  runs: Record<string, RawRun[]>;
  searches: {
    experiment_ids: string[];
    filter: string | null;
    order_by: string[];
    run_view_type: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
    run_ids: string[];
  }[];
  metric_histories: Record<string, Record<string, { step: number; timestamp: number; value: Num }[]>>;
  registered_models: {
    name: string;
    description: string | null;
    aliases: Record<string, string>;
    tags: Record<string, string>;
    versions: {
      version: string;
      run_id: string | null;
      source: string;
      status: string;
      current_stage: string;
      aliases: string[];
    }[];
  }[];
  run_ids_by_name: Record<string, string>;
}

interface RawBroken {
  mlruns: string;
  healthy_experiment_id: string;
  run_ids_by_name: Record<string, string>;
  missing_meta: string;
  garbled_meta: string;
  garbage_metric: {
    path: string;
    run_id: string;
    key: string;
    line: string;
    line_number: number;
    valid_points: number;
  };
  corrupt_db: string;
  truncated_db: string;
  mlflow_says: Record<string, { ok?: unknown; error?: string }>;
}

const LIFECYCLES = { ACTIVE_ONLY: 'active', DELETED_ONLY: 'deleted', ALL: 'all' } as const;

function toExpected(json: unknown): ExpectedStore {
  const raw = json as RawExpected;
  const runsByExperiment: Record<string, Run[]> = {};
  for (const [experimentId, runs] of Object.entries(raw.runs)) {
    runsByExperiment[experimentId] = runs.map((r): Run => ({
      runId: r.run_id,
      runName: r.run_name,
      experimentId: r.experiment_id,
      status: r.status,
      startTime: r.start_time,
      endTime: r.end_time,
      lifecycleStage: r.lifecycle_stage,
      params: r.params,
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, num(v)])),
      tags: r.tags,
    }));
  }
  const histories: ExpectedStore['histories'] = {};
  for (const [runId, keys] of Object.entries(raw.metric_histories)) {
    histories[runId] = Object.fromEntries(
      Object.entries(keys).map(([key, points]) => [
        key,
        points.map((p) => ({ step: p.step, timestamp: p.timestamp, value: num(p.value) })),
      ]),
    );
  }
  return {
    mlflowVersion: raw.mlflow_version,
    trackingUri: raw.tracking_uri,
    experiments: raw.experiments.map((e) => ({
      id: e.experiment_id,
      name: e.name,
      lifecycleStage: e.lifecycle_stage,
      tags: e.tags,
    })),
    runsByExperiment,
    runs: Object.values(runsByExperiment).flat(),
    searches: raw.searches.map((s) => ({
      experimentIds: s.experiment_ids,
      ...(s.filter ? { filter: s.filter } : {}),
      orderBy: s.order_by,
      lifecycle: LIFECYCLES[s.run_view_type],
      runIds: s.run_ids,
    })),
    histories,
    registeredModels: raw.registered_models.map((m) => ({
      name: m.name,
      ...(m.description ? { description: m.description } : {}),
      aliases: m.aliases,
      tags: m.tags,
      versions: m.versions.map((v): ModelVersion => ({
        name: m.name,
        version: v.version,
        ...(v.run_id ? { runId: v.run_id } : {}),
        source: v.source,
        status: v.status,
        stage: v.current_stage,
        aliases: v.aliases,
      })),
    })),
    runIdsByName: raw.run_ids_by_name,
  };
}

/** Registers `versions` versions of a model on a tracking server, each logged from a run of its own; returns the runs' ids. */
export async function registerModelVersions(url: string, model: string, versions: number): Promise<string[]> {
  const rest = async <T>(endpoint: string, body: unknown): Promise<T> => {
    const response = await fetch(`${url}/api/2.0/mlflow/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${endpoint}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const { experiment_id } = await rest<{ experiment_id: string }>('experiments/create', {
    name: `${model}-${Date.now()}`,
  });
  await rest('registered-models/create', { name: model });
  const runs: string[] = [];
  for (let i = 0; i < versions; i++) {
    const { run } = await rest<{ run: { info: { run_id: string } } }>('runs/create', {
      experiment_id,
      start_time: Date.now(),
    });
    runs.push(run.info.run_id);
    await rest('model-versions/create', {
      name: model,
      source: `runs:/${run.info.run_id}/model`,
      run_id: run.info.run_id,
    });
  }
  return runs;
}
