// A realistic Monitor panel payload without any service: a churn classifier served by two
// versions over 15 minutes at 5 s, the stable v3 and a canary v4 that starts three minutes in and
// goes bad towards the end (errors and p95 latency past their thresholds), a scrape gap, and
// drift on one feature. Deterministic for a given end time and seed.
import type {
  Alert,
  AuditEntry,
  DriftRow,
  MonitorSeries,
  MonitorSummary,
  SeriesPoint,
  Thresholds,
  VersionHealth,
} from '../../src/monitor/model';
import type { MonitorFeed } from '../../src/monitor/monitorFeed';

export const SAMPLE_THRESHOLDS: Thresholds = { errorRate: 0.05, p95LatencyMs: 250, psi: 0.25, minRequests: 100 };

const STEP_MS = 5000;
const WINDOW_MS = 15 * 60 * 1000;
const CLASSES = ['stay', 'churn'] as const;

interface Slice {
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  churnShare: number;
}

/** mulberry32: a small seeded generator, so the fixture is the same every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The summary and the chart series of a 15-minute window ending at `end` (epoch ms, rounded down
 * to 5 s), as MonitorFeed.load resolves them.
 */
export function sampleMonitorData(options: { end?: number; seed?: number } = {}): {
  summary: MonitorSummary;
  series: MonitorSeries[];
} {
  const end = Math.floor((options.end ?? Date.now()) / STEP_MS) * STEP_MS;
  const from = end - WINDOW_MS;
  const seed = options.seed ?? 7;
  /** Noise drawn per slice and version from its time, so a later window repeats the slices they share. */
  const noiseAt = (t: number, salt: number) => {
    const next = random(seed * 7919 + (t / STEP_MS) * 31 + salt);
    return { next, noise: (amount: number) => 1 + (next() - 0.5) * 2 * amount };
  };
  const count = WINDOW_MS / STEP_MS;
  const times = Array.from({ length: count }, (_, i) => from + (i + 1) * STEP_MS);
  /** 30 s every 15 minutes when the scrape failed: every series has a gap there. */
  const gap = (t: number) => Math.floor(t / 30_000) % 30 === 17;

  const v3: (Slice | null)[] = times.map((t) => {
    if (gap(t)) return null;
    const { next, noise } = noiseAt(t, 3);
    const rate = 8 + 2 * Math.sin(t / 90_000);
    const requests = Math.max(0, Math.round(rate * 5 * noise(0.15)));
    return {
      requests,
      errors: next() < 0.18 ? 1 : 0,
      p50: 22 * noise(0.1),
      p95: 61 * noise(0.15),
      p99: 112 * noise(0.2),
      churnShare: 0.27 * noise(0.12),
    };
  });
  const canaryStart = 36; // three minutes in
  const v4: (Slice | null)[] = times.map((t, i) => {
    if (gap(t) || i < canaryStart) return null;
    const { noise } = noiseAt(t, 4);
    const progress = Math.max(0, (i - 110) / (count - 110)); // the last six minutes go bad
    const requests = Math.max(0, Math.round(2.2 * 5 * noise(0.3)));
    const errorRate = 0.01 + 0.24 * progress;
    return {
      requests,
      errors: Math.round(requests * errorRate * noise(0.5)),
      p50: (27 + 30 * progress) * noise(0.1),
      p95: (78 + 540 * progress) * noise(0.15),
      p99: (140 + 700 * progress) * noise(0.2),
      churnShare: (0.3 + 0.18 * progress) * noise(0.15),
    };
  });

  const series: MonitorSeries[] = [];
  const push = (metric: MonitorSeries['metric'], version: string, points: SeriesPoint[], key?: string) =>
    series.push({ metric, version, ...(key === undefined ? {} : { key }), totalPoints: points.length, points });
  for (const [version, slices] of [
    ['v3', v3],
    ['v4', v4],
  ] as const) {
    const at = (value: (slice: Slice) => number | null) =>
      slices.map((slice, i) => ({ t: times[i], v: slice ? value(slice) : null }));
    push(
      'requestRate',
      version,
      at((s) => s.requests / 5),
    );
    push(
      'errorRate',
      version,
      at((s) => (s.requests > 0 ? s.errors / s.requests : null)),
    );
    push(
      'latencyP50',
      version,
      at((s) => (s.requests > 0 ? round(s.p50) : null)),
    );
    push(
      'latencyP95',
      version,
      at((s) => (s.requests > 0 ? round(s.p95) : null)),
    );
    push(
      'latencyP99',
      version,
      at((s) => (s.requests > 0 ? round(s.p99) : null)),
    );
    push(
      'prediction',
      version,
      at((s) => Math.round(s.requests * (1 - s.churnShare))),
      'stay',
    );
    push(
      'prediction',
      version,
      at((s) => Math.round(s.requests * s.churnShare)),
      'churn',
    );
  }

  const versions = [health('v3', v3), health('v4', v4)];
  const requests = versions.reduce((sum, v) => sum + v.requests, 0);
  const errors = versions.reduce((sum, v) => sum + v.errors, 0);
  const all = [...v3, ...v4];
  const drift = sampleDrift(random(seed));
  const summary: MonitorSummary = {
    target: 'Swarm (local)',
    deployment: 'churn',
    since: '15m',
    from: new Date(from).toISOString(),
    to: new Date(end).toISOString(),
    source: 'scrape',
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    latencyMs: { p50: weighted(all, (s) => s.p50), p95: weighted(all, (s) => s.p95), p99: weighted(all, (s) => s.p99) },
    predictions: { kind: 'classes', counts: sumCounts(versions) },
    versions,
    drift,
    outputDrift: [
      {
        comparison: 'versions',
        reference: 'v3',
        current: 'v4',
        kind: 'categorical',
        psi: 0.031,
        ks: null,
        severity: 'none',
        referenceRows: 1200,
        currentRows: 310,
      },
      {
        comparison: 'window',
        reference: 'the window before',
        current: 'this window',
        kind: 'categorical',
        psi: 0.012,
        ks: null,
        severity: 'none',
        referenceRows: 1480,
        currentRows: 1510,
      },
    ],
    resources: [
      { instance: 'churn.1.x3k9', cpuPercent: 12.5, memoryMb: 182.4 },
      { instance: 'churn.2.p0q7', cpuPercent: 9.1, memoryMb: 176.9 },
    ],
    alerts: [],
  };
  summary.alerts = alertsOf(summary, SAMPLE_THRESHOLDS);
  return { summary, series };
}

function health(version: string, slices: readonly (Slice | null)[]): VersionHealth {
  const present = slices.filter((slice): slice is Slice => slice !== null);
  const requests = present.reduce((sum, s) => sum + s.requests, 0);
  const errors = present.reduce((sum, s) => sum + s.errors, 0);
  const churn = present.reduce((sum, s) => sum + Math.round(s.requests * s.churnShare), 0);
  return {
    version,
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : null,
    latencyMs: {
      p50: weighted(present, (s) => s.p50),
      p95: weighted(present, (s) => s.p95),
      p99: weighted(present, (s) => s.p99),
    },
    predictions: { kind: 'classes', counts: { [CLASSES[0]]: requests - churn, [CLASSES[1]]: churn } },
  };
}

/** A request-weighted mean of the slices' quantiles: close enough to the window's quantile for a fixture. */
function weighted(slices: readonly (Slice | null)[], value: (slice: Slice) => number): number | null {
  let sum = 0;
  let weight = 0;
  for (const slice of slices) {
    if (!slice || slice.requests === 0) continue;
    sum += value(slice) * slice.requests;
    weight += slice.requests;
  }
  return weight > 0 ? round(sum / weight) : null;
}

function sumCounts(versions: readonly VersionHealth[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { predictions } of versions) {
    if (predictions.kind !== 'classes') continue;
    for (const [key, value] of Object.entries(predictions.counts)) counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

function sampleDrift(next: () => number): DriftRow[] {
  const trend = (start: number, end: number) =>
    Array.from({ length: 12 }, (_, i) =>
      round(Math.max(0, start + ((end - start) * i) / 11 + (next() - 0.5) * 0.02), 4),
    );
  return [
    { feature: 'tenure_months', kind: 'numeric', psi: 0.041, ks: 0.032, severity: 'none', trend: trend(0.03, 0.045) },
    {
      feature: 'monthly_charges',
      kind: 'numeric',
      psi: 0.168,
      ks: 0.114,
      severity: 'moderate',
      trend: trend(0.05, 0.17),
    },
    { feature: 'contract', kind: 'categorical', psi: 0.312, ks: null, severity: 'major', trend: trend(0.08, 0.33) },
    { feature: 'support_calls', kind: 'numeric', psi: 0.018, ks: 0.021, severity: 'none', trend: trend(0.02, 0.015) },
  ];
}

/** The alerts the thresholds raise on this window, as the alert rules word them. */
function alertsOf(summary: MonitorSummary, thresholds: Thresholds): Alert[] {
  const alerts: Alert[] = [];
  for (const v of summary.versions) {
    const judged = v.requests >= (thresholds.minRequests ?? 0);
    if (judged && thresholds.errorRate !== undefined && v.errorRate !== null && v.errorRate > thresholds.errorRate) {
      alerts.push({
        rule: 'errorRate',
        version: v.version,
        value: v.errorRate,
        threshold: thresholds.errorRate,
        message: `${v.version}: error rate ${(v.errorRate * 100).toFixed(1)}% is above ${(thresholds.errorRate * 100).toFixed(0)}% (${v.errors} of ${v.requests} requests)`,
      });
    }
    if (
      thresholds.p95LatencyMs !== undefined &&
      v.latencyMs.p95 !== null &&
      v.latencyMs.p95 > thresholds.p95LatencyMs
    ) {
      alerts.push({
        rule: 'p95LatencyMs',
        version: v.version,
        value: v.latencyMs.p95,
        threshold: thresholds.p95LatencyMs,
        message: `${v.version}: p95 latency ${Math.round(v.latencyMs.p95)} ms is above ${thresholds.p95LatencyMs} ms`,
      });
    }
  }
  for (const row of summary.drift) {
    if (thresholds.psi !== undefined && row.psi > thresholds.psi) {
      alerts.push({
        rule: 'psi',
        version: 'v4',
        value: row.psi,
        threshold: thresholds.psi,
        feature: row.feature,
        message: `input drift on ${row.feature}: PSI ${row.psi.toFixed(2)} is above ${thresholds.psi}`,
      });
    }
  }
  return alerts;
}

/** The audit log of the sample deployment, newest first. */
export function sampleAudit(end = Date.now()): AuditEntry[] {
  const at = (minutesAgo: number) => new Date(end - minutesAgo * 60_000).toISOString();
  const base = { target: 'Swarm (local)', deployment: 'churn' };
  return [
    { ...base, at: at(2), kind: 'alert', by: 'auto', message: 'v4: error rate 7.9% is above 5% (52 of 660 requests)' },
    {
      ...base,
      at: at(95),
      kind: 'revert',
      by: 'auto',
      fromRevision: 6,
      toRevision: 5,
      message: 'Reverted churn to its stable revision 5 after v3.1 breached p95 latency',
    },
    { ...base, at: at(96), kind: 'alert', by: 'auto', message: 'v3.1: p95 latency 412 ms is above 250 ms' },
    {
      ...base,
      at: at(60 * 26),
      kind: 'revert-failed',
      by: 'alice',
      message: 'Could not revert churn: no stable revision is pinned',
    },
  ];
}

/** A feed over the sample data, for opening the panel without a deployment. */
export function sampleMonitorFeed(): MonitorFeed {
  return {
    title: 'churn on Swarm (local)',
    thresholds: SAMPLE_THRESHOLDS,
    load: async (rangeSeconds, signal) => {
      signal.throwIfAborted();
      const data = sampleMonitorData();
      // The sample always covers 15 minutes; other windows show its numbers over their own span.
      if (rangeSeconds !== WINDOW_MS / 1000)
        data.summary.from = new Date(Date.parse(data.summary.to) - rangeSeconds * 1000).toISOString();
      return data;
    },
    revertToStable: async () => 'Reverted churn to its stable revision 5.',
    audit: async () => sampleAudit(),
  };
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
