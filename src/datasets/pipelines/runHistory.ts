// `.mlops/pipelines/runs/<runId>.json`: one file per run, with the status, timing and logs of each step.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineRun } from './pipelineModel';
import { readJson, runsFolder, writeJsonAtomic } from './pipelineFiles';

/** Sorts by time as text: `2025-01-31T12-00-00-000Z-1a2b3c`. */
export function newRunId(startedAt: Date): string {
  return `${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

export function saveRun(root: string, run: PipelineRun): Promise<void> {
  return writeJsonAtomic(join(runsFolder(root), `${run.runId}.json`), run);
}

/** Runs, newest first; only those of one pipeline file (relative to the root) when given. */
export async function listRuns(
  root: string,
  options: { pipeline?: string; limit?: number } = {},
): Promise<PipelineRun[]> {
  const names = await readdir(runsFolder(root)).catch(() => [] as string[]);
  const runs: PipelineRun[] = [];
  for (const name of names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .reverse()) {
    const run = (await readJson(join(runsFolder(root), name))) as PipelineRun | undefined;
    if (
      !run?.runId ||
      !Array.isArray(run.steps) ||
      (options.pipeline !== undefined && run.pipeline !== options.pipeline)
    )
      continue;
    runs.push(run);
    if (runs.length === options.limit) break;
  }
  return runs;
}
