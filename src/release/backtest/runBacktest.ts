// A back-test: the candidate image, and the baseline when given (an image, or a deployment whose
// image a resolver names), each run as a local container, replay the same labelled rows; the
// report holds each version's metrics and latency, where they disagree, and the gate's verdict.
// Containers are removed whatever happens, cancellation included.
import type Docker from 'dockerode';
import { connectDocker } from '../../containerize/docker/dockerClient';
import { MlopsError } from '../../shared/errors';
import {
  checkPositiveClass,
  classSetting,
  compareVersions,
  detectTask,
  gateMetric,
  gateVerdict,
  labelClassesOf,
  versionResult,
  type VersionRun,
} from './evaluate';
import type { BacktestReport, GateMetric } from './model';
import { startModelContainer, type ModelContainer } from './modelContainer';
import { replay, selectColumns, type ReplayResult } from './replay';
import { loadReplayData, type ReplayData, type ReplayDataOptions } from './replayData';

export interface BacktestProgress {
  message: string;
  /** Rows answered so far, over both versions, and the rows to answer. */
  done: number;
  total: number;
}

/** What to replay (as loadReplayData reads it), against which versions, and how. */
export interface BacktestOptions extends ReplayDataOptions {
  candidate: string;
  /** An image, or a deployment name that `resolveBaseline` turns into its image. */
  baseline?: string;
  /** The image of a deployment; undefined when there is no deployment of that name (the baseline is then an image). */
  resolveBaseline?: (name: string) => Promise<string | undefined>;
  /** Rows per request (100) and requests in flight (4). */
  batchSize?: number;
  parallelism?: number;
  /** See `gateVerdict`; without it the gate fails only on failed requests, unknown classes and a collapse. */
  maxRegression?: number;
  /** The metric the gate judges (accuracy for classes, RMSE for values). */
  metric?: GateMetric;
  /** The class whose precision, recall and F1 are reported; one of the labels' classes. */
  positiveClass?: string;
  /** Disagreeing rows to keep (20). */
  top?: number;
  dockerHost?: string;
  docker?: Docker;
  onProgress?: (progress: BacktestProgress) => void;
}

export interface BacktestRun {
  report: BacktestReport;
  /** The replayed data and each version's answers, row by row (the report keeps only summaries). */
  data: ReplayData;
  candidate: ReplayResult;
  baseline: ReplayResult | null;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestRun> {
  const batchSize = options.batchSize ?? 100;
  const parallelism = options.parallelism ?? 4;
  for (const [name, value] of [
    ['batch size', batchSize],
    ['parallelism', parallelism],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new MlopsError(`The ${name} must be a whole number above 0, not ${value}.`);
  }
  const signal = options.signal;
  const progress = (message: string, done = 0, total = 0) => options.onProgress?.({ message, done, total });
  const containers: ModelContainer[] = [];
  try {
    progress(`Reading ${options.data}`);
    const data = await loadReplayData({
      data: options.data,
      label: options.label,
      workspace: options.workspace,
      ...pick(options, 'lakeRoot', 'limit', 'sample', 'signal'),
    });
    if (!data.rows.length)
      throw new MlopsError(
        `${data.source} has no labelled rows to replay${data.skippedReason ? `: ${data.skippedReason}` : ''}.`,
      );
    if (options.positiveClass !== undefined) checkPositiveClass(labelClassesOf(data.labels), options.positiveClass);
    const baselineImage =
      options.baseline === undefined
        ? undefined
        : ((await options.resolveBaseline?.(options.baseline)) ?? options.baseline);
    const docker = options.docker ?? (await connectDocker(options.dockerHost));
    const images = [
      { role: 'candidate' as const, image: options.candidate },
      ...(baselineImage ? [{ role: 'baseline' as const, image: baselineImage }] : []),
    ];
    progress(`Starting ${images.map((i) => i.image).join(' and ')}`);
    const started = await Promise.allSettled(
      images.map((i) => startModelContainer(docker, i.image, i.role, { ...(signal ? { signal } : {}) })),
    );
    for (const result of started) if (result.status === 'fulfilled') containers.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    // The task is known once the candidate says what it is: a metric of the other task is refused before any row is sent.
    const task = detectTask(data.labels, containers[0].info.task);
    const metric = gateMetric(task, options.metric);
    if (task === 'regression' && options.positiveClass !== undefined)
      throw new MlopsError(
        `A positive class (${options.positiveClass}) is for classes, and this back-test is a regression.`,
        'Leave --positive-class out.',
      );

    const total = data.rows.length * images.length;
    let done = 0;
    const runs: VersionRun[] = [];
    // One version at a time, so neither's latency pays for the other's load.
    for (const [k, { role, image }] of images.entries()) {
      const container = containers[k];
      const selection = selectColumns(data.columns, container.info, image);
      progress(`Replaying ${data.rows.length} rows against the ${role} ${image}`, done, total);
      const result = await replay(container.base, selection, data.rows, {
        batchSize,
        parallelism,
        ...(signal ? { signal } : {}),
        onRows: (rows) => progress(`Replaying against the ${role}`, (done += rows), total),
      });
      runs.push({
        role,
        image,
        version: container.info.version,
        healthyAfterMs: container.healthyAfterMs,
        replay: result,
      });
    }

    const setting =
      task === 'classification'
        ? classSetting(
            data.labels,
            runs.map((r) => r.replay),
            containers[0].info.classes,
            options.positiveClass,
          )
        : null;
    const [candidate, baseline = null] = runs.map((run) => versionResult(run, data.labels, task, setting));
    const comparison = runs[1]
      ? compareVersions(task, data.columns, data.rows, data.labels, runs[0].replay, runs[1].replay, options.top ?? 20)
      : null;
    const report: BacktestReport = {
      kind: 'mlops.backtest',
      createdAt: new Date().toISOString(),
      data: {
        source: data.source,
        label: options.label,
        rows: data.rows.length,
        skipped: data.skipped,
        skippedReason: data.skippedReason,
        columns: data.columns,
      },
      task,
      classes: setting?.classes ?? null,
      positiveClass: setting?.positive ?? null,
      averaging: setting ? (setting.positive === null ? 'macro' : 'binary') : null,
      batchSize,
      parallelism,
      candidate,
      baseline,
      comparison,
      gate: gateVerdict({
        task,
        metric,
        maxRegression: options.maxRegression ?? null,
        candidate,
        baseline,
        classes: setting?.classes ?? null,
        labelClasses: setting?.labelClasses ?? null,
      }),
    };
    return { report, data, candidate: runs[0].replay, baseline: runs[1]?.replay ?? null };
  } catch (error) {
    if (signal?.aborted) throw new MlopsError('The back-test was cancelled.', undefined, { cause: error });
    throw error;
  } finally {
    await Promise.all(containers.map((c) => c.remove()));
  }
}

function pick<T extends object, K extends keyof T>(object: T, ...keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]])) as Partial<
    Pick<T, K>
  >;
}
