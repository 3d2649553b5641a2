// The points of the scatter plot: a metric's last value against a param, per run.
import type { CompareRun } from '../../../src/experiments/contract';
import { asNumber } from './table';

export interface ScatterPoint {
  x: number | string;
  y: number;
  run: CompareRun;
}

export interface Scatter {
  /** True when every run's value of the param is a number: a linear axis, else a category axis. */
  numeric: boolean;
  /** The param's values in order, for the category axis. */
  categories: string[];
  points: ScatterPoint[];
}

/** Runs without the param or without a finite value of the metric are left out. */
export function scatterData(runs: readonly CompareRun[], param: string, metric: string): Scatter {
  const plotted = runs.filter((run) => run.params[param] !== undefined && Number.isFinite(run.metrics[metric]?.last));
  const numeric = plotted.length > 0 && plotted.every((run) => asNumber(run.params[param]) !== undefined);
  const points = plotted.map((run) => ({
    x: numeric ? (asNumber(run.params[param]) as number) : run.params[param],
    y: run.metrics[metric].last,
    run,
  }));
  const categories = numeric
    ? []
    : [...new Set(points.map((point) => String(point.x)))].sort((a, b) =>
        a.localeCompare(b, undefined, { numeric: true }),
      );
  return { numeric, categories, points };
}
