// Runs a pipeline's steps in topological order against a lake. A step whose fingerprint matches
// its last successful run, and whose output table has not been written since, is skipped. A failed
// step stops the steps that depend on it; the others still run. Cancellation is checked between
// steps and passed to the lake and to Python, and every run is recorded with its logs.
import { MlopsError } from '../../shared/errors';
import type { Lake, LakeTable, LakeTableVersion } from '../model';
import { sameTable, withUpstream } from './dag';
import { describeFailure, runExpectations } from './expectations';
import { gatherInputs, stepFingerprint, type GatheredInputs } from './fingerprint';
import {
  stepOutput,
  type Pipeline,
  type PipelineProgress,
  type PipelineRun,
  type PipelineStep,
  type StepRun,
  type StepState,
  type StepStatus,
} from './pipelineModel';
import { readState, recordStepState } from './pipelineState';
import { runPythonStep } from './pythonStep';
import { newRunId, saveRun } from './runHistory';

export interface RunPipelineOptions {
  /** The workspace root: paths in the pipeline are relative to it, and `.mlops/pipelines/` is in it. */
  root: string;
  lake: Lake;
  /** The workspace's interpreter for Python transforms; `python3` when not given. */
  python?: string;
  /**
   * Run this step, even when it is up to date, and the steps it depends on that are not up to
   * date (never run, or their definition or inputs changed). Steps downstream of it do not run.
   */
  step?: string;
  /** Run every selected step, up to date or not. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: PipelineProgress) => void;
}

/** Keeps the last lines of a long log. */
const MAX_LOG_LINES = 2000;

export async function runPipeline(pipeline: Pipeline, options: RunPipelineOptions): Promise<PipelineRun> {
  const { root, lake, signal, onProgress } = options;
  if (options.step !== undefined && !Object.hasOwn(pipeline.dependencies, options.step)) {
    throw new MlopsError(
      `No step '${options.step}' in ${pipeline.relativeFile}.`,
      `Its steps: ${pipeline.order.join(', ')}.`,
    );
  }
  const started = new Date();
  const runId = newRunId(started);
  const selected =
    options.step === undefined ? new Set(pipeline.order) : withUpstream(pipeline.dependencies, options.step);
  const names = pipeline.order.filter((name) => selected.has(name));
  const steps = new Map(pipeline.steps.map((step) => [step.name, step]));
  const lastSuccess = (await readState(root)).pipelines[pipeline.relativeFile] ?? {};
  const outputs = pipeline.steps.map(stepOutput).filter((table): table is string => table !== undefined);
  const notDone = new Set<string>();
  const records: StepRun[] = [];

  for (const [index, name] of names.entries()) {
    const step = steps.get(name)!;
    const stepStarted = new Date();
    const log = stepLog();
    const finish = (status: StepStatus, message: string, extra: Partial<StepRun> = {}) => {
      if (status !== 'succeeded' && status !== 'skipped') notDone.add(name);
      records.push({
        step: name,
        kind: step.kind,
        status,
        startedAt: stepStarted.toISOString(),
        durationMs: Date.now() - stepStarted.getTime(),
        message,
        logs: log.lines(),
        ...extra,
      });
      const fraction = (index + 1) / names.length;
      onProgress?.(
        status === 'skipped'
          ? { event: 'skipped', step: name, message, fraction }
          : {
              event: 'finished',
              step: name,
              status,
              message,
              ...(extra.remedy ? { remedy: extra.remedy } : {}),
              fraction,
            },
      );
    };

    if (signal?.aborted) {
      finish('cancelled', 'cancelled before it started');
      continue;
    }
    const blocker = pipeline.dependencies[name]!.find((dependency) => notDone.has(dependency));
    if (blocker) {
      notDone.add(name);
      finish('skipped', `not run: step '${blocker}' did not succeed`);
      continue;
    }

    let fingerprint: string | undefined;
    try {
      const lakeTables = await lake.tables();
      const gathered = await gatherInputs(step, { root, pipelineOutputs: outputs, lakeTables, signal });
      fingerprint = stepFingerprint(step, gathered.inputs);
      const previous = lastSuccess[name];
      const forced = options.force || name === options.step;
      if (!forced && previous?.fingerprint === fingerprint && outputUntouched(previous, lakeTables)) {
        finish('skipped', `up to date (last run ${previous.finishedAt})`, {
          fingerprint,
          ...(previous.output ? { output: previous.output } : {}),
        });
        continue;
      }
      onProgress?.({ event: 'started', step: name, fraction: index / names.length });
      const { message, written } = await executeStep(step, {
        ...options,
        pipeline: pipeline.relativeFile,
        lakeTables,
        gathered,
        log: log.add,
      });
      const output = written ? { table: written.table, version: written.version } : undefined;
      await recordStepState(root, pipeline.relativeFile, name, {
        fingerprint,
        finishedAt: new Date().toISOString(),
        runId,
        ...(output ? { output } : {}),
      });
      finish('succeeded', message, { fingerprint, ...(output ? { output } : {}) });
    } catch (error) {
      if (signal?.aborted) finish('cancelled', 'cancelled', fingerprint ? { fingerprint } : {});
      else
        finish('failed', error instanceof Error ? error.message : String(error), {
          ...(fingerprint ? { fingerprint } : {}),
          ...(error instanceof MlopsError && error.remedy ? { remedy: error.remedy } : {}),
        });
    }
  }

  const finished = new Date();
  const run: PipelineRun = {
    runId,
    pipeline: pipeline.relativeFile,
    ...(options.step === undefined ? {} : { requestedStep: options.step }),
    status: records.some((r) => r.status === 'cancelled')
      ? 'cancelled'
      : records.some((r) => r.status === 'failed')
        ? 'failed'
        : 'succeeded',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    steps: records,
  };
  await saveRun(root, run);
  return run;
}

/** False when the output table was written by someone else since, or is gone (a lake wiped). */
function outputUntouched(previous: StepState, lakeTables: readonly LakeTable[]): boolean {
  if (!previous.output) return true;
  const table = lakeTables.find((t) => sameTable(t.name, previous.output!.table));
  return table?.latest.version === previous.output.version;
}

interface StepContext extends RunPipelineOptions {
  pipeline: string;
  lakeTables: readonly LakeTable[];
  gathered: GatheredInputs;
  log: (line: string) => void;
}

async function executeStep(
  step: PipelineStep,
  context: StepContext,
): Promise<{ message: string; written?: LakeTableVersion }> {
  const { lake, signal, log } = context;
  let lastProgress: string | undefined;
  // The lake repeats a message as its fraction grows; the log needs it once.
  const progress = (message: string) => {
    if (message !== lastProgress) log(message);
    lastProgress = message;
  };
  let written: LakeTableVersion;
  switch (step.kind) {
    case 'ingest':
      written = await lake.ingest(step.output, context.gathered.sourceFiles!, {
        allowSchemaChange: step.allowSchemaChange,
        signal,
        onProgress: progress,
      });
      break;
    case 'sql':
      written = await lake.writeQuery(step.output, step.sql, {
        allowSchemaChange: step.allowSchemaChange,
        signal,
        onProgress: progress,
        producedBy: `pipeline ${context.pipeline}, step ${step.name}`,
      });
      break;
    case 'python':
      written = await runPythonStep(step, {
        root: context.root,
        lake,
        python: context.python || 'python3',
        inputs: context.gathered.tables,
        signal,
        log,
      });
      break;
    case 'validate':
      return { message: await validate(step, context) };
  }
  for (const change of written.schemaChanges)
    log(
      `schema change: column ${change.column} ${change.kind}${change.from || change.to ? ` (${change.from ?? '-'} → ${change.to ?? '-'})` : ''}`,
    );
  return { message: `wrote ${written.table} version ${written.version}: ${written.rows} rows`, written };
}

async function validate(step: Extract<PipelineStep, { kind: 'validate' }>, context: StepContext): Promise<string> {
  const [target] = context.gathered.tables;
  const schema = context.lakeTables.find((t) => t.name === target!.table)!.latest.schema;
  const results = await runExpectations(context.lake, target!, schema, step.expect);
  for (const result of results) context.log(`${result.passed ? 'passed' : 'FAILED'} ${describeFailure(result)}`);
  const failures = results.filter((r) => !r.passed);
  if (failures.length) {
    throw new MlopsError(
      `Validation of ${target.table} version ${target.version} failed:\n${failures.map((f) => `- ${describeFailure(f)}`).join('\n')}`,
      'Fix the data or the step that writes the table, then run the pipeline again.',
    );
  }
  return `${results.length} ${results.length === 1 ? 'check' : 'checks'} passed on ${target.table} version ${target.version}`;
}

function stepLog() {
  const kept: string[] = [];
  let dropped = 0;
  return {
    add: (line: string) => {
      kept.push(line);
      if (kept.length > MAX_LOG_LINES) {
        kept.shift();
        dropped += 1;
      }
    },
    lines: () => (dropped ? [`(${dropped} earlier lines dropped)`, ...kept] : [...kept]),
  };
}
