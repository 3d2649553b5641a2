// How a run reads in the tree: its name, status icon, start, duration and key metrics. Pure, so
// the wording is unit-tested.
import type { Run, RunStatus } from './model';

export const STATUS_ICONS: Record<RunStatus, { icon: string; color?: string }> = {
  RUNNING: { icon: 'sync~spin', color: 'charts.blue' },
  SCHEDULED: { icon: 'clock' },
  FINISHED: { icon: 'pass', color: 'testing.iconPassed' },
  FAILED: { icon: 'error', color: 'testing.iconFailed' },
  KILLED: { icon: 'circle-slash', color: 'disabledForeground' },
  UNKNOWN: { icon: 'question' },
};

export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';

export function runLabel(run: Run): string {
  return run.runName || run.runId.slice(0, 8);
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h ${minutes % 60}m` : `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function formatMetric(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.001
    ? value.toExponential(2)
    : value.toPrecision(4).replace(/\.?0+$/, '');
}

/** The metrics worth showing beside a run: the one it is sorted by first, then the rest by name. */
export function keyMetrics(run: Run, preferred: string[] = [], count = 3): string {
  const keys = Object.keys(run.metrics).sort();
  const ordered = [...preferred.filter((k) => k in run.metrics), ...keys.filter((k) => !preferred.includes(k))];
  return ordered
    .slice(0, count)
    .map((key) => `${key}=${formatMetric(run.metrics[key])}`)
    .join(' ');
}

export function runDescription(run: Run, now: number, preferredMetrics: string[] = []): string {
  const parts: string[] = [];
  if (run.startTime !== null) parts.push(new Date(run.startTime).toISOString().slice(0, 16).replace('T', ' '));
  if (run.startTime !== null)
    parts.push(formatDuration((run.endTime ?? now) - run.startTime) + (run.endTime === null ? '…' : ''));
  const metrics = keyMetrics(run, preferredMetrics);
  if (metrics) parts.push(metrics);
  return parts.join(' · ');
}

/** Groups runs under their parents (mlflow.parentRunId); runs whose parent is absent stay on top. */
export function nestRuns(runs: Run[]): { roots: Run[]; children: Map<string, Run[]> } {
  const ids = new Set(runs.map((r) => r.runId));
  const children = new Map<string, Run[]>();
  const roots: Run[] = [];
  for (const run of runs) {
    const parent = run.tags[PARENT_RUN_TAG];
    if (parent && parent !== run.runId && ids.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(run);
      children.set(parent, list);
    } else roots.push(run);
  }
  return { roots, children };
}
