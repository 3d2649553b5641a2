// One chart card: a metric key, one line per run (faded raw line + smoothed line), its legend.
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import { Chart, type ChartDataset, type LegendItem, type Scale, type Tick, type TooltipItem } from 'chart.js';
import type { MetricSeries, PanelRun } from '../../../src/experiments/contract';
import { lineChartBase } from '../shared/chartTheme';
import { formatClock, formatDuration, formatNumber } from '../shared/format';
import { seriesStyle, withAlpha } from '../shared/palette';
import { el } from '../shared/theme';
import { timeTicks } from './timeTicks';
import { downsamplingNote, toLines, type LineOptions, type LinePoint, type MainPoint, type XAxis } from './series';

export interface ChartInput {
  /** All runs of the panel, in order: a run's colour is its place here, the same in every chart. */
  runs: readonly PanelRun[];
  /** This key's series, or undefined while the host is still reading them. */
  series: readonly MetricSeries[] | undefined;
  origins: ReadonlyMap<string, number>;
  options: LineOptions;
}

const AXIS_TITLES = { step: 'Step', wall: 'Wall time', relative: 'Relative time' } as const;

/** Datasets come in pairs per run: the raw line at an even index, the main line right after it. */
const isMain = (datasetIndex: number) => datasetIndex % 2 === 1;

export class MetricChart {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly chart: Chart<'line', LinePoint[]>;
  private readonly note: HTMLElement;
  private readonly status: HTMLElement;
  private readonly hiddenRuns = new Set<string>();
  private shownRuns: PanelRun[] = [];
  private input: ChartInput | undefined;

  constructor(
    readonly key: string,
    onExport: (chart: MetricChart) => void,
  ) {
    this.canvas = el('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `Chart of ${key}`);
    this.note = el('span', { className: 'note muted' });
    this.status = el('div', { className: 'chart-status muted', text: 'Loading…' });
    const exportButton = document.createElement('vscode-toolbar-button');
    exportButton.setAttribute('icon', 'file-media');
    exportButton.setAttribute('label', `Export ${key} as PNG`);
    exportButton.title = 'Export this chart as PNG';
    exportButton.addEventListener('click', () => onExport(this));
    this.element = el(
      'section',
      { className: 'chart-card' },
      el('header', {}, el('h2', { text: key, title: key }), this.note, exportButton),
      el('div', { className: 'chart-box' }, this.canvas, this.status),
    );
    this.element.dataset.key = key;
    this.chart = new Chart(this.canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...lineChartBase(),
        scales: { x: { type: 'linear' }, y: { type: 'linear' } },
        plugins: {
          legend: {
            position: 'bottom',
            align: 'start',
            labels: { boxWidth: 14, boxHeight: 3, filter: (item) => isMain(item.datasetIndex ?? 0) },
            onClick: (_event, item) => this.toggleRun(item),
          },
          tooltip: {
            filter: (item) => isMain(item.datasetIndex),
            callbacks: { title: (items) => this.tooltipTitle(items), label: (item) => this.tooltipLabel(item) },
          },
        },
      },
    });
  }

  update(input: ChartInput): void {
    this.input = input;
    const { runs, series, origins, options } = input;
    this.status.hidden = series !== undefined;
    this.note.textContent = series ? (downsamplingNote(series) ?? '') : '';
    const byRun = new Map((series ?? []).map((s) => [s.runId, s]));
    this.shownRuns = runs.filter((run) => byRun.has(run.runId));
    this.chart.data.datasets = this.shownRuns.flatMap((run) => {
      const index = runs.indexOf(run);
      const lines = toLines(byRun.get(run.runId)?.points ?? [], origins.get(run.runId) ?? 0, options);
      return this.datasets(run, index, lines.raw, lines.main);
    });
    const scales = this.chart.options.scales ?? {};
    // Spread, not assigned: an option set to undefined replaces chart.js's default.
    const { ticks, ...axis } = xAxisTicks(options.xAxis);
    scales.x = {
      type: 'linear',
      ...axis,
      title: { display: true, text: AXIS_TITLES[options.xAxis] },
      ticks: { maxRotation: 0, autoSkipPadding: 16, ...ticks },
    };
    // Rounded labels: a flat series otherwise shows floating-point noise such as 0.8100000000000002.
    scales.y = {
      type: options.logScale ? 'logarithmic' : 'linear',
      ticks: { autoSkipPadding: 8, callback: (value) => formatNumber(Number(value)) },
    };
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }

  private datasets(
    run: PanelRun,
    index: number,
    raw: LinePoint[],
    main: MainPoint[],
  ): ChartDataset<'line', LinePoint[]>[] {
    const { color, dash } = seriesStyle(index);
    const hidden = this.hiddenRuns.has(run.runId);
    const label = run.status === 'RUNNING' ? `${run.runName} (running)` : run.runName;
    return [
      {
        label,
        data: raw,
        hidden,
        borderColor: withAlpha(color, 0.25),
        backgroundColor: color,
        borderWidth: 1,
        borderDash: dash,
        pointHoverRadius: 0,
      },
      // A series of a few points (a final score) has no line to speak of: mark its points.
      {
        label,
        data: main,
        hidden,
        borderColor: color,
        backgroundColor: color,
        borderDash: dash,
        pointRadius: main.length <= 3 ? 3 : 0,
      },
    ];
  }

  /** A legend click hides or shows both lines of the run. */
  private toggleRun(item: LegendItem): void {
    const run = this.shownRuns[Math.floor((item.datasetIndex ?? 0) / 2)];
    if (!run) return;
    if (!this.hiddenRuns.delete(run.runId)) this.hiddenRuns.add(run.runId);
    if (this.input) this.update(this.input);
  }

  private tooltipTitle(items: TooltipItem<'line'>[]): string {
    const x = items[0]?.parsed.x;
    if (x === undefined || x === null || !this.input) return '';
    switch (this.input.options.xAxis) {
      case 'step':
        return `Step ${x}`;
      case 'wall':
        return new Date(x).toLocaleString();
      case 'relative':
        return formatDuration(x);
    }
  }

  private tooltipLabel(item: TooltipItem<'line'>): string {
    const point = item.raw as MainPoint;
    const smoothed = (this.input?.options.smoothing ?? 0) > 0;
    const value = smoothed ? `${formatNumber(point.y)} (raw ${formatNumber(point.value)})` : formatNumber(point.value);
    return `${item.dataset.label}: ${value}`;
  }
}

interface XAxisTicks {
  bounds?: 'data';
  afterBuildTicks?: (scale: Scale) => void;
  ticks?: { callback: (value: number | string, index: number, ticks: Tick[]) => string };
}

/** Round time steps on the time axes, spanning exactly the data; chart.js's own ticks on steps. */
function xAxisTicks(xAxis: XAxis): XAxisTicks {
  const maxTicks = (scale: Scale) => Math.max(2, Math.floor(scale.width / 90));
  switch (xAxis) {
    case 'step':
      return {};
    case 'wall':
      return {
        bounds: 'data',
        afterBuildTicks: (scale) => {
          const offset = -new Date(scale.min).getTimezoneOffset() * 60_000;
          scale.ticks = timeTicks(scale.min, scale.max, 1000, maxTicks(scale), offset).map((value) => ({ value }));
        },
        ticks: {
          callback: (value, index, ticks) =>
            formatClock(Number(value), (ticks[1]?.value ?? 0) - (ticks[0]?.value ?? 0), ticks[index - 1]?.value),
        },
      };
    case 'relative':
      return {
        bounds: 'data',
        afterBuildTicks: (scale) => {
          scale.ticks = timeTicks(scale.min, scale.max, 1, maxTicks(scale)).map((value) => ({ value }));
        },
        ticks: { callback: (value) => formatDuration(Number(value)) },
      };
  }
}
