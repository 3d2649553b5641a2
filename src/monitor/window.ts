// The numbers of a time window from the recorded scrapes: totals per version (the last record
// minus the one at the window's start) and, for the charts, one point per pair of consecutive
// records, downsampled to the point budget.
import { downsample } from '../shared/downsample';
import {
  addHistograms,
  differences,
  healthByVersion,
  healthOf,
  latencyQuantiles,
  type CountsRecord,
  type Histogram,
  type InstanceCounts,
} from './counts';
import {
  POINT_BUDGET,
  type LatencyQuantiles,
  type MonitorSeries,
  type SeriesMetric,
  type SeriesPoint,
  type VersionHealth,
} from './model';

export interface WindowTotals {
  /** When the window's numbers really start: the baseline record, the servers' start, or -Infinity when unknown. */
  from: number;
  versions: VersionHealth[];
  overall: VersionHealth;
}

/**
 * The health over (start, end]: start undefined counts everything since the servers started.
 * An instance gone before `end` (a task replaced by a rollout) counts up to the last record of
 * `between` that saw it, so a version that stopped serving keeps its share of the window.
 */
export function windowTotals(
  start: CountsRecord | undefined,
  end: CountsRecord,
  between: CountsRecord[] = [],
): WindowTotals {
  const last = new Map<string, InstanceCounts>();
  for (const record of [...between, end])
    for (const instance of record.instances) last.set(instance.instance, instance);
  const instances = differences(start, { ...end, instances: [...last.values()] });
  const starts = [...last.values()].map((i) => (i.startedAt ?? 0) * 1000).filter((t) => t > 0);
  return {
    from: start?.at ?? (starts.length ? Math.min(...starts) : -Infinity),
    versions: healthByVersion(instances),
    overall: healthOf('all', instances),
  };
}

/** What one version did between two consecutive records. */
interface StepTotals {
  requests: number;
  errors: number;
  latency: Histogram | null;
  classes: Record<string, number>;
  predicted: number;
  values: Histogram | null;
}

interface Step {
  t: number;
  seconds: number;
  byVersion: Map<string, StepTotals>;
}

function stepTotals(group: InstanceCounts[]): StepTotals {
  const totals: StepTotals = {
    requests: 0,
    errors: 0,
    latency: addHistograms(group.map((i) => i.latency)),
    classes: {},
    predicted: 0,
    values: addHistograms(group.map((i) => i.values)),
  };
  for (const instance of group) {
    totals.requests += instance.requests;
    totals.errors += instance.errors;
    for (const [label, count] of Object.entries(instance.classes)) {
      totals.classes[label] = (totals.classes[label] ?? 0) + count;
      totals.predicted += count;
    }
  }
  return totals;
}

function stepsOf(records: CountsRecord[]): Step[] {
  const steps: Step[] = [];
  for (let i = 1; i < records.length; i++) {
    const seconds = (records[i].at - records[i - 1].at) / 1000;
    if (seconds <= 0) continue;
    const groups = new Map<string, InstanceCounts[]>();
    for (const instance of differences(records[i - 1], records[i])) {
      const group = groups.get(instance.version);
      if (group) group.push(instance);
      else groups.set(instance.version, [instance]);
    }
    steps.push({
      t: records[i].at,
      seconds,
      byVersion: new Map([...groups].map(([version, group]) => [version, stepTotals(group)])),
    });
  }
  return steps;
}

/** Chart series per version over consecutive records, each within `budget` points. */
export function windowSeries(records: CountsRecord[], budget = POINT_BUDGET): MonitorSeries[] {
  const steps = stepsOf(records);
  const versions = [...new Set(steps.flatMap((s) => [...s.byVersion.keys()]))].sort();
  const series: MonitorSeries[] = [];
  const add = (
    metric: SeriesMetric,
    version: string,
    value: (totals: StepTotals, step: Step) => number | null,
    key?: string,
    bucket = false,
  ) => {
    const points: SeriesPoint[] = steps.map((step) => {
      const totals = step.byVersion.get(version);
      return { t: step.t, v: totals ? value(totals, step) : null };
    });
    series.push({
      metric,
      version,
      ...(key !== undefined ? { key } : {}),
      ...(bucket ? { bucket } : {}),
      totalPoints: points.length,
      points: thin(points, budget),
    });
  };
  for (const version of versions) {
    const quantiles = new Map<StepTotals, LatencyQuantiles>();
    const latency = (totals: StepTotals) => {
      let known = quantiles.get(totals);
      if (!known) quantiles.set(totals, (known = latencyQuantiles(totals.latency)));
      return known;
    };
    add('requestRate', version, (totals, step) => totals.requests / step.seconds);
    add('errorRate', version, (totals) => (totals.requests > 0 ? totals.errors / totals.requests : null));
    add('latencyP50', version, (totals) => latency(totals).p50);
    add('latencyP95', version, (totals) => latency(totals).p95);
    add('latencyP99', version, (totals) => latency(totals).p99);
    const classes = [...new Set(steps.flatMap((s) => Object.keys(s.byVersion.get(version)?.classes ?? {})))].sort();
    for (const label of classes)
      add(
        'prediction',
        version,
        (totals) => (totals.predicted > 0 ? (totals.classes[label] ?? 0) / totals.predicted : null),
        label,
      );
    // Regression: the predictions per value bucket of each step, cumulative as the server counts them.
    const bounds = classes.length
      ? []
      : (steps.map((s) => s.byVersion.get(version)?.values).find((h) => h)?.bounds ?? []);
    bounds.forEach((bound, i) =>
      add(
        'prediction',
        version,
        (totals) => totals.values?.cumulative[i] ?? null,
        bound === Infinity ? '+Inf' : String(bound),
        true,
      ),
    );
  }
  return series;
}

/** Downsamples keeping gaps: LTTB over the points, nulls standing as gaps. */
export function thin(points: SeriesPoint[], budget: number): SeriesPoint[] {
  if (points.length <= budget) return points;
  const asMetric = points.map((p, i) => ({ step: i, timestamp: p.t, value: p.v ?? Number.NaN }));
  return downsample(asMetric, budget, (p) => p.timestamp).map((p) => ({
    t: p.timestamp,
    v: Number.isNaN(p.value) ? null : p.value,
  }));
}
