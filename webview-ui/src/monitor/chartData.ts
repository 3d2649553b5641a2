// Turns the host's monitor series into chart lines: one per version (per quantile for latency),
// threshold lines, and the stacked shares of the prediction mix. Pure, so it is unit-tested.
import type { MonitorSeries, MonitorSummary, SeriesPoint } from '../../../src/monitor/contract';
import { formatCount, formatNumber } from '../shared/format';
import { SERIES_COLORS } from '../shared/palette';

/** A chart point: epoch ms and a value; NaN is a gap. */
export interface XY {
  x: number;
  y: number;
}

export type SeriesMetric = MonitorSeries['metric'];

export interface LineSpec {
  label: string;
  version: string;
  points: XY[];
  /** A line among several of a version (a latency quantile): its dash and width tell them apart. */
  variant?: LineVariant;
}

export interface LineVariant {
  suffix: string;
  dash: number[];
  width: number;
}

/**
 * The versions in a stable order, the one their colours follow in every chart and the table:
 * the summary's order, then any version that has series only.
 */
export function versionOrder(summary: MonitorSummary, series: readonly MonitorSeries[]): string[] {
  const versions = summary.versions.map((health) => health.version);
  for (const { version } of series) if (!versions.includes(version)) versions.push(version);
  return versions;
}

/** Chart points in time order; null and non-finite values become NaN, which chart.js draws as a gap. */
export function toXY(points: readonly SeriesPoint[], scale = 1): XY[] {
  const xy = points.map((point) => ({
    x: point.t,
    y: point.v === null || !Number.isFinite(point.v) ? NaN : point.v * scale,
  }));
  for (let i = 1; i < xy.length; i++) {
    if (xy[i].x < xy[i - 1].x) return xy.sort((a, b) => a.x - b.x);
  }
  return xy;
}

export const LATENCY_VARIANTS: readonly (LineVariant & { metric: SeriesMetric })[] = [
  { metric: 'latencyP50', suffix: 'p50', dash: [2, 3], width: 1.25 },
  { metric: 'latencyP95', suffix: 'p95', dash: [], width: 2 },
  { metric: 'latencyP99', suffix: 'p99', dash: [7, 3], width: 1.25 },
];

/**
 * One line per version for `metric` (request rate, error rate), in version order; `scale`
 * multiplies the values (100 for percentages). Versions without the series get no line.
 */
export function versionLines(
  series: readonly MonitorSeries[],
  metric: SeriesMetric,
  versions: readonly string[],
  scale = 1,
): LineSpec[] {
  return versions.flatMap((version) => {
    const found = series.find((s) => s.metric === metric && s.version === version);
    return found ? [{ label: version, version, points: toXY(found.points, scale) }] : [];
  });
}

/** p50, p95 and p99 per version: the version's colour, the quantile's dash. */
export function latencyLines(series: readonly MonitorSeries[], versions: readonly string[]): LineSpec[] {
  return versions.flatMap((version) =>
    LATENCY_VARIANTS.flatMap(({ metric, ...variant }) => {
      const found = series.find((s) => s.metric === metric && s.version === version);
      return found ? [{ label: `${version} ${variant.suffix}`, version, points: toXY(found.points), variant }] : [];
    }),
  );
}

/** A horizontal line across the window. */
export function thresholdLine(value: number, from: number, to: number): XY[] {
  return [
    { x: from, y: value },
    { x: to, y: value },
  ];
}

/** "360 of 17,280 points shown" when the host downsampled any of the series. */
export function downsamplingNote(series: readonly MonitorSeries[]): string | undefined {
  const shown = series.reduce((sum, s) => sum + s.points.length, 0);
  const total = series.reduce((sum, s) => sum + Math.max(s.totalPoints, s.points.length), 0);
  return total > shown ? `${formatCount(shown)} of ${formatCount(total)} points shown` : undefined;
}

/**
 * The colour of the `index`th prediction band. Bands take the palette from its far end (teal,
 * purple, ochre…), so a class is not mistaken for a version, which take it from the start.
 */
export function bandColor(index: number): string {
  const order = [5, 4, 7, 6, 8, 2, 3, 0, 1, 9];
  return SERIES_COLORS[order[index % order.length]];
}

/** One band of a stacked prediction chart: its share (0..100 %) of the version's predictions over time. */
export interface ShareBand {
  label: string;
  points: XY[];
}

const INFINITY = /^\+?inf(inity)?$/i;

function bucketBound(key: string): number {
  return INFINITY.test(key.trim()) ? Infinity : Number(key);
}

/**
 * The prediction mix of `version` over time, as stacked shares: per class (classification) or per
 * value bucket (regression, keys being the buckets' upper bounds). Classes and buckets are chosen
 * and ordered over all versions, so a band keeps its colour from one version's chart to the next;
 * past `maxBands`, the rarest classes are summed as "other" and adjacent buckets are merged.
 * Bucket counts may come cumulative, as Prometheus keeps them (`le`): a version whose counts never
 * decrease with the bound at any time, and grow with it at some, is taken as cumulative and differenced.
 * A time with no predictions is a gap.
 */
export function predictionBands(series: readonly MonitorSeries[], version: string, maxBands = 8): ShareBand[] {
  const all = series.filter((s) => s.metric === 'prediction' && s.key !== undefined);
  const keys = [...new Set(all.map((s) => s.key!))];
  if (keys.length === 0) return [];
  const buckets = all.every((s) => s.bucket);
  const mine = all.filter((s) => s.version === version);
  const times = [...new Set(mine.flatMap((s) => s.points.map((point) => point.t)))].sort((a, b) => a - b);
  const column = new Map(times.map((t, i) => [t, i]));
  const matrix = (
    subset: readonly MonitorSeries[],
    order: readonly string[],
    columns: Map<number, number>,
    width: number,
  ) =>
    order.map((key) => {
      const row: (number | null)[] = new Array<number | null>(width).fill(null);
      for (const s of subset.filter((one) => one.key === key)) {
        for (const point of s.points) {
          const at = columns.get(point.t);
          if (at !== undefined && point.v !== null && Number.isFinite(point.v)) row[at] = (row[at] ?? 0) + point.v;
        }
      }
      return row;
    });

  let groups: { label: string; keys: string[] }[];
  let values: (number | null)[][];
  if (buckets) {
    keys.sort((a, b) => bucketBound(a) - bucketBound(b));
    values = matrix(mine, keys, column, times.length);
    if (isCumulative(values)) values = decumulate(values);
    // Which buckets ever hold a prediction, over every version (each differenced on its own).
    const used = new Set<string>();
    for (const other of new Set(all.map((s) => s.version))) {
      const theirs = all.filter((s) => s.version === other);
      const theirTimes = [...new Set(theirs.flatMap((s) => s.points.map((point) => point.t)))];
      let rows = matrix(theirs, keys, new Map(theirTimes.map((t, i) => [t, i])), theirTimes.length);
      if (isCumulative(rows)) rows = decumulate(rows);
      rows.forEach((row, i) => row.some((value) => (value ?? 0) > 0) && used.add(keys[i]));
    }
    groups = bucketGroups(keys, used, maxBands);
  } else {
    const totals = new Map<string, number>();
    for (const s of all)
      for (const point of s.points)
        totals.set(s.key!, (totals.get(s.key!) ?? 0) + (point.v !== null && Number.isFinite(point.v) ? point.v : 0));
    keys.sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b));
    values = matrix(mine, keys, column, times.length);
    const kept = keys.length > maxBands ? keys.slice(0, maxBands - 1) : keys;
    groups = kept.map((key) => ({ label: key, keys: [key] }));
    if (kept.length < keys.length) groups.push({ label: 'other', keys: keys.slice(kept.length) });
  }

  const rowOf = new Map(keys.map((key, i) => [key, values[i]]));
  const grouped = groups.map((group) =>
    times.map((_, at) => {
      const cells = group.keys.map((key) => rowOf.get(key)![at]);
      return cells.every((cell) => cell === null)
        ? null
        : cells.reduce<number>((sum, cell) => sum + Math.max(0, cell ?? 0), 0);
    }),
  );
  const totals = times.map((_, at) => grouped.reduce((sum, row) => sum + (row[at] ?? 0), 0));
  return groups.map((group, g) => ({
    label: group.label,
    points: times.map((t, at) => ({ x: t, y: totals[at] > 0 ? ((grouped[g][at] ?? 0) / totals[at]) * 100 : NaN })),
  }));
}

/**
 * Rows in bound order: cumulative when no time ever has a smaller count at a larger bound, and
 * some time has a larger one (equal counts everywhere are more likely per bucket).
 */
function isCumulative(rows: readonly (number | null)[][]): boolean {
  if (rows.length < 2) return false;
  let rises = false;
  for (let at = 0; at < rows[0].length; at++) {
    let previous: number | undefined;
    for (const row of rows) {
      const value = row[at];
      if (value === null) continue;
      if (previous !== undefined && value < previous) return false;
      if (previous !== undefined && value > previous) rises = true;
      previous = value;
    }
  }
  return rises;
}

function decumulate(rows: readonly (number | null)[][]): (number | null)[][] {
  return rows.map((row, i) =>
    row.map((value, at) => {
      if (value === null || i === 0) return value;
      const below =
        rows
          .slice(0, i)
          .reverse()
          .find((lower) => lower[at] !== null)?.[at] ?? 0;
      return Math.max(0, value - below);
    }),
  );
}

/**
 * Buckets, in bound order, grouped into at most `maxBands` bands of adjacent used buckets, each
 * labelled by the range it covers: "≤ 0.5", "0.5 – 2.5", "> 100".
 */
function bucketGroups(
  keys: readonly string[],
  used: ReadonlySet<string>,
  maxBands: number,
): { label: string; keys: string[] }[] {
  const usedKeys = keys.filter((key) => used.has(key));
  const size = Math.max(1, Math.ceil(usedKeys.length / maxBands));
  const groups: { label: string; keys: string[] }[] = [];
  for (let start = 0; start < usedKeys.length; start += size) {
    const members = usedKeys.slice(start, start + size);
    const first = keys.indexOf(members[0]);
    const lower = first > 0 ? bucketBound(keys[first - 1]) : undefined;
    const upper = bucketBound(members[members.length - 1]);
    const label =
      lower === undefined
        ? upper === Infinity
          ? 'all values'
          : `≤ ${formatNumber(upper)}`
        : upper === Infinity
          ? `> ${formatNumber(lower)}`
          : `${formatNumber(lower)} – ${formatNumber(upper)}`;
    groups.push({ label, keys: members });
  }
  return groups;
}
