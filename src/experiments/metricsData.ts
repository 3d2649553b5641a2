// What the Metrics panel charts and exports: metric keys, downsampled series and full-history CSV.
import { mapConcurrent } from '../shared/concurrency';
import { csvLine } from '../shared/csv';
import type { MetricSeries } from './contract';
import type { MetricHistory, Run, TrackingStore } from './model';

const STORE_CONCURRENCY = 8;

/** Every metric key any of the runs logged, sorted. */
export function metricKeysOf(runs: readonly Run[]): string[] {
  return [...new Set(runs.flatMap((run) => Object.keys(run.metrics)))].sort();
}

/** The keys to chart first: up to `limit`, losses and accuracies before the rest. */
export function defaultMetricKeys(keys: readonly string[], limit = 4): string[] {
  const preferred = (key: string) => /loss|acc/i.test(key);
  return [...keys.filter(preferred).sort(), ...keys.filter((key) => !preferred(key)).sort()].slice(0, limit);
}

/** The history of each (run, key) pair where the run logged that key, at most `maxPoints` points each. */
export async function readHistories(
  store: TrackingStore,
  runs: readonly Run[],
  keys: readonly string[],
  maxPoints: number,
): Promise<MetricHistory[]> {
  const pairs = runs.flatMap((run) => keys.filter((key) => key in run.metrics).map((key) => ({ run, key })));
  return mapConcurrent(pairs, STORE_CONCURRENCY, ({ run, key }) => store.metricHistory(run.runId, key, maxPoints));
}

export function toSeries(history: MetricHistory): MetricSeries {
  return { runId: history.runId, key: history.key, totalPoints: history.totalPoints, points: history.points };
}

export function historiesCsv(runs: readonly Run[], histories: readonly MetricHistory[]): string {
  const names = new Map(runs.map((run) => [run.runId, run.runName]));
  const lines = [csvLine(['run_id', 'run_name', 'key', 'step', 'timestamp', 'value'])];
  for (const history of histories) {
    const name = names.get(history.runId) ?? '';
    for (const point of history.points)
      lines.push(csvLine([history.runId, name, history.key, point.step, point.timestamp, point.value]));
  }
  return lines.join('');
}
