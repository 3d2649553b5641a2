// The model server's counters as monitoring keeps them: per instance (task or pod), cumulative
// since the server started, as Prometheus counters are. The numbers of a time window are the
// differences between two scrapes, instance by instance, so a task that restarts (its counters
// back at zero) or a task that is new counts from zero instead of going negative.
import type { LatencyQuantiles, PredictionSummary, Sample, VersionHealth } from './model';

export interface Histogram {
  /** Upper bounds, ascending, the last +Inf (stored as null in JSON). */
  bounds: number[];
  /** Cumulative count per bound, as Prometheus' `le` buckets. */
  cumulative: number[];
  sum: number;
}

export interface InstanceCounts {
  instance: string;
  version: string;
  /** Epoch seconds the server started, when it says. */
  startedAt?: number;
  requests: number;
  errors: number;
  latency: Histogram | null;
  /** Predictions per class (classification). */
  classes: Record<string, number>;
  /** Numeric predictions (regression). */
  values: Histogram | null;
}

/** The counters of every instance in one scrape. */
export interface CountsRecord {
  at: number;
  instances: InstanceCounts[];
  unreachable: { instance: string; error: string }[];
}

const DEFAULT_INSTANCE = 'server';

/** Groups a scrape's samples by instance into counters. */
export function countsOf(samples: Sample[]): InstanceCounts[] {
  const byInstance = new Map<string, InstanceCounts>();
  const latency = new Map<string, Map<number, number>>();
  const values = new Map<string, Map<number, number>>();
  const get = (sample: Sample) => {
    const instance = sample.labels.instance ?? DEFAULT_INSTANCE;
    let counts = byInstance.get(instance);
    if (!counts) {
      counts = { instance, version: '', requests: 0, errors: 0, latency: null, classes: {}, values: null };
      byInstance.set(instance, counts);
    }
    if (sample.labels.version) counts.version = sample.labels.version;
    return counts;
  };
  const bucket = (table: Map<string, Map<number, number>>, sample: Sample) => {
    const instance = sample.labels.instance ?? DEFAULT_INSTANCE;
    const buckets = table.get(instance) ?? new Map<number, number>();
    table.set(instance, buckets);
    buckets.set(Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le), sample.value);
  };
  for (const sample of samples) {
    switch (sample.name) {
      case 'mlops_requests_total':
        get(sample).requests += sample.value;
        break;
      case 'mlops_request_errors_total':
        get(sample).errors += sample.value;
        break;
      case 'mlops_request_latency_seconds_bucket':
        get(sample);
        bucket(latency, sample);
        break;
      case 'mlops_request_latency_seconds_sum':
        histogramOf(get(sample), 'latency').sum = sample.value;
        break;
      case 'mlops_prediction_value_bucket':
        get(sample);
        bucket(values, sample);
        break;
      case 'mlops_prediction_value_sum':
        histogramOf(get(sample), 'values').sum = sample.value;
        break;
      case 'mlops_predicted_class_total': {
        const counts = get(sample);
        const label = sample.labels.class ?? '';
        counts.classes[label] = (counts.classes[label] ?? 0) + sample.value;
        break;
      }
      case 'mlops_server_start_time_seconds':
        get(sample).startedAt = sample.value;
        break;
    }
  }
  for (const [instance, counts] of byInstance) {
    for (const [table, key] of [
      [latency, 'latency'],
      [values, 'values'],
    ] as const) {
      const buckets = table.get(instance);
      if (!buckets) continue;
      const bounds = [...buckets.keys()].sort((a, b) => a - b);
      const histogram = histogramOf(counts, key);
      histogram.bounds = bounds;
      histogram.cumulative = bounds.map((b) => buckets.get(b)!);
    }
  }
  return [...byInstance.values()];
}

function histogramOf(counts: InstanceCounts, key: 'latency' | 'values'): Histogram {
  counts[key] ??= { bounds: [], cumulative: [], sum: 0 };
  return counts[key];
}

/** An instance's counters as of `before`, or zero when it is new or restarted since. */
function baselineOf(
  current: InstanceCounts,
  before: InstanceCounts | undefined,
  from: number | undefined,
): InstanceCounts | undefined {
  const started = current.startedAt !== undefined && from !== undefined && current.startedAt * 1000 >= from;
  if (!before || started || current.requests < before.requests || current.version !== before.version) return undefined;
  return before;
}

/** What happened between two records, per instance: `end` minus `start` (zero-based where reset). */
export function differences(start: CountsRecord | undefined, end: CountsRecord): InstanceCounts[] {
  const earlier = new Map((start?.instances ?? []).map((i) => [i.instance, i]));
  return end.instances.map((current) => {
    const before = baselineOf(current, earlier.get(current.instance), start?.at);
    if (!before) return current;
    const classes: Record<string, number> = {};
    for (const [key, value] of Object.entries(current.classes)) classes[key] = value - (before.classes[key] ?? 0);
    return {
      ...current,
      requests: current.requests - before.requests,
      errors: current.errors - before.errors,
      latency: histogramDifference(current.latency, before.latency),
      classes,
      values: histogramDifference(current.values, before.values),
    };
  });
}

function histogramDifference(current: Histogram | null, before: Histogram | null): Histogram | null {
  if (!current || !before || current.bounds.length !== before.bounds.length) return current;
  return {
    bounds: current.bounds,
    cumulative: current.cumulative.map((c, i) => c - before.cumulative[i]),
    sum: current.sum - before.sum,
  };
}

/** The sum of several instances' histograms (same buckets, as one server version writes them). */
export function addHistograms(histograms: (Histogram | null)[]): Histogram | null {
  const present = histograms.filter((h): h is Histogram => h !== null && h.bounds.length > 0);
  if (!present.length) return null;
  const [first] = present;
  if (present.length === 1) return first;
  return {
    bounds: first.bounds,
    cumulative: first.bounds.map((_, i) => present.reduce((total, h) => total + (h.cumulative[i] ?? 0), 0)),
    sum: present.reduce((total, h) => total + h.sum, 0),
  };
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; null when it holds no observations.
 */
export function histogramQuantile(q: number, histogram: Histogram | null): number | null {
  if (!histogram) return null;
  const { bounds, cumulative } = histogram;
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  const index = cumulative.findIndex((count) => count >= rank);
  if (index < 0) return null;
  if (bounds[index] === Infinity) return index > 0 ? bounds[index - 1] : null;
  const lower = index === 0 ? 0 : bounds[index - 1];
  const lowerCount = index === 0 ? 0 : cumulative[index - 1];
  const inBucket = cumulative[index] - lowerCount;
  if (index === 0 && bounds[0] <= 0) return bounds[0];
  return inBucket > 0 ? lower + ((bounds[index] - lower) * (rank - lowerCount)) / inBucket : bounds[index];
}

export function latencyQuantiles(histogram: Histogram | null): LatencyQuantiles {
  const ms = (q: number) => {
    const seconds = histogramQuantile(q, histogram);
    return seconds === null ? null : Math.round(seconds * 1000 * 1000) / 1000;
  };
  return { p50: ms(0.5), p95: ms(0.95), p99: ms(0.99) };
}

function predictionsOf(classes: Record<string, number>, values: Histogram | null): PredictionSummary {
  const count = values?.cumulative.at(-1) ?? 0;
  if (values && count > 0) {
    return {
      kind: 'values',
      count,
      mean: values.sum / count,
      buckets: values.bounds.map((le, i) => ({ le, count: values.cumulative[i] })),
    };
  }
  if (Object.keys(classes).length) return { kind: 'classes', counts: classes };
  return { kind: 'none' };
}

/** Sums instances per version: the health of each version over the window. */
export function healthByVersion(instances: InstanceCounts[]): VersionHealth[] {
  const versions = new Map<string, InstanceCounts[]>();
  for (const instance of instances)
    versions.set(instance.version, [...(versions.get(instance.version) ?? []), instance]);
  return [...versions].sort(([a], [b]) => a.localeCompare(b)).map(([version, group]) => healthOf(version, group));
}

export function healthOf(version: string, group: InstanceCounts[]): VersionHealth {
  const requests = group.reduce((total, i) => total + i.requests, 0);
  const errors = group.reduce((total, i) => total + i.errors, 0);
  const classes: Record<string, number> = {};
  for (const instance of group)
    for (const [key, value] of Object.entries(instance.classes)) classes[key] = (classes[key] ?? 0) + value;
  return {
    version,
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    latencyMs: latencyQuantiles(addHistograms(group.map((i) => i.latency))),
    predictions: predictionsOf(classes, addHistograms(group.map((i) => i.values))),
  };
}
