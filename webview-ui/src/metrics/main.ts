// The Metrics panel: one chart per metric key, one line per run, live while runs are running.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { MetricSeries, MetricsRequest, MetricsUpdate, PanelRun } from '../../../src/experiments/contract';
import { followTheme, themeColors } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, field, icon, option } from '../shared/controls';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { chartsPng } from './exportImage';
import { MetricChart } from './metricChart';
import { runOrigins, type LineOptions, type XAxis } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);
applyTheme(`${CONTROLS_CSS}
  .key-field vscode-multi-select { width: 300px; }
  .axis-field vscode-single-select { width: 150px; }
  .slider-row { display: flex; align-items: center; gap: 8px; height: 26px; }
  .slider { width: 140px; margin: 0; accent-color: var(--vscode-button-background); }
  .slider-value { min-width: 2.5em; font-variant-numeric: tabular-nums; }
  .live { color: var(--vscode-charts-green, var(--vscode-foreground)); white-space: nowrap; }
  .live vscode-icon { vertical-align: text-bottom; color: inherit; }
  .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 16px; }
  .chart-card {
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    border-radius: 4px;
    padding: 10px 12px 8px;
    min-width: 0;
  }
  .chart-card header { display: flex; align-items: center; gap: 8px; min-height: 26px; }
  .chart-card h2 { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .chart-card .note { font-size: 0.92em; white-space: nowrap; }
  .chart-box { position: relative; height: 280px; }
  .chart-status { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; }
`);
followTheme(() => renderCharts());

const state = {
  runs: [] as PanelRun[],
  keys: [] as string[],
  selectedKeys: [] as string[],
  series: new Map<string, MetricSeries[]>(),
  options: { xAxis: 'step', smoothing: 0.6, logScale: false } as LineOptions,
  updatedAt: undefined as Date | undefined,
};
const charts = new Map<string, MetricChart>();

const host = connectToHost<MetricsRequest, MetricsUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const keyPicker = document.createElement('vscode-multi-select');
keyPicker.combobox = true;
keyPicker.label = 'Metrics';
keyPicker.addEventListener('change', () => {
  state.selectedKeys = state.keys.filter((key) => keyPicker.value.includes(key));
  host.post({ type: 'selectKeys', keys: state.selectedKeys });
  renderCharts();
});

const xAxisPicker = document.createElement('vscode-single-select');
xAxisPicker.label = 'X axis';
for (const [value, text] of [
  ['step', 'Step'],
  ['wall', 'Wall time'],
  ['relative', 'Relative time'],
])
  xAxisPicker.append(option(value, text, value === 'step'));
xAxisPicker.addEventListener('change', () => {
  state.options.xAxis = xAxisPicker.value as XAxis;
  renderCharts();
});

const smoothing = el('input', { className: 'slider' });
Object.assign(smoothing, {
  type: 'range',
  min: '0',
  max: '0.99',
  step: '0.01',
  value: String(state.options.smoothing),
});
smoothing.setAttribute('aria-label', 'Smoothing');
const smoothingValue = el('output', { className: 'slider-value', text: state.options.smoothing.toFixed(2) });
smoothing.addEventListener('input', () => {
  state.options.smoothing = Number(smoothing.value);
  smoothingValue.textContent = state.options.smoothing.toFixed(2);
  scheduleRender();
});

const logScale = document.createElement('vscode-checkbox');
logScale.label = 'Log scale';
logScale.addEventListener('change', () => {
  state.options.logScale = logScale.checked;
  renderCharts();
});

const exportCsv = button('Export CSV', 'table', 'Save the full histories of the charted metrics as CSV');
exportCsv.addEventListener('click', () => host.post({ type: 'exportCsv' }));
const exportPng = button('Export PNG', 'file-media', 'Save all charts as one PNG image');
exportPng.addEventListener('click', () => exportCharts([...charts.values()]));

const summary = el('p', { className: 'lead' });
const error = errorBanner();
const grid = el('div', { className: 'chart-grid' });
const empty = el('p', { className: 'empty muted', text: 'Choose metrics to chart in the Metrics list above.' });

app.append(
  el('h1', { text: 'Metrics' }),
  summary,
  el(
    'div',
    { className: 'toolbar controls' },
    field('Metrics', keyPicker, 'key-field'),
    field('X axis', xAxisPicker, 'axis-field'),
    field('Smoothing', el('span', { className: 'slider-row' }, smoothing, smoothingValue)),
    el('div', { className: 'field checkbox-field' }, logScale),
    el('div', { className: 'actions' }, exportCsv, exportPng),
  ),
  error.element,
  grid,
  empty,
);

function receive(update: MetricsUpdate): void {
  switch (update.type) {
    case 'init':
      return init(update.runs, update.keys, update.selectedKeys);
    case 'series':
      for (const key of new Set(update.series.map((series) => series.key))) {
        state.series.set(
          key,
          update.series.filter((series) => series.key === key),
        );
      }
      if (update.live) state.updatedAt = new Date();
      error.hide();
      renderSummary();
      return renderCharts();
    case 'error':
      app.setAttribute('aria-busy', 'false');
      return error.show(update.message);
  }
}

/** Sent when the panel opens and when its runs change; charts survive when the runs stay the same. */
function init(runs: PanelRun[], keys: string[], selectedKeys: string[]): void {
  const sameRuns = runs.length === state.runs.length && runs.every((run, i) => run.runId === state.runs[i].runId);
  if (!sameRuns) {
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    state.series.clear();
    state.updatedAt = undefined;
  }
  state.runs = runs;
  if (keys.join('\n') !== state.keys.join('\n'))
    keyPicker.replaceChildren(...keys.map((key) => option(key, key, selectedKeys.includes(key))));
  state.keys = keys;
  state.selectedKeys = selectedKeys;
  keyPicker.value = selectedKeys;
  app.setAttribute('aria-busy', 'false');
  renderSummary();
  renderCharts();
}

function renderSummary(): void {
  const running = state.runs.filter((run) => run.status === 'RUNNING').length;
  const parts: (Node | string)[] = [
    `${state.runs.length} ${state.runs.length === 1 ? 'run' : 'runs'}, ${state.keys.length} metrics.`,
  ];
  if (running > 0) {
    const when = state.updatedAt ? `, updated at ${state.updatedAt.toLocaleTimeString()}` : '';
    parts.push(' ', el('span', { className: 'live' }, icon('pulse'), ` Live: ${running} running${when}`));
  }
  summary.replaceChildren(...parts);
}

function renderCharts(): void {
  const origins = runOrigins([...state.series.values()].flat());
  for (const [key, chart] of charts) {
    if (state.selectedKeys.includes(key)) continue;
    chart.destroy();
    charts.delete(key);
  }
  const shown = state.selectedKeys.map((key) => {
    let chart = charts.get(key);
    if (!chart) {
      chart = new MetricChart(key, (one) => exportCharts([one]));
      charts.set(key, chart);
    }
    return chart;
  });
  if (shown.some((chart, i) => grid.children[i] !== chart.element) || grid.children.length !== shown.length) {
    grid.replaceChildren(...shown.map((chart) => chart.element));
  }
  for (const chart of shown)
    chart.update({ runs: state.runs, series: state.series.get(chart.key), origins, options: state.options });
  empty.hidden = shown.length > 0;
  exportPng.toggleAttribute('disabled', shown.length === 0);
  exportCsv.toggleAttribute('disabled', shown.length === 0);
}

let renderPending = false;
/** Redraws at most once a frame while the smoothing slider moves. */
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderCharts();
  });
}

function exportCharts(shown: MetricChart[]): void {
  if (shown.length === 0) return;
  const dataUrl = chartsPng(
    shown.map((chart) => ({ title: chart.key, canvas: chart.canvas })),
    themeColors(),
  );
  host.post({ type: 'exportPng', dataUrl });
}

host.post({ type: 'ready' });
