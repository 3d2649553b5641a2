// The Compare panel's data: each run's params and, per metric, its last value and the range of
// its full history.
import type { CompareRun, MetricSummary } from './contract';
import type { MetricHistory, MetricPoint, Run, TrackingStore } from './model';
import { metricKeysOf, readHistories } from './metricsData';
import { toPanelRun } from './panelRuns';

/** Min and max over the finite values; when there are none, both are the last value. */
export function summarizeMetric(last: number, points: readonly MetricPoint[]): MetricSummary {
  let min = Infinity;
  let max = -Infinity;
  for (const { value } of points) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min <= max ? { last, min, max } : { last, min: last, max: last };
}

/** `histories` are the run's full metric histories; a metric without one is summarised by its last value. */
export function toCompareRun(run: Run, histories: readonly MetricHistory[]): CompareRun {
  const byKey = new Map(
    histories.filter((history) => history.runId === run.runId).map((history) => [history.key, history.points]),
  );
  const metrics: Record<string, MetricSummary> = {};
  for (const [key, last] of Object.entries(run.metrics)) metrics[key] = summarizeMetric(last, byKey.get(key) ?? []);
  return { ...toPanelRun(run), params: { ...run.params }, metrics };
}

export async function loadCompareRuns(store: TrackingStore, runs: readonly Run[]): Promise<CompareRun[]> {
  const histories = await readHistories(store, runs, metricKeysOf(runs), Number.MAX_SAFE_INTEGER);
  return runs.map((run) => toCompareRun(run, histories));
}
