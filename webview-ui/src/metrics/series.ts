// Turns the host's metric series into chart lines: the x axis chosen, smoothing, log scale.
import type { ChartPoint, MetricSeries } from '../../../src/experiments/contract';
import { formatCount } from '../shared/format';
import { smoothEma } from '../shared/smoothing';

export type XAxis = 'step' | 'wall' | 'relative';

export interface LineOptions {
  xAxis: XAxis;
  /** EMA weight, 0 (off) to 0.99. */
  smoothing: number;
  logScale: boolean;
}

export interface LinePoint {
  x: number;
  y: number;
}

/** A point of the main line; `value` is the unsmoothed value, for tooltips. */
export interface MainPoint extends LinePoint {
  value: number;
}

export interface Lines {
  /** The unsmoothed line drawn faded behind the smoothed one; empty when smoothing is off. */
  raw: LinePoint[];
  main: MainPoint[];
}

/** The earliest timestamp of each run over all its series: time zero on the relative axis. */
export function runOrigins(series: readonly MetricSeries[]): Map<string, number> {
  const origins = new Map<string, number>();
  for (const { runId, points } of series) {
    for (const { timestamp } of points) {
      if (timestamp < (origins.get(runId) ?? Infinity)) origins.set(runId, timestamp);
    }
  }
  return origins;
}

/**
 * Non-finite values become gaps (y = NaN). Values arrive as null when JSON carried NaN or
 * Infinity. On a log scale, points that are not positive are left out.
 */
export function toLines(points: readonly ChartPoint[], origin: number, options: LineOptions): Lines {
  const x = xOf(options.xAxis, origin);
  const ordered = points.map((point) => ({ x: x(point), value: finiteOrNaN(point.value) }));
  if (options.xAxis !== 'step') ordered.sort((a, b) => a.x - b.x);
  const values = ordered.map((point) => point.value);
  const smoothed = smoothEma(values, options.smoothing);
  const shown = (y: number) => !options.logScale || !(y <= 0);
  const main = ordered
    .map((point, i) => ({ x: point.x, y: smoothed[i], value: point.value }))
    .filter((point) => shown(point.y));
  const raw =
    options.smoothing > 0
      ? ordered.map((point) => ({ x: point.x, y: point.value })).filter((point) => shown(point.y))
      : [];
  return { raw, main };
}

function xOf(xAxis: XAxis, origin: number): (point: ChartPoint) => number {
  switch (xAxis) {
    case 'step':
      return (point) => point.step;
    case 'wall':
      return (point) => point.timestamp;
    case 'relative':
      return (point) => (point.timestamp - origin) / 1000;
  }
}

function finiteOrNaN(value: number | null): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : NaN;
}

/** "6,000 of 30,000 points shown" when the host downsampled any of the series. */
export function downsamplingNote(series: readonly MetricSeries[]): string | undefined {
  const shown = series.reduce((sum, s) => sum + s.points.length, 0);
  const total = series.reduce((sum, s) => sum + Math.max(s.totalPoints, s.points.length), 0);
  return total > shown ? `${formatCount(shown)} of ${formatCount(total)} points shown` : undefined;
}
