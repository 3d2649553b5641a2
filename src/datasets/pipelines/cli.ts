// `mlops pipeline run` and `mlops pipeline history`: pipelines from a terminal or a CI job, with
// the current folder as the workspace root.
import { relative, resolve } from 'node:path';
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import { defaultLakeRoot, openLake } from '../lake/duckdbLake';
import { DEFAULT_PIPELINE_FILE } from './findPipelines';
import { loadPipeline } from './loadPipeline';
import type { PipelineRun, StepStatus } from './pipelineModel';
import { listRuns } from './runHistory';
import { runPipeline } from './runPipeline';

const MARKS: Record<StepStatus, string> = { succeeded: '✓', failed: '✗', skipped: '–', cancelled: '⊘' };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function run(context: CliContext, file: string | undefined): Promise<number> {
  const root = process.cwd();
  const pipeline = await loadPipeline(resolve(root, file ?? DEFAULT_PIPELINE_FILE), root);
  const lake = openLake(
    typeof context.values.lake === 'string' ? resolve(root, context.values.lake) : defaultLakeRoot(root),
    { cwd: root },
  );
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  let result: PipelineRun;
  try {
    result = await runPipeline(pipeline, {
      root,
      lake,
      python: context.values.python as string | undefined,
      step: context.values.step as string | undefined,
      force: context.values.force === true,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.event === 'started') return;
        const status = progress.event === 'skipped' ? 'skipped' : progress.status;
        const message = (progress.message ?? status).replace(/\n/g, '\n    ');
        const remedy = progress.event === 'finished' && progress.remedy ? progress.remedy : undefined;
        // Failures are errors: stderr, as for every command; the rest is the run's report.
        if (status === 'failed') {
          const error = `${pipeline.relativeFile}, step ${progress.step}: ${message}`;
          context.io.stderr(
            context.json
              ? `${JSON.stringify({ error, ...(remedy ? { remedy } : {}) })}\n`
              : `${MARKS.failed} ${error}${remedy ? `\n  ${remedy}` : ''}\n`,
          );
        } else if (!context.json) context.io.stdout(`${MARKS[status]} ${progress.step}: ${message}\n`);
      },
    });
  } finally {
    process.removeListener('SIGINT', cancel);
    await lake.close();
  }
  if (context.json) context.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else
    context.io.stdout(
      `Run ${result.runId} ${result.status} in ${seconds(result.durationMs)}; logs in .mlops/pipelines/runs/${result.runId}.json\n`,
    );
  return result.status === 'succeeded' ? 0 : 1;
}

async function history(context: CliContext, file: string | undefined): Promise<void> {
  const root = process.cwd();
  const limit = context.values.limit === undefined ? undefined : Number(context.values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`--limit takes a whole number above 0, not '${context.values.limit}'`);
  const runs = await listRuns(root, {
    ...(file ? { pipeline: relative(root, resolve(root, file)) } : {}),
    ...(limit ? { limit } : {}),
  });
  if (context.json) {
    context.io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
    return;
  }
  for (const r of runs) {
    const steps = r.steps.map((s) => `${MARKS[s.status]}${s.step}`).join(' ');
    context.io.stdout(`${r.runId}\t${r.pipeline}\t${r.status}\t${seconds(r.durationMs)}\t${steps}\n`);
  }
}

export const pipelineCommand: CliCommand = {
  name: 'pipeline',
  summary:
    'Run the steps of mlops.pipeline.yaml (ingest, SQL or Python transforms, validations), skipping those up to date; list past runs.',
  usage: [
    'pipeline run [FILE] [--step NAME] [--force] [--lake DIR] [--python PATH] [--json]',
    '       mlops pipeline history [FILE] [--limit N] [--json]',
    '',
    'FILE defaults to mlops.pipeline.yaml in the current folder, the workspace root.',
    '--step NAME runs that step, and the steps it depends on that are not up to date.',
    '--force runs the selected steps even when they are up to date.',
    '--lake DIR is the lake folder (default .mlops/lake); --python the interpreter of Python steps (default python3).',
  ].join('\n'),
  options: {
    step: { type: 'string' },
    force: { type: 'boolean' },
    lake: { type: 'string' },
    python: { type: 'string' },
    limit: { type: 'string' },
  },
  run: async (context) => {
    const [verb, file, ...extra] = context.positionals;
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (verb === 'run') return run(context, file);
    if (verb === 'history') return history(context, file);
    throw new UsageError(
      verb ? `unknown pipeline verb '${verb}' (run or history)` : 'pipeline needs a verb: run or history',
    );
  },
};
