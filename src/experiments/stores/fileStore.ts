// The mlruns/ file store, read-only: experiments and runs as folders of meta.yaml, params,
// tags and metric files. A file that cannot be read marks its experiment or run with a problem
// naming the file; the rest of the store is still shown.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapConcurrent } from '../../shared/concurrency';
import { MlopsError } from '../../shared/errors';
import { downsample } from '../../shared/downsample';
import {
  DEFAULT_MAX_POINTS,
  RUN_IDS_REMEDY,
  RUN_STATUSES,
  type Experiment,
  type LifecycleStage,
  type MetricHistory,
  type ModelVersion,
  type RegisteredModel,
  type Run,
  type RunPage,
  type RunSearch,
  type RunStatus,
  type TrackingStore,
} from '../model';
import { searchInMemory } from '../runQuery';
import { parseFlatYaml, type YamlValue } from './flatYaml';
import { byStepThenTime, latestInMetricFile, metricFileProblem, parseMetricFile } from './metricLines';

const IO_PARALLELISM = 64;
const RUNS_PER_SLICE = 200;
const NOT_EXPERIMENTS = new Set(['.trash', 'models', '.mlops']);
const NOT_RUNS = new Set(['tags', 'datasets', 'traces', 'meta.yaml']);

type Meta = Record<string, YamlValue>;

async function listDirectories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * Files under a folder, keyed by their path relative to it with '/' (metric keys may nest).
 * Synchronous: a run is a handful of small files, and Node's async reads cost ten times more
 * per file. Callers yield to the event loop between runs.
 */
function readKeyedFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else files.set(`${prefix}${entry.name}`, readFileSync(path, 'utf8'));
    }
  };
  walk(dir, '');
  return files;
}

function text(value: YamlValue | undefined): string | undefined {
  return value === null || value === undefined || typeof value === 'object' ? undefined : String(value);
}

function time(value: YamlValue | undefined): number | null {
  return typeof value === 'number' ? value : null;
}

function status(value: YamlValue | undefined): RunStatus {
  if (typeof value === 'number' && value >= 1 && value <= RUN_STATUSES.length) return RUN_STATUSES[value - 1];
  const name = String(value ?? '').toUpperCase();
  return RUN_STATUSES.find((known) => known === name) ?? 'UNKNOWN';
}

function stage(value: YamlValue | undefined): LifecycleStage {
  return value === 'deleted' ? 'deleted' : 'active';
}

export class FileTrackingStore implements TrackingStore {
  readonly kind = 'file';
  /** Where each run was last found, so metric histories do not rescan the store. */
  private readonly runFolders = new Map<string, string>();

  constructor(readonly location: string) {}

  private readMeta(file: string): Meta {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      throw new MlopsError(`${file} is missing.`);
    }
    try {
      return parseFlatYaml(content);
    } catch (error) {
      throw new MlopsError(`${file} is not valid: ${(error as Error).message}.`);
    }
  }

  private async experimentFolders(): Promise<{ id: string; folder: string; trashed: boolean }[]> {
    const live = (await listDirectories(this.location)).filter((name) => !NOT_EXPERIMENTS.has(name));
    const trash = await listDirectories(join(this.location, '.trash'));
    return [
      ...live.map((id) => ({ id, folder: join(this.location, id), trashed: false })),
      ...trash.map((id) => ({ id, folder: join(this.location, '.trash', id), trashed: true })),
    ];
  }

  async listExperiments(): Promise<Experiment[]> {
    const folders = await this.experimentFolders();
    const experiments = await mapConcurrent(
      folders,
      IO_PARALLELISM,
      async ({ id, folder, trashed }): Promise<Experiment> => {
        const tags = Object.fromEntries(readKeyedFiles(join(folder, 'tags')));
        try {
          const meta = this.readMeta(join(folder, 'meta.yaml'));
          return {
            id: text(meta.experiment_id) ?? id,
            name: text(meta.name) ?? id,
            lifecycleStage: trashed ? 'deleted' : stage(meta.lifecycle_stage),
            artifactLocation: text(meta.artifact_location),
            creationTime: time(meta.creation_time) ?? undefined,
            lastUpdateTime: time(meta.last_update_time) ?? undefined,
            tags,
          };
        } catch (error) {
          return {
            id,
            name: id,
            lifecycleStage: trashed ? 'deleted' : 'active',
            tags,
            problem: (error as Error).message,
          };
        }
      },
    );
    return experiments.sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  }

  private readRun(folder: string, experimentId: string): Run {
    let metaResult: Meta | Error;
    try {
      metaResult = this.readMeta(join(folder, 'meta.yaml'));
    } catch (error) {
      metaResult = error as Error;
    }
    const params = readKeyedFiles(join(folder, 'params'));
    const tags = readKeyedFiles(join(folder, 'tags'));
    const metricFiles = readKeyedFiles(join(folder, 'metrics'));
    const problems: string[] = [];
    const metrics: Record<string, number> = {};
    for (const [key, content] of metricFiles) {
      const { latest, badLines } = latestInMetricFile(content);
      if (badLines.length) problems.push(metricFileProblem(join(folder, 'metrics', key), badLines));
      if (latest) metrics[key] = latest.value;
    }
    const meta: Meta = metaResult instanceof Error ? {} : metaResult;
    if (metaResult instanceof Error) problems.unshift(metaResult.message);
    const runId = text(meta.run_id) ?? text(meta.run_uuid) ?? folder.split(/[\\/]/).pop()!;
    const tagRecord = Object.fromEntries(tags);
    return {
      runId,
      runName: text(meta.run_name) || tagRecord['mlflow.runName'] || '',
      experimentId: text(meta.experiment_id) ?? experimentId,
      status: status(meta.status),
      startTime: time(meta.start_time),
      endTime: time(meta.end_time),
      lifecycleStage: stage(meta.lifecycle_stage),
      artifactUri: text(meta.artifact_uri),
      params: Object.fromEntries(params),
      metrics,
      tags: tagRecord,
      ...(problems.length ? { problem: problems.join('\n') } : {}),
    };
  }

  private async runsOf(experimentId: string): Promise<Run[]> {
    const experiment = (await this.experimentFolders()).find((e) => e.id === experimentId);
    if (!experiment) return [];
    const runIds = (await listDirectories(experiment.folder)).filter((name) => !NOT_RUNS.has(name));
    const runs: Run[] = [];
    for (const [index, runId] of runIds.entries()) {
      // Let the extension host breathe between batches of runs.
      if (index % RUNS_PER_SLICE === RUNS_PER_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
      const folder = join(experiment.folder, runId);
      this.runFolders.set(runId, folder);
      runs.push(this.readRun(folder, experimentId));
    }
    return runs;
  }

  async searchRuns(search: RunSearch): Promise<RunPage> {
    const runs = (await Promise.all(search.experimentIds.map((id) => this.runsOf(id)))).flat();
    return searchInMemory(runs, search);
  }

  private async findRunFolder(runId: string): Promise<string> {
    const known = this.runFolders.get(runId);
    if (known) return known;
    for (const { folder } of await this.experimentFolders()) {
      if ((await listDirectories(folder)).includes(runId)) {
        this.runFolders.set(runId, join(folder, runId));
        return join(folder, runId);
      }
    }
    throw new MlopsError(`Run ${runId} is not in ${this.location}.`, RUN_IDS_REMEDY);
  }

  async metricHistory(runId: string, key: string, maxPoints = DEFAULT_MAX_POINTS): Promise<MetricHistory> {
    const folder = await this.findRunFolder(runId);
    const file = join(folder, 'metrics', ...key.split('/'));
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch {
      const logged = [...readKeyedFiles(join(folder, 'metrics')).keys()].sort();
      throw new MlopsError(
        `Run ${runId} has no metric '${key}' (${file} is missing).`,
        logged.length ? `It logged ${logged.join(', ')}.` : 'It logged no metrics.',
      );
    }
    const { points, badLines } = parseMetricFile(content);
    points.sort(byStepThenTime);
    return {
      runId,
      key,
      totalPoints: points.length,
      points: downsample(points, maxPoints),
      ...(badLines.length ? { problem: metricFileProblem(file, badLines) } : {}),
    };
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const modelsFolder = join(this.location, 'models');
    const names = await listDirectories(modelsFolder);
    const models = await mapConcurrent(
      names,
      IO_PARALLELISM,
      async (folderName): Promise<RegisteredModel | undefined> => {
        const folder = join(modelsFolder, folderName);
        const meta = tryRead(() => this.readMeta(join(folder, 'meta.yaml')));
        if (!meta) return undefined;
        const name = text(meta.name) ?? folderName;
        const aliases = Object.fromEntries(
          [...readKeyedFiles(join(folder, 'aliases'))].map(([alias, version]) => [alias, version.trim()]),
        );
        const versionFolders = (await listDirectories(folder)).filter((entry) => entry.startsWith('version-'));
        const versions = await mapConcurrent(
          versionFolders,
          IO_PARALLELISM,
          async (versionFolder): Promise<ModelVersion | undefined> => {
            const versionMeta = tryRead(() => this.readMeta(join(folder, versionFolder, 'meta.yaml')));
            if (!versionMeta) return undefined;
            const version = text(versionMeta.version) ?? versionFolder.slice('version-'.length);
            return {
              name,
              version,
              runId: text(versionMeta.run_id),
              source: text(versionMeta.source),
              status: text(versionMeta.status),
              stage: text(versionMeta.current_stage),
              creationTime: time(versionMeta.creation_timestamp) ?? undefined,
              aliases: Object.entries(aliases)
                .filter(([, v]) => v === version)
                .map(([alias]) => alias),
            };
          },
        );
        return {
          name,
          description: text(meta.description),
          creationTime: time(meta.creation_timestamp) ?? undefined,
          lastUpdatedTime: time(meta.last_updated_timestamp) ?? undefined,
          aliases,
          versions: versions
            .filter((v): v is ModelVersion => v !== undefined)
            .sort((a, b) => Number(a.version) - Number(b.version)),
        };
      },
    );
    return models.filter((m): m is RegisteredModel => m !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {}
}

function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
