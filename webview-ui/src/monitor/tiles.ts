// The stat tiles and the version table's cells: numbers formatted for reading, and judged against
// the deployment's thresholds (an absent threshold is not checked).
import type { MonitorSummary, PredictionSummary, Thresholds } from '../../../src/monitor/contract';
import { formatCount, formatNumber } from '../shared/format';

/** ok: within the threshold; warn: past WARN_FRACTION of it; breach: past it; unjudged: too few requests; none: no threshold. */
export type Level = 'ok' | 'warn' | 'breach' | 'unjudged' | 'none';

/** A value past this share of its threshold is shown as a warning before it fires. */
export const WARN_FRACTION = 0.8;

/** Judges a value against a threshold; `minRequests` gates rates, whose few-request values mislead. */
export function judge(
  value: number | null,
  threshold: number | undefined,
  gate?: { requests: number; minRequests: number | undefined },
): Level {
  if (threshold === undefined || value === null || !Number.isFinite(value)) return 'none';
  if (gate?.minRequests !== undefined && gate.requests < gate.minRequests) return 'unjudged';
  if (value > threshold) return 'breach';
  return value > threshold * WARN_FRACTION ? 'warn' : 'ok';
}

export function judgeErrorRate(errorRate: number | null, requests: number, thresholds: Thresholds): Level {
  return judge(errorRate, thresholds.errorRate, { requests, minRequests: thresholds.minRequests });
}

export function judgeP95(p95: number | null, thresholds: Thresholds): Level {
  return judge(p95, thresholds.p95LatencyMs);
}

/** An error rate (0..1) as a percentage: "0%", "< 0.01%", "2.35%", "12.5%". */
export function formatPercent(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '—';
  const percent = rate * 100;
  if (percent === 0) return '0%';
  if (Math.abs(percent) < 0.01) return '< 0.01%';
  return `${Number(percent.toFixed(Math.abs(percent) < 10 ? 2 : 1))}%`;
}

/** A latency: "4.2 ms", "128 ms", "1.45 s". */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (Math.abs(ms) >= 1000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${Number(ms.toFixed(Math.abs(ms) < 10 ? 1 : 0))} ms`;
}

/** Requests per second with three significant digits: "0.0333", "12.5", "1,250". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  if (perSecond >= 1000) return formatCount(Math.round(perSecond));
  return formatNumber(Number(perSecond.toPrecision(3)));
}

export interface Tile {
  id: 'requests' | 'errorRate' | 'p50' | 'p95' | 'p99';
  label: string;
  value: string;
  level: Level;
  detail: string;
}

/** The five tiles above the charts; `windowSeconds` turns the request count into a rate. */
export function statTiles(summary: MonitorSummary, thresholds: Thresholds, windowSeconds: number): Tile[] {
  const { requests, errors, errorRate, latencyMs } = summary;
  const errorLevel = judgeErrorRate(errorRate, requests, thresholds);
  const errorDetail = [`${formatCount(errors)} ${errors === 1 ? 'error' : 'errors'}`];
  if (errorLevel === 'unjudged') errorDetail.push(`judged from ${formatCount(thresholds.minRequests ?? 0)} requests`);
  else if (thresholds.errorRate !== undefined) errorDetail.push(`threshold ${formatPercent(thresholds.errorRate)}`);
  const p95Detail =
    thresholds.p95LatencyMs !== undefined ? `threshold ${formatMs(thresholds.p95LatencyMs)}` : 'no threshold';
  return [
    {
      id: 'requests',
      label: 'Requests',
      value: formatCount(requests),
      level: 'none',
      detail: windowSeconds > 0 ? `${formatRate(requests / windowSeconds)} req/s` : '',
    },
    {
      id: 'errorRate',
      label: 'Error rate',
      value: formatPercent(errorRate),
      level: errorLevel,
      detail: errorDetail.join(' · '),
    },
    { id: 'p50', label: 'Latency p50', value: formatMs(latencyMs.p50), level: 'none', detail: 'median' },
    {
      id: 'p95',
      label: 'Latency p95',
      value: formatMs(latencyMs.p95),
      level: judgeP95(latencyMs.p95, thresholds),
      detail: p95Detail,
    },
    { id: 'p99', label: 'Latency p99', value: formatMs(latencyMs.p99), level: 'none', detail: 'tail' },
  ];
}

export interface PredictionPart {
  key: string;
  share: number;
}

/** The classes of a window by share, largest first, the ones past `limit` summed as "other". */
export function classShares(counts: Record<string, number>, limit = 3): PredictionPart[] {
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return [];
  entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const parts = entries.slice(0, limit).map(([key, count]) => ({ key, share: count / total }));
  const rest = entries.slice(limit).reduce((sum, [, count]) => sum + count, 0);
  if (rest > 0) parts.push({ key: 'other', share: rest / total });
  return parts;
}

/** One line for a version's predictions: "yes 62% · no 38%", "mean 12.4 · 1,520 values", "—". */
export function predictionText(predictions: PredictionSummary): string {
  switch (predictions.kind) {
    case 'classes': {
      const parts = classShares(predictions.counts);
      return parts.length > 0 ? parts.map((part) => `${part.key} ${Math.round(part.share * 100)}%`).join(' · ') : '—';
    }
    case 'values':
      if (predictions.count === 0) return '—';
      return `${predictions.mean === null ? '' : `mean ${formatNumber(Number(predictions.mean.toPrecision(4)))} · `}${formatCount(predictions.count)} ${predictions.count === 1 ? 'value' : 'values'}`;
    case 'none':
      return '—';
  }
}
