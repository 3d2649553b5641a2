// One chart card of the Monitor panel: a chart.js line chart over the window, on a time axis with
// round ticks (the metrics panel's timeTicks), lines per version, optional threshold lines, or
// stacked areas of shares.
import { Chart, type ChartDataset, type LegendItem, type Scale, type TooltipItem } from 'chart.js';
import { timeTicks } from '../metrics/timeTicks';
import { lineChartBase } from '../shared/chartTheme';
import { formatClock } from '../shared/format';
import { withAlpha } from '../shared/palette';
import { el } from '../shared/theme';
import type { XY } from './chartData';

export interface CardDataset {
  label: string;
  points: XY[];
  color: string;
  dash?: number[];
  width?: number;
  /** The version the line belongs to: a legend click shows or hides the version in every chart. */
  version?: string;
  hidden?: boolean;
  /** A threshold: dashed, left out of tooltips, not toggled. */
  threshold?: boolean;
}

export interface CardInput {
  datasets: CardDataset[];
  /** The window, epoch ms: every chart spans all of it, so they line up. */
  from: number;
  to: number;
  yTitle: string;
  formatY(value: number): string;
  /** Stacked areas of shares, 0..100 %. */
  stacked?: boolean;
  /** Keeps a threshold line in view. */
  suggestedMax?: number;
  note?: string;
}

export class ChartCard {
  readonly element: HTMLElement;
  private readonly chart: Chart<'line', XY[]>;
  private readonly note: HTMLElement;
  private readonly status: HTMLElement;
  private input: CardInput | undefined;

  constructor(
    readonly title: string,
    private readonly onToggleVersion: (version: string) => void,
  ) {
    const canvas = el('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `Chart of ${title}`);
    this.note = el('span', { className: 'note muted' });
    this.status = el('div', { className: 'chart-status muted', text: 'No data in this window.' });
    this.element = el(
      'section',
      { className: 'chart-card' },
      el('header', {}, el('h3', { text: title, title }), this.note),
      el('div', { className: 'chart-box' }, canvas, this.status),
    );
    this.chart = new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...lineChartBase(),
        plugins: {
          legend: {
            position: 'bottom',
            align: 'start',
            labels: { boxWidth: 14, boxHeight: 3 },
            onClick: (_event, item) => this.legendClick(item),
          },
          tooltip: {
            filter: (item) => !this.input?.datasets[item.datasetIndex]?.threshold && Number.isFinite(item.parsed.y),
            callbacks: { title: (items) => this.tooltipTitle(items), label: (item) => this.tooltipLabel(item) },
          },
        },
      },
    });
  }

  update(input: CardInput): void {
    this.input = input;
    const hasData = input.datasets.some(
      (set) => !set.threshold && set.points.some((point) => Number.isFinite(point.y)),
    );
    this.status.hidden = hasData;
    this.note.textContent = input.note ?? '';
    const thresholdColor = cssColor('--vscode-editorError-foreground', '--vscode-errorForeground') || '#e51400';
    this.chart.data.datasets = input.datasets.map((set, i): ChartDataset<'line', XY[]> => {
      if (set.threshold) {
        return {
          label: set.label,
          data: set.points,
          borderColor: thresholdColor,
          backgroundColor: thresholdColor,
          borderDash: [6, 4],
          borderWidth: 1.25,
          pointHoverRadius: 0,
          pointHitRadius: 0,
        };
      }
      const area = input.stacked
        ? { fill: i === 0 ? 'origin' : '-1', backgroundColor: withAlpha(set.color, 0.45), borderWidth: 1 }
        : { fill: false, backgroundColor: set.color };
      return {
        label: set.label,
        data: set.points,
        hidden: set.hidden,
        borderColor: set.color,
        borderDash: set.dash ?? [],
        borderWidth: set.width ?? 1.5,
        ...area,
      };
    });
    this.chart.options.interaction = input.stacked
      ? { mode: 'index', intersect: false }
      : { mode: 'nearest', axis: 'x', intersect: false };
    // New scale objects each time, so that a theme change reaches their colours too.
    this.chart.options.scales = {
      x: {
        type: 'linear',
        min: input.from,
        max: input.to,
        afterBuildTicks: (scale: Scale) => {
          const offset = -new Date(scale.min).getTimezoneOffset() * 60_000;
          scale.ticks = timeTicks(scale.min, scale.max, 1000, Math.max(2, Math.floor(scale.width / 90)), offset).map(
            (value) => ({ value }),
          );
        },
        ticks: {
          maxRotation: 0,
          autoSkipPadding: 16,
          callback: (value, index, ticks) =>
            formatClock(Number(value), (ticks[1]?.value ?? 0) - (ticks[0]?.value ?? 0), ticks[index - 1]?.value),
        },
      },
      y: {
        type: 'linear',
        beginAtZero: true,
        ...(input.stacked ? { stacked: true, min: 0, max: 100 } : {}),
        ...(input.suggestedMax !== undefined ? { suggestedMax: input.suggestedMax } : {}),
        title: { display: true, text: input.yTitle },
        ticks: { autoSkipPadding: 8, callback: (value) => input.formatY(Number(value)) },
      },
    };
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }

  private legendClick(item: LegendItem): void {
    const index = item.datasetIndex ?? -1;
    const set = this.input?.datasets[index];
    if (!set || set.threshold) return;
    if (set.version !== undefined) return this.onToggleVersion(set.version);
    this.chart.setDatasetVisibility(index, !this.chart.isDatasetVisible(index));
    this.chart.update('none');
  }

  private tooltipTitle(items: TooltipItem<'line'>[]): string {
    const x = items[0]?.parsed.x;
    if (x === undefined || x === null || !this.input) return '';
    const date = new Date(x);
    return this.input.to - this.input.from > 86_400_000 ? date.toLocaleString() : date.toLocaleTimeString();
  }

  private tooltipLabel(item: TooltipItem<'line'>): string {
    return `${item.dataset.label}: ${this.input?.formatY(item.parsed.y ?? NaN) ?? ''}`;
  }
}

/** The first of the theme's CSS variables that is set. */
export function cssColor(...names: string[]): string {
  const style = getComputedStyle(document.documentElement);
  return names.map((name) => style.getPropertyValue(name).trim()).find(Boolean) ?? '';
}
