// mlflow.db, MLflow's SQLite store, read-only. @photostructure/sqlite is an N-API module with
// prebuilt binaries, so it loads in VS Code's Electron without a rebuild, opens the file
// read-only, sees rows still in the WAL, and waits on a writer's lock (busy timeout, then retries).
import { statSync } from 'node:fs';
import type {
  DatabaseSyncInstance as DatabaseSync,
  StatementSyncInstance as StatementSync,
} from '@photostructure/sqlite';
import { MlopsError } from '../../shared/errors';
import { downsample } from '../../shared/downsample';
import {
  DEFAULT_MAX_POINTS,
  RUN_IDS_REMEDY,
  RUN_STATUSES,
  type Experiment,
  type LifecycleStage,
  type MetricHistory,
  type RegisteredModel,
  type Run,
  type RunPage,
  type RunSearch,
  type RunStatus,
  type TrackingStore,
} from '../model';
import { searchInMemory } from '../runQuery';

const BUSY_TIMEOUT_MS = 5000;
const BUSY_RETRIES = 20;
const retryDelayMs = (attempt: number) => 50 * (attempt + 1);
/** How long a query waits for a writer's lock in all: SQLite's busy timeout on each try, and the pauses between. */
const BUSY_BUDGET_MS =
  (BUSY_RETRIES + 1) * BUSY_TIMEOUT_MS +
  Array.from({ length: BUSY_RETRIES }, (_, i) => retryDelayMs(i)).reduce((a, b) => a + b, 0);
const PAGE_CACHE_KB = 128 * 1024;

type Row = unknown[];

function isBusy(error: unknown): boolean {
  return /SQLITE_BUSY|SQLITE_LOCKED|database is locked/i.test(String((error as Error)?.message));
}

export class SqliteTrackingStore implements TrackingStore {
  readonly kind = 'sqlite';
  private db: DatabaseSync | undefined;
  private readonly statements = new Map<string, StatementSync>();
  /** Runs per experiment, kept while no other connection has committed (PRAGMA data_version). */
  private readonly runCache = new Map<string, Run[]>();
  private cachedVersion = -1;

  constructor(readonly location: string) {}

  private open(): DatabaseSync {
    if (this.db) return this.db;
    try {
      statSync(this.location);
    } catch {
      throw new MlopsError(`${this.location} does not exist.`);
    }
    // Loaded on first use: the native module is not needed until a store is read.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sqlite = require('@photostructure/sqlite') as typeof import('@photostructure/sqlite');
    const db = new sqlite.DatabaseSync(this.location, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
    try {
      // Listing 100,000 runs makes ~400,000 index lookups: a larger page cache saves most of their
      // reads. Setting it reads the schema, so a writer's lock may already hold it up here.
      db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KB}`);
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    return db;
  }

  private explain(error: unknown): MlopsError {
    const message = (error as Error)?.message ?? String(error);
    if (/not a database|malformed|corrupt/i.test(message)) {
      return new MlopsError(
        `${this.location} is not a readable MLflow database: ${message}.`,
        'Restore it from a backup, or point mlops.trackingUri at another store.',
        { cause: error },
      );
    }
    if (/no such table/i.test(message)) {
      return new MlopsError(`${this.location} is not an MLflow tracking database (${message}).`, undefined, {
        cause: error,
      });
    }
    if (isBusy(error)) {
      return new MlopsError(
        `${this.location} stayed locked by another process for ${Math.round(BUSY_BUDGET_MS / 1000)} s.`,
        'Try again when MLflow has finished writing.',
        { cause: error },
      );
    }
    return new MlopsError(`${this.location}: ${message}`, undefined, { cause: error });
  }

  /**
   * Runs a read-only query, opening the database first if need be, and retrying while a writer
   * holds the lock: at open as at any later read. Rows come back as arrays.
   */
  private async query(sql: string, ...params: (string | number)[]): Promise<Row[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        let statement = this.statements.get(sql);
        if (!statement) {
          statement = this.open().prepare(sql);
          statement.setReturnArrays(true);
          this.statements.set(sql, statement);
        }
        // Arrays (setReturnArrays) of SQLite values from this store's own SELECTs: each caller converts its columns.
        return statement.all(...params) as unknown as Row[];
      } catch (error) {
        if (isBusy(error) && attempt < BUSY_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
          continue;
        }
        throw error instanceof MlopsError ? error : this.explain(error);
      }
    }
  }

  async listExperiments(): Promise<Experiment[]> {
    const rows = await this.query(
      'SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time FROM experiments ORDER BY experiment_id',
    );
    const tags = await this.query('SELECT experiment_id, key, value FROM experiment_tags');
    const tagsById = new Map<string, Record<string, string>>();
    for (const [id, key, value] of tags) {
      const record = tagsById.get(String(id)) ?? {};
      record[String(key)] = String(value ?? '');
      tagsById.set(String(id), record);
    }
    return rows.map(([id, name, artifactLocation, stage, created, updated]) => ({
      id: String(id),
      name: String(name),
      lifecycleStage: stage === 'deleted' ? 'deleted' : 'active',
      artifactLocation: artifactLocation == null ? undefined : String(artifactLocation),
      creationTime: created == null ? undefined : Number(created),
      lastUpdateTime: updated == null ? undefined : Number(updated),
      tags: tagsById.get(String(id)) ?? {},
    }));
  }

  private async dataVersion(): Promise<number> {
    const [[version]] = await this.query('PRAGMA data_version');
    return Number(version);
  }

  private async runsOf(experimentId: string): Promise<Run[]> {
    const cached = this.runCache.get(experimentId);
    if (cached) return cached;
    // One row per run, its metrics, params and tags folded into JSON objects by SQLite: building
    // 100,000 rows is several times faster than building the million rows of latest_metrics.
    const rows = await this.query(
      `SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri,
         (SELECT json_group_object(key, CASE WHEN is_nan THEN NULL ELSE value END) FROM latest_metrics m WHERE m.run_uuid = r.run_uuid),
         (SELECT json_group_object(key, value) FROM params p WHERE p.run_uuid = r.run_uuid),
         (SELECT json_group_object(key, value) FROM tags t WHERE t.run_uuid = r.run_uuid)
       FROM runs r WHERE r.experiment_id = ?`,
      Number(experimentId),
    );
    const runs = rows.map(([runId, name, status, start, end, stage, artifactUri, metrics, params, tags]): Run => ({
      runId: String(runId),
      runName: name == null ? '' : String(name),
      experimentId,
      status: (RUN_STATUSES as readonly unknown[]).includes(status) ? (status as RunStatus) : 'UNKNOWN',
      startTime: start == null ? null : Number(start),
      endTime: end == null ? null : Number(end),
      lifecycleStage: (stage === 'deleted' ? 'deleted' : 'active') as LifecycleStage,
      artifactUri: artifactUri == null ? undefined : String(artifactUri),
      // MLflow keeps NaN as is_nan with a placeholder value; it arrives here as null.
      metrics: jsonObject<number>(metrics, NaN),
      params: jsonObject<string>(params, ''),
      tags: jsonObject<string>(tags, ''),
    }));
    this.runCache.set(experimentId, runs);
    return runs;
  }

  async searchRuns(search: RunSearch): Promise<RunPage> {
    const version = await this.dataVersion();
    if (version !== this.cachedVersion) {
      this.runCache.clear();
      this.cachedVersion = version;
    }
    const runs = (await Promise.all(search.experimentIds.map((id) => this.runsOf(id)))).flat();
    return searchInMemory(runs, search);
  }

  async metricHistory(runId: string, key: string, maxPoints = DEFAULT_MAX_POINTS): Promise<MetricHistory> {
    const rows = await this.query(
      'SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp',
      runId,
      key,
    );
    if (rows.length === 0) await this.explainNoHistory(runId, key);
    const points = rows.map(([step, timestamp, value, isNan]) => ({
      step: Number(step),
      timestamp: Number(timestamp),
      value: isNan ? NaN : Number(value),
    }));
    return { runId, key, totalPoints: points.length, points: downsample(points, maxPoints) };
  }

  /** A history with no point: the run is not in the store, or it never logged that metric. */
  private async explainNoHistory(runId: string, key: string): Promise<void> {
    if ((await this.query('SELECT 1 FROM runs WHERE run_uuid = ?', runId)).length === 0) {
      throw new MlopsError(`Run ${runId} is not in ${this.location}.`, RUN_IDS_REMEDY);
    }
    const logged = (await this.query('SELECT DISTINCT key FROM metrics WHERE run_uuid = ? ORDER BY key', runId)).map(
      ([name]) => String(name),
    );
    throw new MlopsError(
      `Run ${runId} has no metric '${key}' in ${this.location}.`,
      logged.length ? `It logged ${logged.join(', ')}.` : 'It logged no metrics.',
    );
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const models = await this.query(
      'SELECT name, description, creation_time, last_updated_time FROM registered_models ORDER BY name',
    );
    const versions = await this.query(
      'SELECT name, version, run_id, source, status, current_stage, creation_time FROM model_versions ORDER BY name, version',
    );
    const aliases = await this.query('SELECT name, alias, version FROM registered_model_aliases');
    return models.map(([name, description, created, updated]) => {
      const modelAliases = Object.fromEntries(
        aliases.filter((a) => a[0] === name).map(([, alias, version]) => [String(alias), String(version)]),
      );
      return {
        name: String(name),
        description: description ? String(description) : undefined,
        creationTime: created == null ? undefined : Number(created),
        lastUpdatedTime: updated == null ? undefined : Number(updated),
        aliases: modelAliases,
        versions: versions
          .filter((v) => v[0] === name)
          .map(([, version, runId, source, status, stage, creationTime]) => ({
            name: String(name),
            version: String(version),
            runId: runId ? String(runId) : undefined,
            source: source ? String(source) : undefined,
            status: status ? String(status) : undefined,
            stage: stage ? String(stage) : undefined,
            creationTime: creationTime == null ? undefined : Number(creationTime),
            aliases: Object.entries(modelAliases)
              .filter(([, v]) => v === String(version))
              .map(([alias]) => alias),
          })),
      };
    });
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }
}

/** Parses a JSON object from SQLite, replacing nulls in place (no copy: there are 300,000 of them). */
function jsonObject<T>(json: unknown, whenNull: T): Record<string, T> {
  if (typeof json !== 'string') return {};
  // An object of json_group_object from a known SELECT; not checked per key, as there are 300,000 of them.
  const record = JSON.parse(json) as Record<string, T | null>;
  for (const key in record) if (record[key] === null) record[key] = whenNull;
  return record as Record<string, T>;
}
