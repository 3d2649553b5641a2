// `mlops experiments`, `mlops runs` and `mlops metric-history`: the stores from the command line.
import type { CliCommand, CliContext } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { MlopsError } from '../shared/errors';
import type { TrackingStore } from './model';
import { parseOrderBy } from './runQuery';
import { openTrackingStore, resolveTrackingStore } from './trackingStoreResolver';

const trackingUriOption = { 'tracking-uri': { type: 'string' } } as const;

/** JSON that keeps NaN and infinities, written as MLflow's REST API writes them. */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v,
    2,
  );
}

async function withStore<T>(context: CliContext, use: (store: TrackingStore) => Promise<T>): Promise<T> {
  const flag = context.values['tracking-uri'];
  const resolved = await resolveTrackingStore({
    ...(typeof flag === 'string' ? { flag } : {}),
    env: process.env,
    workspaceRoot: process.cwd(),
  });
  if (!resolved) {
    throw new MlopsError(
      'No MLflow tracking store found here.',
      'Pass --tracking-uri, set MLFLOW_TRACKING_URI, or run in a folder with mlflow.db or mlruns/.',
    );
  }
  const store = openTrackingStore(resolved);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * What could not be read goes to stderr, and the exit code is 1, so that a script notices; what
 * could be read is on stdout all the same.
 */
function reportProblems(
  context: CliContext,
  what: (count: number) => string,
  problems: { id: string; problem: string }[],
): number {
  if (problems.length === 0) return 0;
  const error = `${what(problems.length)} could not be read fully; what could be read is on stdout.`;
  const remedy = 'Repair or remove the files named here; MLflow itself cannot read them either.';
  if (context.json) context.io.stderr(`${JSON.stringify({ error, remedy, problems })}\n`);
  else
    context.io.stderr(
      `mlops: ${error}\n${problems.map((p) => `  ${p.id}: ${p.problem.replace(/\n/g, '\n    ')}\n`).join('')}${remedy}\n`,
    );
  return 1;
}

function positiveInteger(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`--${option} takes a whole number above 0, not '${value}'`);
  return number;
}

export const experimentsCommand: CliCommand = {
  name: 'experiments',
  summary: 'List the experiments of an MLflow store with their active run counts.',
  usage: 'experiments [--tracking-uri URI] [--json]',
  options: trackingUriOption,
  run: (context) =>
    withStore(context, async (store) => {
      const experiments = await store.listExperiments();
      const rows = await Promise.all(
        experiments.map(async (e) => ({
          id: e.id,
          name: e.name,
          lifecycleStage: e.lifecycleStage,
          runCount: e.problem ? 0 : (await store.searchRuns({ experimentIds: [e.id] })).runs.length,
          ...(e.problem ? { problem: e.problem } : {}),
        })),
      );
      if (context.json) context.io.stdout(`${toJson(rows)}\n`);
      else
        for (const row of rows)
          context.io.stdout(
            `${row.id}\t${row.name}\t${row.lifecycleStage}\t${row.problem ? 'unreadable' : `${row.runCount} runs`}\n`,
          );
      return reportProblems(
        context,
        (n) => `${n} experiment${n === 1 ? '' : 's'}`,
        experiments.flatMap((e) => (e.problem ? [{ id: e.id, problem: e.problem }] : [])),
      );
    }),
};

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'Search the runs of an experiment with an MLflow filter and order.',
  usage:
    "runs --experiment ID_OR_NAME [--filter \"metrics.acc > 0.9 AND params.model = 'rf'\"] [--order-by 'metrics.acc DESC'] [--max-results N] [--tracking-uri URI] [--json]",
  options: {
    ...trackingUriOption,
    experiment: { type: 'string' },
    filter: { type: 'string' },
    'order-by': { type: 'string', multiple: true },
    'max-results': { type: 'string' },
  },
  run: (context) => {
    const wanted = context.values.experiment;
    if (typeof wanted !== 'string') throw new UsageError('runs needs --experiment ID_OR_NAME');
    const maxResults = positiveInteger(context.values['max-results'], 'max-results');
    const orderBy = context.values['order-by'] as string[] | undefined;
    // Checked here too, not only by local stores: a tracking server's answer would name no rule.
    parseOrderBy(orderBy);
    return withStore(context, async (store) => {
      const experiment = (await store.listExperiments()).find((e) => e.id === wanted || e.name === wanted);
      if (!experiment)
        throw new MlopsError(
          `No experiment '${wanted}' in ${store.location}.`,
          "Run 'mlops experiments' for the list.",
        );
      const { runs } = await store.searchRuns({
        experimentIds: [experiment.id],
        filter: context.values.filter as string | undefined,
        orderBy,
        maxResults,
      });
      const rows = runs.map(
        ({
          runId,
          runName,
          experimentId,
          status,
          startTime,
          endTime,
          lifecycleStage,
          params,
          metrics,
          tags,
          problem,
        }) => ({
          runId,
          runName,
          experimentId,
          status,
          startTime,
          endTime,
          lifecycleStage,
          params,
          metrics,
          tags,
          ...(problem ? { problem } : {}),
        }),
      );
      if (context.json) context.io.stdout(`${toJson(rows)}\n`);
      else
        for (const run of runs)
          context.io.stdout(
            `${run.runId}\t${run.runName}\t${run.status}\t${Object.entries(run.metrics)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}\n`,
          );
      return reportProblems(
        context,
        (n) => `${n} run${n === 1 ? '' : 's'} of experiment '${experiment.name}'`,
        runs.flatMap((r) => (r.problem ? [{ id: r.runId, problem: r.problem }] : [])),
      );
    });
  },
};

export const metricHistoryCommand: CliCommand = {
  name: 'metric-history',
  summary: 'Print the history of one metric of a run, downsampled beyond --max-points.',
  usage: 'metric-history --run RUN_ID --key KEY [--max-points N] [--tracking-uri URI] [--json]',
  options: { ...trackingUriOption, run: { type: 'string' }, key: { type: 'string' }, 'max-points': { type: 'string' } },
  run: (context) => {
    const { run, key } = context.values;
    if (typeof run !== 'string' || typeof key !== 'string')
      throw new UsageError('metric-history needs --run RUN_ID and --key KEY');
    const maxPoints = positiveInteger(context.values['max-points'], 'max-points') ?? Number.MAX_SAFE_INTEGER;
    return withStore(context, async (store) => {
      const history = await store.metricHistory(run, key, maxPoints);
      if (context.json) context.io.stdout(`${toJson(history)}\n`);
      else for (const p of history.points) context.io.stdout(`${p.step}\t${p.timestamp}\t${p.value}\n`);
      return reportProblems(
        context,
        () => `The history of '${key}'`,
        history.problem ? [{ id: run, problem: history.problem }] : [],
      );
    });
  },
};
