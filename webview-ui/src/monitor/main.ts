// The Monitor panel: the health of one deployment over a time window. Stat tiles judged against
// the thresholds, the versions side by side, charts of traffic, errors, latency and the
// prediction mix per version, input drift, alerts with a revert to the stable revision, and the
// audit log. The host loads the data (live every 5 s); this page only draws it.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type {
  AuditEntry,
  MonitorRange,
  MonitorRequest,
  MonitorSeries,
  MonitorSummary,
  MonitorUpdate,
  Thresholds,
} from '../../../src/monitor/contract';
import { followTheme } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, field, icon, option } from '../shared/controls';
import { formatNumber } from '../shared/format';
import { connectToHost } from '../shared/host';
import { seriesStyle } from '../shared/palette';
import { applyTheme, el } from '../shared/theme';
import { auditList } from './auditList';
import {
  bandColor,
  downsamplingNote,
  latencyLines,
  predictionBands,
  thresholdLine,
  versionLines,
  versionOrder,
  type LineSpec,
} from './chartData';
import { ChartCard, type CardDataset } from './charts';
import { driftTable, outputDriftTable } from './driftTable';
import { resourcesTable } from './resourcesTable';
import { DEFAULT_RANGE, isMonitorRange, RANGE_CHOICES, windowLength } from './ranges';
import { formatMs, formatPercent, statTiles, type Level } from './tiles';
import { versionsTable } from './versionsTable';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip);
applyTheme(`${CONTROLS_CSS}
  .page-header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
  .page-header h1 { min-width: 0; overflow-wrap: anywhere; }
  .lead .live { color: var(--vscode-charts-green, var(--vscode-foreground)); white-space: nowrap; }
  .lead vscode-icon { vertical-align: text-bottom; color: inherit; }
  .range-field vscode-single-select { width: 120px; }
  vscode-progress-bar.busy { position: fixed; top: 0; left: 0; right: 0; z-index: 10; }
  .banner {
    display: flex; gap: 10px; align-items: flex-start;
    margin: 0 0 16px; padding: 8px 12px; border-radius: 2px; border: 1px solid;
  }
  .banner > vscode-icon { flex: none; margin-top: 1px; }
  .banner .banner-body { flex: 1; min-width: 0; }
  .banner ul { margin: 4px 0 0; padding-left: 18px; }
  .alert-banner { background: var(--vscode-inputValidation-warningBackground); border-color: var(--vscode-inputValidation-warningBorder); }
  .alert-banner > vscode-icon { color: var(--vscode-editorWarning-foreground); }
  .notice-banner { background: var(--vscode-inputValidation-infoBackground); border-color: var(--vscode-inputValidation-infoBorder); align-items: center; }
  .notice-banner > vscode-icon { color: var(--vscode-editorInfo-foreground); }
  section.block { margin: 0 0 24px; }
  section.block > h2 { margin-bottom: 8px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-bottom: 24px; }
  .tile {
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    border-left: 4px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    border-radius: 4px; padding: 8px 12px; min-width: 0;
  }
  .tile-label { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
  .tile-value { font-size: 1.7em; font-weight: 600; font-variant-numeric: tabular-nums; margin: 2px 0; white-space: nowrap; }
  .tile-value vscode-icon { vertical-align: middle; margin-right: 4px; color: inherit; }
  .tile-detail { font-size: 0.92em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .tile.level-ok { border-left-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .tile.level-warn { border-left-color: var(--vscode-editorWarning-foreground); }
  .tile.level-warn .tile-value { color: var(--vscode-editorWarning-foreground); }
  .tile.level-breach { border-left-color: var(--vscode-errorForeground); }
  .tile.level-breach .tile-value { color: var(--vscode-errorForeground); }
  td.level-warn { color: var(--vscode-editorWarning-foreground); font-weight: 600; }
  td.level-breach { color: var(--vscode-errorForeground); font-weight: 600; }
  table.grid th.num, table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  table.grid td { vertical-align: middle; }
  .cell-row { display: flex; align-items: center; gap: 8px; white-space: nowrap; }
  .swatch { width: 12px; height: 12px; border-radius: 2px; flex: none; }
  .mix { display: inline-flex; width: 72px; height: 8px; border-radius: 2px; overflow: hidden; flex: none; background: var(--vscode-editorWidget-border); }
  .mix > span { height: 100%; }
  .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 380px), 1fr)); gap: 16px; }
  .chart-card { border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; padding: 10px 12px 8px; min-width: 0; }
  .chart-card header { display: flex; align-items: baseline; gap: 8px; min-height: 22px; }
  .chart-card h3 { flex: 1; min-width: 0; margin: 0; font-size: 1em; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .chart-card .note { font-size: 0.92em; white-space: nowrap; }
  .chart-box { position: relative; height: 240px; }
  .chart-status { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; pointer-events: none; }
  .empty-state {
    display: flex; flex-direction: column; align-items: center; gap: 8px; text-align: center;
    padding: 40px 16px; margin-bottom: 24px;
    border: 1px dashed var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px;
  }
  .empty-state vscode-icon { color: var(--vscode-descriptionForeground); }
  .badge { display: inline-block; padding: 0 7px; border: 1px solid currentColor; border-radius: 9px; font-size: 0.88em; line-height: 16px; }
  .severity-none { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .severity-moderate { color: var(--vscode-editorWarning-foreground); }
  .severity-major { color: var(--vscode-errorForeground); }
  td.trend { width: 100px; padding-top: 2px; padding-bottom: 2px; }
  svg.sparkline { display: block; }
  ul.audit { list-style: none; margin: 0; padding: 0; }
  ul.audit li { display: flex; gap: 8px; padding: 6px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
  ul.audit .audit-icon { flex: none; margin-top: 1px; }
  .audit-alert .audit-icon { color: var(--vscode-editorWarning-foreground); }
  .audit-revert .audit-icon { color: var(--vscode-charts-blue, var(--vscode-foreground)); }
  .audit-revert-failed .audit-icon { color: var(--vscode-errorForeground); }
  .more { margin-top: 8px; }
`);
followTheme(() => renderCharts());

const state = {
  title: '',
  thresholds: {} as Thresholds,
  range: DEFAULT_RANGE as MonitorRange,
  live: true,
  summary: undefined as MonitorSummary | undefined,
  series: [] as MonitorSeries[],
  refreshedAt: undefined as Date | undefined,
  hidden: new Set<string>(),
  audit: undefined as AuditEntry[] | undefined,
  auditShown: 10,
};

const host = connectToHost<MonitorRequest, MonitorUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const heading = el('h1', { text: 'Monitor' });
const lead = el('p', { className: 'lead', text: 'Loading…' });

const rangePicker = document.createElement('vscode-single-select');
rangePicker.label = 'Time range';
for (const choice of RANGE_CHOICES)
  rangePicker.append(option(String(choice.seconds), choice.label, choice.seconds === state.range));
rangePicker.addEventListener('change', () => {
  const seconds = Number(rangePicker.value);
  if (!isMonitorRange(seconds) || seconds === state.range) return;
  state.range = seconds;
  host.post({ type: 'setRange', seconds });
});

const liveToggle = document.createElement('vscode-checkbox');
liveToggle.toggle = true;
liveToggle.label = 'Live';
liveToggle.checked = state.live;
liveToggle.title = 'Refresh every 5 seconds while this panel is visible';
liveToggle.addEventListener('change', () => {
  state.live = liveToggle.checked;
  host.post({ type: 'setLive', on: state.live });
  renderLead();
});

const refreshButton = button('Refresh', 'refresh', 'Load the window again');
refreshButton.addEventListener('click', () => host.post({ type: 'refresh' }));
const revertButton = button(
  'Revert to stable',
  'discard',
  'Send all traffic back to the pinned stable revision (asks first)',
);
revertButton.addEventListener('click', () => host.post({ type: 'revert' }));
const logButton = button('Show log', 'output', 'Open the MLOps output channel');
logButton.addEventListener('click', () => host.post({ type: 'showLog' }));

const progress = document.createElement('vscode-progress-bar');
progress.className = 'busy';
progress.hidden = true;
progress.setAttribute('aria-label', 'Loading');

const error = errorBanner();
const notice = noticeBanner();
const alertBanner = el('div', { className: 'banner alert-banner' });
alertBanner.setAttribute('role', 'alert');
alertBanner.hidden = true;

const tiles = el('div', { className: 'tiles' });
const emptyState = el('div', { className: 'empty-state' });
emptyState.hidden = true;
const versionsBody = el('div');
const versionsSection = block('Versions', versionsBody);
const chartGrid = el('div', { className: 'chart-grid' });
const chartsSection = block('Traffic, errors and latency', chartGrid);
const predictionGrid = el('div', { className: 'chart-grid' });
const predictionsSection = block(
  'Prediction mix',
  el('p', { className: 'lead', text: 'The share of each predicted class (or value range) over time, per version.' }),
  predictionGrid,
);
const driftBody = el('div');
const driftSection = block('Input drift', driftBody);
const resourcesBody = el('div');
const resourcesSection = block('Resources', resourcesBody);
const outputDriftBody = el('div');
const outputDriftSection = block(
  'Output drift',
  el('p', {
    className: 'lead',
    text: 'The predictions of each version against the busiest one, and of this window against the one before.',
  }),
  outputDriftBody,
);
const auditBody = el('div');
const auditSection = block('Alerts and reverts', auditBody);
for (const section of [
  versionsSection,
  resourcesSection,
  chartsSection,
  predictionsSection,
  driftSection,
  outputDriftSection,
])
  section.hidden = true;

app.append(
  progress,
  el('div', { className: 'page-header' }, heading),
  lead,
  el(
    'div',
    { className: 'toolbar controls' },
    field('Time range', rangePicker, 'range-field'),
    el('div', { className: 'field checkbox-field' }, liveToggle),
    refreshButton,
    el('div', { className: 'actions' }, revertButton, logButton),
  ),
  error.element,
  notice.element,
  alertBanner,
  tiles,
  emptyState,
  versionsSection,
  resourcesSection,
  chartsSection,
  predictionsSection,
  driftSection,
  outputDriftSection,
  auditSection,
);
renderAudit();

function receive(update: MonitorUpdate): void {
  switch (update.type) {
    case 'init':
      state.title = update.title;
      state.thresholds = update.thresholds;
      state.range = update.rangeSeconds;
      state.live = update.live;
      heading.textContent = update.title;
      rangePicker.value = String(update.rangeSeconds);
      liveToggle.checked = update.live;
      return renderAll();
    case 'data':
      state.summary = update.summary;
      state.series = update.series;
      state.refreshedAt = new Date(update.refreshedAt);
      app.setAttribute('aria-busy', 'false');
      error.hide();
      return renderAll();
    case 'audit':
      state.audit = update.entries;
      return renderAudit();
    case 'busy':
      return setBusy(update.on);
    case 'error':
      app.setAttribute('aria-busy', 'false');
      if (!state.summary) lead.textContent = 'Could not load the numbers of this deployment.';
      return error.show(update.message);
    case 'notice':
      return notice.show(update.message);
  }
}

function renderAll(): void {
  renderLead();
  renderAlerts();
  const summary = state.summary;
  const empty = summary !== undefined && summary.requests === 0;
  emptyState.hidden = !empty;
  if (empty) {
    emptyState.replaceChildren(
      icon('radio-tower'),
      el('strong', { text: `No requests in the last ${windowLength(windowSeconds(summary))}.` }),
      el('span', {
        className: 'muted',
        text: 'Send some to the endpoint, or choose a longer time range. Live refresh shows them as they arrive.',
      }),
    );
  }
  tiles.hidden = !summary || empty;
  versionsSection.hidden = chartsSection.hidden = !summary || empty;
  if (summary && !empty) {
    renderTiles(summary);
    renderVersions(summary);
  }
  renderCharts();
  renderDrift();
  renderOutputDrift();
  renderResources();
}

function renderLead(): void {
  const summary = state.summary;
  if (!summary) return;
  const from = Date.parse(summary.from);
  const to = Date.parse(summary.to);
  const long = to - from > 86_400_000;
  const when = (at: number) =>
    long
      ? new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
      : new Date(at).toLocaleTimeString();
  const parts: (Node | string)[] = [
    summary.source === 'prometheus' ? 'From Prometheus' : 'Scraped from the replicas',
    ` · ${when(from)} – ${when(to)}`,
  ];
  if (state.refreshedAt) parts.push(` · refreshed at ${state.refreshedAt.toLocaleTimeString()}`);
  if (state.live) parts.push(' · ', el('span', { className: 'live' }, icon('pulse'), ' Live'));
  lead.replaceChildren(...parts);
}

function renderAlerts(): void {
  const alerts = state.summary?.alerts ?? [];
  alertBanner.hidden = alerts.length === 0;
  if (alerts.length === 0) return;
  const revert = button(
    'Revert to stable',
    'discard',
    'Send all traffic back to the pinned stable revision (asks first)',
    false,
  );
  revert.addEventListener('click', () => host.post({ type: 'revert' }));
  alertBanner.replaceChildren(
    icon('warning'),
    el(
      'div',
      { className: 'banner-body' },
      el('strong', { text: alerts.length === 1 ? 'An alert fires' : `${alerts.length} alerts fire` }),
      el('ul', {}, ...alerts.map((alert) => el('li', { text: alert.message }))),
    ),
    revert,
  );
}

const LEVEL_TEXT: Record<Level, string> = {
  ok: 'Within its threshold',
  warn: 'Close to its threshold',
  breach: 'Past its threshold',
  unjudged: 'Too few requests to judge',
  none: '',
};

function renderTiles(summary: MonitorSummary): void {
  tiles.replaceChildren(
    ...statTiles(summary, state.thresholds, windowSeconds(summary)).map((tile) => {
      const value = el('div', { className: 'tile-value', text: tile.value });
      if (tile.level === 'breach' || tile.level === 'warn') value.prepend(icon('warning'));
      return el(
        'div',
        { className: `tile level-${tile.level}`, title: LEVEL_TEXT[tile.level] },
        el('div', { className: 'tile-label', text: tile.label }),
        value,
        el('div', { className: 'tile-detail muted', text: tile.detail, title: tile.detail }),
      );
    }),
  );
}

function renderVersions(summary: MonitorSummary): void {
  const versions = versionOrder(summary, state.series);
  const classes = predictionBands(state.series, versions[0] ?? '').map((band) => band.label);
  versionsBody.replaceChildren(
    versionsTable({
      versions: summary.versions,
      colorOf: (version) => seriesStyle(Math.max(0, versions.indexOf(version))).color,
      classColor: (key) =>
        classes.includes(key) ? bandColor(classes.indexOf(key)) : 'var(--vscode-descriptionForeground)',
      thresholds: state.thresholds,
      hidden: state.hidden,
      onToggle: (version, shown) => setVersionShown(version, shown),
    }),
  );
}

function setVersionShown(version: string, shown: boolean): void {
  if (shown) state.hidden.delete(version);
  else state.hidden.add(version);
  if (state.summary) renderVersions(state.summary);
  renderCharts();
}

const cards = new Map<string, ChartCard>();
const predictionCards = new Map<string, ChartCard>();

function card(map: Map<string, ChartCard>, id: string, title: string): ChartCard {
  let found = map.get(id);
  if (!found) {
    found = new ChartCard(title, (version) => setVersionShown(version, state.hidden.has(version)));
    map.set(id, found);
  }
  return found;
}

function renderCharts(): void {
  const summary = state.summary;
  if (!summary || summary.requests === 0) {
    predictionsSection.hidden = true;
    return;
  }
  const { series, thresholds } = state;
  const from = Date.parse(summary.from);
  const to = Date.parse(summary.to);
  const versions = versionOrder(summary, series);
  const colorOf = (version: string) => seriesStyle(versions.indexOf(version)).color;
  const lines = (specs: LineSpec[]): CardDataset[] =>
    specs.map((line) => ({
      label: line.label,
      points: line.points,
      color: colorOf(line.version),
      dash: line.variant?.dash,
      width: line.variant?.width,
      version: line.version,
      hidden: state.hidden.has(line.version),
    }));
  const note = (...metrics: MonitorSeries['metric'][]) =>
    downsamplingNote(series.filter((s) => metrics.includes(s.metric)));

  const requests = card(cards, 'requests', 'Request rate');
  requests.update({
    datasets: lines(versionLines(series, 'requestRate', versions)),
    from,
    to,
    yTitle: 'req/s',
    formatY: formatNumber,
    note: note('requestRate'),
  });

  const errors = card(cards, 'errors', 'Error rate');
  const errorLines = lines(versionLines(series, 'errorRate', versions, 100));
  if (thresholds.errorRate !== undefined) {
    errorLines.push({
      label: `threshold ${formatPercent(thresholds.errorRate)}`,
      points: thresholdLine(thresholds.errorRate * 100, from, to),
      color: '',
      threshold: true,
    });
  }
  errors.update({
    datasets: errorLines,
    from,
    to,
    yTitle: '%',
    formatY: (value) => `${formatNumber(Number(value.toPrecision(3)))}%`,
    suggestedMax: thresholds.errorRate !== undefined ? thresholds.errorRate * 125 : undefined,
    note: note('errorRate'),
  });

  const latency = card(cards, 'latency', 'Latency p50 · p95 · p99');
  const latencySets = lines(latencyLines(series, versions));
  if (thresholds.p95LatencyMs !== undefined) {
    latencySets.push({
      label: `p95 threshold ${formatMs(thresholds.p95LatencyMs)}`,
      points: thresholdLine(thresholds.p95LatencyMs, from, to),
      color: '',
      threshold: true,
    });
  }
  latency.update({
    datasets: latencySets,
    from,
    to,
    yTitle: 'ms',
    formatY: (value) => formatNumber(Number(value.toPrecision(4))),
    suggestedMax: thresholds.p95LatencyMs !== undefined ? thresholds.p95LatencyMs * 1.1 : undefined,
    note: note('latencyP50', 'latencyP95', 'latencyP99'),
  });
  const shown = [requests, errors, latency];
  if (shown.some((one, i) => chartGrid.children[i] !== one.element))
    chartGrid.replaceChildren(...shown.map((one) => one.element));

  const withPredictions = versions.filter(
    (version) => !state.hidden.has(version) && series.some((s) => s.metric === 'prediction' && s.version === version),
  );
  for (const [version, stale] of predictionCards) {
    if (withPredictions.includes(version)) continue;
    stale.destroy();
    predictionCards.delete(version);
  }
  const predictionShown = withPredictions.flatMap((version) => {
    const bands = predictionBands(series, version);
    if (bands.length === 0) return [];
    const one = card(predictionCards, version, version);
    one.update({
      datasets: bands.map((band, i) => ({ label: band.label, points: band.points, color: bandColor(i) })),
      from,
      to,
      yTitle: '% of predictions',
      formatY: (value) => `${formatNumber(Math.round(value * 10) / 10)}%`,
      stacked: true,
      note: downsamplingNote(series.filter((s) => s.metric === 'prediction' && s.version === version)),
    });
    return [one];
  });
  if (
    predictionShown.length !== predictionGrid.children.length ||
    predictionShown.some((one, i) => predictionGrid.children[i] !== one.element)
  ) {
    predictionGrid.replaceChildren(...predictionShown.map((one) => one.element));
  }
  predictionsSection.hidden = predictionShown.length === 0;
}

function renderDrift(): void {
  const summary = state.summary;
  driftSection.hidden = !summary;
  if (!summary) return;
  if (summary.drift.length === 0) {
    driftBody.replaceChildren(
      el('p', { className: 'muted', text: summary.driftNote ?? 'No drift figures for this window.' }),
    );
    return;
  }
  driftBody.replaceChildren(driftTable(summary.drift, state.thresholds.psi));
}

function renderResources(): void {
  const summary = state.summary;
  resourcesSection.hidden = !summary;
  if (!summary) return;
  if (summary.resources.length === 0) {
    resourcesBody.replaceChildren(
      el('p', {
        className: 'muted',
        text: summary.resourcesNote ?? 'No running task or pod reports its CPU and memory.',
      }),
    );
    return;
  }
  resourcesBody.replaceChildren(resourcesTable(summary.resources));
}

function renderOutputDrift(): void {
  const summary = state.summary;
  outputDriftSection.hidden = !summary;
  if (!summary) return;
  if (summary.outputDrift.length === 0) {
    outputDriftBody.replaceChildren(
      el('p', { className: 'muted', text: 'Too few logged predictions to compare versions or windows yet.' }),
    );
    return;
  }
  outputDriftBody.replaceChildren(outputDriftTable(summary.outputDrift));
}

function renderAudit(): void {
  const entries = state.audit;
  if (!entries) return void auditBody.replaceChildren(el('p', { className: 'muted', text: 'Loading…' }));
  if (entries.length === 0)
    return void auditBody.replaceChildren(
      el('p', { className: 'muted', text: 'No alerts or reverts recorded for this deployment.' }),
    );
  const parts: HTMLElement[] = [auditList(entries, state.auditShown)];
  if (entries.length > state.auditShown) {
    const more = button(
      `Show more (${entries.length - state.auditShown} older)`,
      'chevron-down',
      'Show older entries of the audit log',
    );
    more.classList.add('more');
    more.addEventListener('click', () => {
      state.auditShown += 20;
      renderAudit();
    });
    parts.push(more);
  }
  auditBody.replaceChildren(...parts);
}

/** The window's length from its ends, or the range asked for when they do not parse. */
function windowSeconds(summary: MonitorSummary): number {
  const seconds = (Date.parse(summary.to) - Date.parse(summary.from)) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : state.range;
}

let busyTimer: ReturnType<typeof setTimeout> | undefined;
/** The progress bar shows only for loads that take a moment, so a live refresh does not flicker. */
function setBusy(on: boolean): void {
  clearTimeout(busyTimer);
  if (!on) progress.hidden = true;
  else busyTimer = setTimeout(() => (progress.hidden = false), 300);
}

function block(title: string, ...children: HTMLElement[]): HTMLElement {
  return el('section', { className: 'block' }, el('h2', { text: title }), ...children);
}

function noticeBanner(): { element: HTMLElement; show(message: string): void } {
  const text = el('span', { className: 'banner-body' });
  const close = document.createElement('vscode-toolbar-button');
  close.setAttribute('icon', 'close');
  close.setAttribute('label', 'Dismiss');
  close.title = 'Dismiss';
  const element = el('div', { className: 'banner notice-banner' }, icon('info'), text, close);
  element.setAttribute('role', 'status');
  element.hidden = true;
  close.addEventListener('click', () => (element.hidden = true));
  return {
    element,
    show(message) {
      text.textContent = message;
      element.hidden = false;
    },
  };
}

host.post({ type: 'ready' });
