// The Back-test Report: the gate's verdict, metric tiles of the candidate beside the baseline,
// a metric comparison chart and a latency chart, the confusion matrix (or the residuals), and the
// rows where the versions disagree most. The host sends the report; this page only draws it.
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type {
  BacktestReport,
  BacktestRequest,
  BacktestUpdate,
  BacktestVersion,
} from '../../../src/release/backtest/contract';
import { followTheme, lineChartBase } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, icon } from '../shared/controls';
import { formatNumber } from '../shared/format';
import { connectToHost } from '../shared/host';
import { seriesStyle, withAlpha } from '../shared/palette';
import { applyTheme, el } from '../shared/theme';
import { formatDelta, formatTileValue, gateSummary, metricTiles, qualitySpecs } from './tiles';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);
applyTheme(`${CONTROLS_CSS}
  .banner { display: flex; gap: 10px; align-items: flex-start; margin: 0 0 16px; padding: 8px 12px; border-radius: 2px; border: 1px solid; }
  .banner > vscode-icon { flex: none; margin-top: 1px; }
  .gate-passed { background: var(--vscode-inputValidation-infoBackground); border-color: var(--vscode-testing-iconPassed, var(--vscode-inputValidation-infoBorder)); }
  .gate-passed > vscode-icon { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .gate-failed { background: var(--vscode-inputValidation-errorBackground); border-color: var(--vscode-inputValidation-errorBorder); }
  .gate-failed > vscode-icon { color: var(--vscode-errorForeground); }
  .notice { background: var(--vscode-inputValidation-infoBackground); border-color: var(--vscode-inputValidation-infoBorder); }
  section.block { margin: 0 0 24px; }
  section.block > h2 { margin-bottom: 8px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 24px; }
  .tile { border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-left: 4px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; padding: 8px 12px; min-width: 0; }
  .tile-label { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
  .tile-value { font-size: 1.5em; font-weight: 600; font-variant-numeric: tabular-nums; margin: 2px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .tile-detail { font-size: 0.92em; display: flex; flex-wrap: wrap; column-gap: 6px; }
  .tile.better { border-left-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .tile.worse { border-left-color: var(--vscode-errorForeground); }
  .better .delta { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .worse .delta { color: var(--vscode-errorForeground); }
  .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 380px), 1fr)); gap: 16px; margin-bottom: 24px; }
  .chart-card { border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; padding: 10px 12px 8px; min-width: 0; }
  .chart-card h3 { margin: 0 0 6px; font-size: 1em; font-weight: 600; }
  .chart-box { position: relative; height: 240px; }
  table.grid th.num, table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .matrices { display: flex; gap: 24px; flex-wrap: wrap; }
  .matrices table { width: auto; }
  td.diagonal { font-weight: 600; }
  .scroll { overflow-x: auto; }
  td.inputs { font-family: var(--vscode-editor-font-family); font-size: 0.92em; overflow-wrap: anywhere; }
`);

const host = connectToHost<BacktestRequest, BacktestUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;
const heading = el('h1', { text: 'Back-test Report' });
const lead = el('p', { className: 'lead', text: 'Loading…' });
const saveButton = button('Save As…', 'save', 'Save the report as JSON');
saveButton.addEventListener('click', () => host.post({ type: 'save' }));
const logButton = button('Show log', 'output', 'Open the MLOps output channel');
logButton.addEventListener('click', () => host.post({ type: 'showLog' }));
const error = errorBanner();
const notice = el('div', { className: 'banner notice' });
notice.setAttribute('role', 'status');
notice.hidden = true;
const gate = el('div', { className: 'banner' });
gate.setAttribute('role', 'status');
const tiles = el('div', { className: 'tiles' });
const charts = el('div', { className: 'chart-grid' });
const detailBody = el('div');
const detailSection = block('Confusion matrix', detailBody);
const rowsBody = el('div');
const rowsSection = block('Rows where the versions disagree most', rowsBody);
const errorsBody = el('div');
const errorsSection = block('Failed requests', errorsBody);
app.append(
  heading,
  lead,
  el('div', { className: 'toolbar' }, el('div', { className: 'actions' }, saveButton, logButton)),
  error.element,
  notice,
  gate,
  tiles,
  charts,
  detailSection,
  rowsSection,
  errorsSection,
);

let shown: BacktestReport | undefined;
const made: Chart[] = [];
followTheme(() => shown && renderCharts(shown));

function receive(update: BacktestUpdate): void {
  switch (update.type) {
    case 'report':
      shown = update.report;
      app.setAttribute('aria-busy', 'false');
      error.hide();
      return render(update.report, update.file);
    case 'error':
      app.setAttribute('aria-busy', 'false');
      return error.show(update.message);
    case 'notice':
      notice.replaceChildren(icon('info'), el('span', { text: update.message }));
      notice.hidden = false;
      return;
  }
}

const versionsOf = (report: BacktestReport): BacktestVersion[] => [
  report.candidate,
  ...(report.baseline ? [report.baseline] : []),
];

function render(report: BacktestReport, file: string | null): void {
  const versions = versionsOf(report);
  heading.textContent = `Back-test: ${report.candidate.image}`;
  const averaging =
    report.averaging === 'binary'
      ? ` · positive class ${report.positiveClass}`
      : report.averaging === 'macro'
        ? ' · macro averages over the classes'
        : '';
  lead.textContent = [
    `${report.task === 'classification' ? 'Classification' : 'Regression'} on ${report.data.rows} rows of ${report.data.source} (label ${report.data.label})${averaging}`,
    report.baseline ? `against ${report.baseline.image}` : 'no baseline',
    new Date(report.createdAt).toLocaleString(),
    ...(report.data.skippedReason ? [report.data.skippedReason] : []),
    ...(file ? [file] : []),
  ].join(' · ');
  gate.className = `banner ${report.gate.passed ? 'gate-passed' : 'gate-failed'}`;
  gate.replaceChildren(
    icon(report.gate.passed ? 'pass' : 'error'),
    el(
      'div',
      {},
      el('div', {}, el('strong', { text: report.gate.passed ? 'Gate passed: ' : 'Gate failed: ' }), report.gate.reason),
      el('div', { className: 'gate-numbers muted', text: gateSummary(report.gate) }),
    ),
  );
  renderTiles(report);
  renderCharts(report);
  renderDetail(report, versions);
  renderRows(report);
  const failures = versions.filter((v) => v.failedRequests > 0);
  errorsSection.hidden = failures.length === 0;
  errorsBody.replaceChildren(
    ...failures.map((v) =>
      el(
        'div',
        {},
        el('p', { text: `${v.role} (${v.image}): ${v.failedRequests} of ${v.requests} requests failed` }),
        el('ul', {}, ...v.errors.map((e) => el('li', { text: e }))),
      ),
    ),
  );
}

function renderTiles(report: BacktestReport): void {
  const all = metricTiles(report);
  const comparison = report.comparison;
  tiles.replaceChildren(
    ...all.map((tile) => {
      const detail = report.baseline
        ? el(
            'div',
            { className: 'tile-detail muted' },
            el('span', { text: `baseline ${formatTileValue(tile.baseline, tile)}` }),
            el('span', { className: 'delta', text: formatDelta(tile) }),
          )
        : el('div', { className: 'tile-detail muted', text: 'no baseline' });
      const judged = tile.better === null ? '' : tile.better ? 'better' : 'worse';
      return el(
        'div',
        {
          className: `tile ${judged}`,
          title: tile.better === null ? '' : `The candidate is ${judged} than the baseline`,
        },
        el('div', { className: 'tile-label', text: tile.gate ? `${tile.label} · gate` : tile.label }),
        el('div', {
          className: 'tile-value',
          text: formatTileValue(tile.candidate, tile),
          title: formatTileValue(tile.candidate, tile),
        }),
        detail,
      );
    }),
    ...(comparison
      ? [
          el(
            'div',
            { className: `tile ${comparison.disagreements ? 'worse' : 'better'}` },
            el('div', { className: 'tile-label', text: 'Disagreement' }),
            el('div', { className: 'tile-value', text: `${(comparison.rate * 100).toFixed(1)} %` }),
            el('div', {
              className: 'tile-detail muted',
              text: `${comparison.disagreements} of ${comparison.compared} rows`,
            }),
          ),
        ]
      : []),
  );
}

function renderCharts(report: BacktestReport): void {
  for (const chart of made.splice(0)) chart.destroy();
  const versions = versionsOf(report);
  const color = (i: number) => seriesStyle(i).color;
  const specs = qualitySpecs(report).filter((spec) => report.task === 'classification' || spec.label !== 'R²');
  const metricCanvas = el('canvas');
  metricCanvas.setAttribute('role', 'img');
  metricCanvas.setAttribute('aria-label', 'Metrics of the candidate beside the baseline');
  const latencyCanvas = el('canvas');
  latencyCanvas.setAttribute('role', 'img');
  latencyCanvas.setAttribute('aria-label', 'Latency of each request');
  charts.replaceChildren(
    card(report.task === 'classification' ? 'Metrics' : 'Errors (lower is better)', metricCanvas),
    card(`Latency per request of ${report.batchSize} rows`, latencyCanvas),
  );
  made.push(
    new Chart(metricCanvas, {
      type: 'bar',
      data: {
        labels: specs.map((s) => s.label),
        datasets: versions.map((v, i) => ({
          label: v.role,
          data: specs.map((s) => s.read(v) ?? null),
          backgroundColor: withAlpha(color(i), 0.75),
          borderColor: color(i),
          borderWidth: 1,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ...(report.task === 'classification' ? { max: 1 } : {}) } },
        plugins: {
          legend: { position: 'bottom', align: 'start' },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y)}` } },
        },
      },
    }),
    new Chart(latencyCanvas, {
      type: 'line',
      data: {
        datasets: versions.map((v, i) => ({
          label: v.role,
          data: v.latencySeries.map((y, x) => ({
            x: Math.round((x * Math.max(1, v.requests - 1)) / Math.max(1, v.latencySeries.length - 1)) + 1,
            y,
          })),
          borderColor: color(i),
          backgroundColor: color(i),
        })),
      },
      options: {
        ...lineChartBase(),
        scales: {
          x: { type: 'linear', title: { display: true, text: 'request' }, ticks: { precision: 0 } },
          y: { beginAtZero: true, title: { display: true, text: 'ms' } },
        },
        plugins: {
          legend: { position: 'bottom', align: 'start' },
          tooltip: {
            callbacks: {
              title: (items) => `request ${items[0]?.parsed.x ?? ''}`,
              label: (item) =>
                `${item.dataset.label}: ${formatNumber(Number((item.parsed.y ?? NaN).toPrecision(4)))} ms`,
            },
          },
        },
      },
    }),
  );
}

function renderDetail(report: BacktestReport, versions: BacktestVersion[]): void {
  if (report.task === 'classification') {
    detailSection.querySelector('h2')!.textContent = 'Confusion matrix (rows: label, columns: prediction)';
    const classes = report.classes ?? [];
    detailBody.replaceChildren(
      el(
        'div',
        { className: 'matrices' },
        ...versions.map((v) =>
          el(
            'div',
            {},
            el('h3', { text: v.role }),
            el(
              'table',
              { className: 'grid' },
              el(
                'thead',
                {},
                el('tr', {}, el('th', { text: '' }), ...classes.map((c) => el('th', { className: 'num', text: c }))),
              ),
              el(
                'tbody',
                {},
                ...(v.confusion ?? []).map((row, i) =>
                  el(
                    'tr',
                    {},
                    el('th', { text: classes[i] ?? '' }),
                    ...row.map((count, j) =>
                      el('td', { className: `num${i === j ? ' diagonal' : ''}`, text: String(count) }),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
    return;
  }
  detailSection.querySelector('h2')!.textContent = 'Residuals (label − prediction)';
  const cell = (value: number | null | undefined) =>
    el('td', {
      className: 'num',
      text: value === null || value === undefined ? '–' : formatNumber(Number(value.toPrecision(5))),
    });
  detailBody.replaceChildren(
    el(
      'table',
      { className: 'grid' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['version', 'mean', 'p5', 'median', 'p95', 'largest |residual|'].map((h, i) =>
            el('th', { className: i ? 'num' : '', text: h }),
          ),
        ),
      ),
      el(
        'tbody',
        {},
        ...versions.map((v) =>
          el(
            'tr',
            {},
            el('td', { text: v.role }),
            cell(v.residuals?.mean),
            cell(v.residuals?.p5),
            cell(v.residuals?.p50),
            cell(v.residuals?.p95),
            cell(v.residuals?.maxAbs),
          ),
        ),
      ),
    ),
  );
}

function renderRows(report: BacktestReport): void {
  const comparison = report.comparison;
  rowsSection.hidden = !comparison;
  if (!comparison) return;
  if (!comparison.top.length)
    return void rowsBody.replaceChildren(
      el('p', { className: 'muted', text: `The versions agree on all ${comparison.compared} rows.` }),
    );
  const text = (value: unknown) =>
    typeof value === 'number' ? formatNumber(value) : typeof value === 'string' ? value : JSON.stringify(value);
  rowsBody.replaceChildren(
    el('p', {
      className: 'muted',
      text: `${comparison.top.length} of ${comparison.disagreements} disagreeing rows, ${report.task === 'regression' ? 'the largest difference first' : 'the largest score difference first (when the models send scores)'}.`,
    }),
    el(
      'div',
      { className: 'scroll' },
      el(
        'table',
        { className: 'grid' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['row', 'label', 'candidate', 'baseline', 'difference', 'inputs'].map((h, i) =>
              el('th', { className: i < 5 ? 'num' : '', text: h }),
            ),
          ),
        ),
        el(
          'tbody',
          {},
          ...comparison.top.map((row) =>
            el(
              'tr',
              {},
              el('td', { className: 'num', text: String(row.row + 1) }),
              el('td', { className: 'num', text: text(row.label) }),
              el('td', { className: 'num', text: text(row.candidate) }),
              el('td', { className: 'num', text: text(row.baseline) }),
              el('td', {
                className: 'num',
                text: row.difference === null ? '–' : formatNumber(Number(row.difference.toPrecision(4))),
              }),
              el('td', {
                className: 'inputs',
                text: Object.entries(row.inputs)
                  .map(([k, v]) => `${k}=${text(v)}`)
                  .join(', '),
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

function card(title: string, canvas: HTMLCanvasElement): HTMLElement {
  return el(
    'section',
    { className: 'chart-card' },
    el('h3', { text: title }),
    el('div', { className: 'chart-box' }, canvas),
  );
}

function block(title: string, ...children: HTMLElement[]): HTMLElement {
  return el('section', { className: 'block' }, el('h2', { text: title }), ...children);
}

host.post({ type: 'ready' });
