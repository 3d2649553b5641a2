// The numbers of a window through Prometheus (`mlops.prometheusUrl`), from the series the
// exported scrape config labels with `deployment`. Totals are the counters' values at the end
// minus those at the start (zero for series that began inside the window), not increase(),
// whose extrapolation would report 66.7 requests where 67 were sent.
import { latencyQuantiles, type Histogram } from './counts';
import {
  POINT_BUDGET,
  type MonitorSeries,
  type PredictionSummary,
  type SeriesMetric,
  type VersionHealth,
} from './model';
import { queryPrometheusRange, queryVector, type PrometheusConnection } from './prometheusApi';
import { thin } from './window';

const quote = (text: string) => JSON.stringify(text);

/** `metric` gained over the window, per `by` labels. */
function gained(metric: string, selector: string, seconds: number, by: string): string {
  const series = `${metric}{${selector}}`;
  return `sum by (${by}) (${series} - (${series} offset ${seconds}s * 1 or ${series} * 0))`;
}

export interface PrometheusTotals {
  versions: VersionHealth[];
  overall: VersionHealth;
}

export async function prometheusTotals(
  connection: PrometheusConnection,
  deployment: string,
  to: number,
  seconds: number,
  signal?: AbortSignal,
): Promise<PrometheusTotals> {
  const selector = `deployment=${quote(deployment)}`;
  const at = { time: new Date(to), ...(signal ? { signal } : {}) };
  const window = Math.max(1, Math.round(seconds));
  const [requests, errors, buckets, classes, valueSum, valueBuckets] = await Promise.all([
    queryVector(connection, gained('mlops_requests_total', selector, window, 'version'), at),
    queryVector(connection, gained('mlops_request_errors_total', selector, window, 'version'), at),
    queryVector(connection, gained('mlops_request_latency_seconds_bucket', selector, window, 'version, le'), at),
    queryVector(connection, gained('mlops_predicted_class_total', selector, window, 'version, class'), at),
    queryVector(connection, gained('mlops_prediction_value_sum', selector, window, 'version'), at),
    queryVector(connection, gained('mlops_prediction_value_bucket', selector, window, 'version, le'), at),
  ]);
  const versions = [...new Set(requests.map((s) => s.metric.version ?? ''))].sort();
  const byVersion = (samples: typeof requests, version: string | null) =>
    samples.filter((s) => version === null || s.metric.version === version);
  const sum = (samples: typeof requests) => Math.round(samples.reduce((total, s) => total + s.value, 0));
  const histogram = (samples: typeof requests): Histogram | null => {
    const bounds = [...new Set(samples.map((s) => Number(s.metric.le === '+Inf' ? Infinity : s.metric.le)))].sort(
      (a, b) => a - b,
    );
    if (!bounds.length) return null;
    return {
      bounds,
      cumulative: bounds.map((b) =>
        samples
          .filter((s) => Number(s.metric.le === '+Inf' ? Infinity : s.metric.le) === b)
          .reduce((t, s) => t + s.value, 0),
      ),
      sum: 0,
    };
  };
  const health = (version: string | null): VersionHealth => {
    const n = sum(byVersion(requests, version));
    const e = sum(byVersion(errors, version));
    const counts: Record<string, number> = {};
    for (const s of byVersion(classes, version))
      counts[s.metric.class ?? ''] = (counts[s.metric.class ?? ''] ?? 0) + Math.round(s.value);
    const values = histogram(byVersion(valueBuckets, version));
    const valueCount = values?.cumulative.at(-1) ?? 0;
    const predictions: PredictionSummary =
      values && valueCount > 0
        ? {
            kind: 'values',
            count: valueCount,
            mean: byVersion(valueSum, version).reduce((t, s) => t + s.value, 0) / valueCount,
            buckets: values.bounds.map((le, i) => ({ le, count: values.cumulative[i] })),
          }
        : Object.keys(counts).length
          ? { kind: 'classes', counts }
          : { kind: 'none' };
    return {
      version: version ?? 'all',
      requests: n,
      errors: e,
      errorRate: n > 0 ? e / n : null,
      latencyMs: latencyQuantiles(histogram(byVersion(buckets, version))),
      predictions,
    };
  };
  return { versions: versions.map(health), overall: health(null) };
}

/** The chart series over [from, to], one point per step, each within the point budget. */
export async function prometheusSeries(
  connection: PrometheusConnection,
  deployment: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<MonitorSeries[]> {
  const selector = `deployment=${quote(deployment)}`;
  const step = Math.max(1, Math.ceil((to - from) / 1000 / POINT_BUDGET));
  const range = `${Math.max(2 * step, 30)}s`;
  const rate = (metric: string, by: string) => `sum by (${by}) (rate(${metric}{${selector}}[${range}]))`;
  const queries: { metric: SeriesMetric; expr: string; key?: (labels: Record<string, string>) => string }[] = [
    { metric: 'requestRate', expr: rate('mlops_requests_total', 'version') },
    {
      metric: 'errorRate',
      expr: `(${rate('mlops_request_errors_total', 'version')} or 0 * ${rate('mlops_requests_total', 'version')}) / ${rate('mlops_requests_total', 'version')}`,
    },
    ...(
      [
        ['latencyP50', 0.5],
        ['latencyP95', 0.95],
        ['latencyP99', 0.99],
      ] as const
    ).map(([metric, q]) => ({
      metric,
      expr: `1000 * histogram_quantile(${q}, ${rate('mlops_request_latency_seconds_bucket', 'version, le')})`,
    })),
    {
      metric: 'prediction',
      expr: `${rate('mlops_predicted_class_total', 'version, class')} / on (version) group_left sum by (version) (${rate('mlops_predicted_class_total', 'version')})`,
      key: (labels) => labels.class ?? '',
    },
  ];
  const results = await Promise.all(
    queries.map((q) =>
      queryPrometheusRange(connection, q.expr, {
        start: new Date(from),
        end: new Date(to),
        step,
        ...(signal ? { signal } : {}),
      }),
    ),
  );
  return queries.flatMap((q, i) =>
    results[i].series.map((series) => {
      const points = series.points.map((p) => ({ t: p.time * 1000, v: Number.isFinite(p.value) ? p.value : null }));
      return {
        metric: q.metric,
        version: series.metric.version ?? '',
        ...(q.key ? { key: q.key(series.metric) } : {}),
        totalPoints: points.length,
        points: thin(points, POINT_BUDGET),
      };
    }),
  );
}
