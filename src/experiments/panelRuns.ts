// Runs as the experiment panels show them, and reading them again while they are live.
import type { PanelRun } from './contract';
import type { Run, TrackingStore } from './model';

export function toPanelRun(run: Run): PanelRun {
  return {
    runId: run.runId,
    runName: run.runName,
    experimentId: run.experimentId,
    status: run.status,
    startTime: run.startTime,
  };
}

export function isRunning(run: Run): boolean {
  return run.status === 'RUNNING';
}

/** An MLflow filter that matches exactly these runs. */
export function runIdFilter(runIds: readonly string[]): string {
  return `attributes.run_id IN (${runIds.map((id) => `'${id.replace(/'/g, "''")}'`).join(', ')})`;
}

/** The same runs read again from the store, in the same order; a run the store no longer has stays as it was. */
export async function rereadRuns(store: TrackingStore, runs: readonly Run[]): Promise<Run[]> {
  const fresh = new Map<string, Run>();
  const search = {
    experimentIds: [...new Set(runs.map((run) => run.experimentId))],
    filter: runIdFilter(runs.map((run) => run.runId)),
    lifecycle: 'all' as const,
  };
  let pageToken: string | undefined;
  do {
    const page = await store.searchRuns({ ...search, pageToken });
    for (const run of page.runs) fresh.set(run.runId, run);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs.map((run) => fresh.get(run.runId) ?? run);
}
