// A column's chart: vertical bars for a histogram, horizontal bars for top values, in the theme's colours.
import { Chart, type TooltipItem } from 'chart.js';
import { formatCount } from '../shared/format';
import type { Bars } from './chartData';
import { formatPercent, formatTick } from './stats';

export function barColor(): string {
  const style = getComputedStyle(document.documentElement);
  return (
    style.getPropertyValue('--vscode-charts-blue').trim() ||
    style.getPropertyValue('--vscode-focusBorder').trim() ||
    '#3794ff'
  );
}

/** `rows` is the column's row count, for the share of each bar in the tooltip. */
export function columnChart(canvas: HTMLCanvasElement, bars: Bars, horizontal: boolean, rows: number): Chart<'bar'> {
  const color = barColor();
  const label = (item: TooltipItem<'bar'>) => {
    const count = item.parsed[horizontal ? 'x' : 'y'] ?? 0;
    return `${formatCount(count)} rows (${formatPercent(count, rows)})`;
  };
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: bars.labels,
      datasets: [
        {
          data: bars.counts,
          backgroundColor: color,
          borderRadius: 2,
          ...(horizontal ? { barPercentage: 0.8 } : { barPercentage: 1, categoryPercentage: 0.96 }),
        },
      ],
    },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          displayColors: false,
          callbacks: { title: (items) => bars.titles[items[0]?.dataIndex ?? 0] ?? '', label },
        },
      },
      scales: horizontal
        ? {
            x: {
              beginAtZero: true,
              ticks: { maxTicksLimit: 4, precision: 0, callback: (value) => formatTick(Number(value)) },
              grid: { drawTicks: false },
            },
            y: { grid: { display: false }, ticks: { autoSkip: false } },
          }
        : {
            x: { grid: { display: false }, ticks: { maxTicksLimit: 6, maxRotation: 0 } },
            y: {
              beginAtZero: true,
              ticks: { maxTicksLimit: 4, precision: 0, callback: (value) => formatTick(Number(value)) },
              grid: { drawTicks: false },
            },
          },
    },
  });
}
