// The scatter plot of a metric's last value against a param: a linear axis for numeric params,
// a category axis otherwise. One dataset per run, in the run's colour from the Metrics panel.
import { Chart, type TooltipItem } from 'chart.js';
import type { CompareRun } from '../../../src/experiments/contract';
import { formatNumber } from '../shared/format';
import { seriesStyle } from '../shared/palette';
import { scatterData, type ScatterPoint } from './scatterData';

/** Past this many runs the legend would crowd out the plot; tooltips still name each run. */
const MAX_LEGEND_RUNS = 20;

export class ScatterChart {
  private readonly chart: Chart<'scatter', ScatterPoint[]>;
  private axes = { param: '', metric: '' };

  constructor(canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'scatter',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        elements: { point: { radius: 5, hoverRadius: 7, borderWidth: 0 } },
        plugins: {
          legend: { position: 'bottom', align: 'start', labels: { usePointStyle: true, boxWidth: 8, boxHeight: 8 } },
          tooltip: { callbacks: { label: (item) => this.label(item) } },
        },
      },
    });
  }

  /** Plots the runs that have both values; returns how many that is. */
  show(runs: readonly CompareRun[], param: string, metric: string): number {
    this.axes = { param, metric };
    const scatter = scatterData(runs, param, metric);
    this.chart.data.datasets = scatter.points.map((point) => {
      const { color } = seriesStyle(runs.indexOf(point.run));
      return { label: point.run.runName, data: [point], backgroundColor: color, borderColor: color };
    });
    this.chart.options.scales = {
      x: scatter.numeric
        ? { type: 'linear', grace: '5%', title: { display: true, text: param } }
        : { type: 'category', labels: scatter.categories, offset: true, title: { display: true, text: param } },
      y: { type: 'linear', grace: '5%', title: { display: true, text: `${metric} (last)` } },
    };
    const legend = this.chart.options.plugins?.legend;
    if (legend) legend.display = scatter.points.length <= MAX_LEGEND_RUNS;
    this.chart.update('none');
    return scatter.points.length;
  }

  private label(item: TooltipItem<'scatter'>): string {
    const { run, x, y } = item.raw as ScatterPoint;
    const xText = typeof x === 'number' ? formatNumber(x) : x;
    return `${run.runName}: ${this.axes.param} ${xText}, ${this.axes.metric} ${formatNumber(y)}`;
  }
}
