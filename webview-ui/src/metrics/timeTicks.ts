// Tick positions for time axes on round steps (5 s, 10 min, 2 h, 1 d, …) instead of chart.js's
// decimal ones (500 s, 1,000,000 ms), which read badly as times.

/** Round steps, in seconds. */
const STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800,
];

/** The round step, in seconds, that puts at most `maxTicks` ticks on a span of `spanSeconds`. */
export function timeStep(spanSeconds: number, maxTicks: number): number {
  const found = STEPS.find((step) => spanSeconds / step <= maxTicks);
  if (found !== undefined) return found;
  const week = STEPS[STEPS.length - 1];
  return week * Math.ceil(spanSeconds / (week * maxTicks));
}

/**
 * Ticks from `min` to `max`, where values count `unit` seconds each (1000 for milliseconds).
 * `offset` (in value units) aligns them to another clock, the local one for wall time.
 */
export function timeTicks(min: number, max: number, unit: number, maxTicks: number, offset = 0): number[] {
  if (!(max > min)) return [min];
  const step = timeStep((max - min) / unit, maxTicks) * unit;
  const ticks: number[] = [];
  for (let tick = Math.ceil((min + offset) / step) * step - offset; tick <= max; tick += step)
    ticks.push(Math.round(tick * 1e6) / 1e6);
  return ticks;
}
