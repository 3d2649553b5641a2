// `.mlops/pipelines/state.json`: the fingerprint of each step's last successful run. A missing or
// unreadable state only means that every step runs again.
import type { PipelineState, StepState } from './pipelineModel';
import { readJson, statePath, writeJsonAtomic } from './pipelineFiles';

export async function readState(root: string): Promise<PipelineState> {
  const state = (await readJson(statePath(root))) as Partial<PipelineState> | undefined;
  return { pipelines: typeof state?.pipelines === 'object' && state.pipelines !== null ? state.pipelines : {} };
}

/** Re-reads the file before writing, so that runs of other pipelines in the meantime are kept. */
export async function recordStepState(
  root: string,
  pipeline: string,
  step: string,
  stepState: StepState,
): Promise<void> {
  const state = await readState(root);
  state.pipelines[pipeline] = { ...state.pipelines[pipeline], [step]: stepState };
  await writeJsonAtomic(statePath(root), state);
}
