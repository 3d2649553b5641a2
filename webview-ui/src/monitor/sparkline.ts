// The geometry of a sparkline, a small inline SVG of a series (a feature's PSI over the window)
// with its last point marked. Apart from the DOM, so it is unit-tested.

export interface SparklineGeometry {
  /** An SVG path; a non-finite value breaks the line. Empty when there is nothing to draw. */
  path: string;
  /** The last finite point, marked with a dot. */
  last?: { x: number; y: number };
}

/**
 * The line of `values` in a `width` × `height` box, `pad` from its edges, oldest on the left. The
 * y axis starts at zero (or at the lowest value, when one is negative), so a flat low PSI stays low.
 */
export function sparklineGeometry(
  values: readonly number[],
  width: number,
  height: number,
  pad = 2,
): SparklineGeometry {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { path: '' };
  const low = Math.min(0, ...finite);
  const high = Math.max(...finite);
  const span = high > low ? high - low : 1;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  const x = (i: number) => round(values.length > 1 ? pad + i * step : width / 2);
  const y = (value: number) => round(height - pad - ((value - low) / span) * (height - 2 * pad));
  const parts: string[] = [];
  /** Points in the current piece of line; a lone point becomes a dot (a zero-length, round-capped line). */
  let run = 0;
  const endRun = () => {
    if (run === 1) parts.push('h0');
    run = 0;
  };
  let last: SparklineGeometry['last'];
  values.forEach((value, i) => {
    if (!Number.isFinite(value)) return endRun();
    last = { x: x(i), y: y(value) };
    parts.push(`${run > 0 ? 'L' : 'M'}${last.x},${last.y}`);
    run++;
  });
  endRun();
  return { path: parts.join(''), last };
}
