// What the Datasets view shows of a pipeline: its steps in run order, what each depends on and
// reads and writes, and how it last ran. Pure, so the tree is a thin layer over it.
import { stepReads } from './dag';
import {
  stepOutput,
  type Pipeline,
  type PipelineRun,
  type PipelineState,
  type PipelineStep,
  type SourcePosition,
  type StepRun,
  type StepStatus,
} from './pipelineModel';

export interface StepOverview {
  name: string;
  kind: PipelineStep['kind'];
  description?: string;
  dependsOn: string[];
  /** Tables read that the pipeline writes; a SQL step's other tables are known only when it runs. */
  reads: string[];
  writes?: string;
  position: SourcePosition;
  /** The step in the newest run that included it; absent when it never ran. */
  last?: {
    runId: string;
    status: StepStatus;
    startedAt: string;
    durationMs: number;
    message?: string;
    remedy?: string;
  };
  /** When it last succeeded: what an "up to date" skip refers to. */
  lastSucceededAt?: string;
}

/** `runs` newest first, as listRuns gives them; runs of other pipeline files are ignored. */
export function pipelineOverview(
  pipeline: Pipeline,
  state: PipelineState,
  runs: readonly PipelineRun[],
): StepOverview[] {
  const steps = new Map(pipeline.steps.map((step) => [step.name, step]));
  const outputs = pipeline.steps.map(stepOutput).filter((table): table is string => table !== undefined);
  const ownRuns = runs.filter((run) => run.pipeline === pipeline.relativeFile);
  const succeeded = state.pipelines[pipeline.relativeFile] ?? {};
  return pipeline.order.map((name) => {
    const step = steps.get(name)!;
    const writes = stepOutput(step);
    const run = ownRuns.find((r) => r.steps.some((s) => s.step === name));
    const record = run?.steps.find((s) => s.step === name);
    return {
      name,
      kind: step.kind,
      ...(step.description === undefined ? {} : { description: step.description }),
      dependsOn: pipeline.dependencies[name] ?? [],
      reads: stepReads(step, outputs),
      ...(writes === undefined ? {} : { writes }),
      position: step.position,
      ...(run && record ? { last: lastOf(run.runId, record) } : {}),
      ...(succeeded[name] ? { lastSucceededAt: succeeded[name].finishedAt } : {}),
    };
  });
}

function lastOf(
  runId: string,
  { status, startedAt, durationMs, message, remedy }: StepRun,
): NonNullable<StepOverview['last']> {
  return {
    runId,
    status,
    startedAt,
    durationMs,
    ...(message === undefined ? {} : { message }),
    ...(remedy === undefined ? {} : { remedy }),
  };
}
