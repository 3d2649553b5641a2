// Largest-Triangle-Three-Buckets downsampling of a metric series, keeping the first, last,
// minimum and maximum points, so that a chart of 2,000 points looks like the full history.
// Own code, not a library: plain LTTB packages drop the minimum and maximum a metric chart must show.

/** A point of a series: a value, and a step that orders it (MLflow's metric points, monitor samples). */
interface SeriesPoint {
  step: number;
  value: number;
}

/**
 * Picks at most `budget` points of `points` (already in x order). `x` gives the horizontal
 * coordinate (the step by default). Non-finite values are kept where LTTB selects them but do
 * not steer the selection.
 */
export function downsample<P extends SeriesPoint>(
  points: P[],
  budget: number,
  x: (p: P) => number = (p) => p.step,
): P[] {
  const n = points.length;
  if (budget >= n || n <= 2) return points.slice();
  if (budget < 3) return [points[0], points[n - 1]].slice(0, Math.max(budget, 1));
  const extremes = extremeIndices(points);
  // Reserve room for the extremes, then let LTTB fill the rest.
  const lttbBudget = Math.max(3, budget - extremes.size);
  const chosen = new Set<number>(lttb(points, lttbBudget, x));
  for (const index of extremes) chosen.add(index);
  const indices = [...chosen].sort((a, b) => a - b);
  // The extremes may have pushed us over budget by a point or two; drop the least useful ones.
  while (indices.length > budget) {
    const drop = indices.findIndex((index, i) => i > 0 && i < indices.length - 1 && !extremes.has(index));
    indices.splice(drop, 1);
  }
  return indices.map((index) => points[index]);
}

function extremeIndices(points: SeriesPoint[]): Set<number> {
  let min = -1;
  let max = -1;
  for (let i = 0; i < points.length; i++) {
    const value = points[i].value;
    if (!Number.isFinite(value)) continue;
    if (min < 0 || value < points[min].value) min = i;
    if (max < 0 || value > points[max].value) max = i;
  }
  const result = new Set<number>([0, points.length - 1]);
  if (min >= 0) result.add(min);
  if (max >= 0) result.add(max);
  return result;
}

function lttb<P extends SeriesPoint>(points: P[], budget: number, x: (p: P) => number): number[] {
  const n = points.length;
  const y = (i: number) => (Number.isFinite(points[i].value) ? points[i].value : 0);
  const selected = [0];
  const bucketSize = (n - 2) / (budget - 2);
  let a = 0;
  for (let bucket = 0; bucket < budget - 2; bucket++) {
    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.min(Math.floor((bucket + 1) * bucketSize) + 1, n - 1);
    // The average of the next bucket is the third corner of the triangle.
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((bucket + 2) * bucketSize) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      avgX += x(points[i]);
      avgY += y(i);
    }
    const count = Math.max(nextEnd - nextStart, 1);
    avgX /= count;
    avgY /= count;
    const ax = x(points[a]);
    const ay = y(a);
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const area = Math.abs((ax - avgX) * (y(i) - ay) - (ax - x(points[i])) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    selected.push(best);
    a = best;
  }
  selected.push(n - 1);
  return selected;
}
