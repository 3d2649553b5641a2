// The A/B test panel: the verdict of the test, each variant's weight and figures, the significance
// of each candidate against production, live charts per variant, and the test's actions (apply new
// weights, stop the test, promote a variant). The host loads the data (live every 5 s).
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type {
  AbReport,
  AbRequest,
  AbUpdate,
  ReviewGateState,
  SplitStatus,
  VariantComparison,
} from '../../../src/release/contract';
import { followTheme } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, icon } from '../shared/controls';
import { formatNumber } from '../shared/format';
import { connectToHost } from '../shared/host';
import { seriesStyle } from '../shared/palette';
import { applyTheme, el } from '../shared/theme';
import { ChartCard } from '../monitor/charts';
import { formatMs, formatPercent } from '../monitor/tiles';
import { comparisonRows, pValueText, seriesLines, type SeriesKind } from './abView';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);
applyTheme(`${CONTROLS_CSS}
  vscode-progress-bar.busy { position: fixed; top: 0; left: 0; right: 0; z-index: 10; }
  .banner { display: flex; gap: 10px; align-items: flex-start; margin: 0 0 16px; padding: 8px 12px; border-radius: 2px; border: 1px solid; }
  .banner > vscode-icon { flex: none; margin-top: 1px; }
  .verdict { background: var(--vscode-inputValidation-infoBackground); border-color: var(--vscode-inputValidation-infoBorder); }
  .verdict.significant { background: var(--vscode-diffEditor-insertedTextBackground, var(--vscode-inputValidation-infoBackground)); border-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .gate { background: var(--vscode-inputValidation-warningBackground); border-color: var(--vscode-inputValidation-warningBorder); }
  .gate.open { background: transparent; border-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
  .notice-banner { background: var(--vscode-inputValidation-infoBackground); border-color: var(--vscode-inputValidation-infoBorder); }
  section.block { margin: 0 0 24px; }
  section.block > h2 { margin-bottom: 8px; }
  table.grid { border-collapse: collapse; width: 100%; }
  table.grid th, table.grid td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); }
  table.grid th { color: var(--vscode-descriptionForeground); font-weight: 600; }
  table.grid th.num, table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
  .weight vscode-textfield { width: 72px; }
  td.better { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); font-weight: 600; }
  td.worse { color: var(--vscode-errorForeground); font-weight: 600; }
  .chart-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 380px), 1fr)); gap: 16px; }
  .chart-card { border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; padding: 10px 12px 8px; min-width: 0; }
  .chart-card header { display: flex; align-items: baseline; gap: 8px; min-height: 22px; }
  .chart-card h3 { flex: 1; min-width: 0; margin: 0; font-size: 1em; font-weight: 600; }
  .chart-box { position: relative; height: 220px; }
  .chart-status { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; pointer-events: none; }
  .empty-state { display: flex; flex-direction: column; align-items: center; gap: 8px; padding: 40px 16px; border: 1px dashed var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; }
`);
followTheme(() => renderCharts());

const state = {
  live: true,
  split: null as SplitStatus | null,
  report: undefined as AbReport | undefined,
  gate: null as ReviewGateState | null,
  refreshedAt: undefined as Date | undefined,
};

const host = connectToHost<AbRequest, AbUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;
const heading = el('h1', { text: 'A/B Test' });
const lead = el('p', { className: 'lead', text: 'Loading…' });

const liveToggle = document.createElement('vscode-checkbox');
liveToggle.toggle = true;
liveToggle.label = 'Live';
liveToggle.checked = true;
liveToggle.title = 'Refresh every 5 seconds while this panel is visible';
liveToggle.addEventListener('change', () => {
  state.live = liveToggle.checked;
  host.post({ type: 'setLive', on: state.live });
  renderLead();
});
const refreshButton = button('Refresh', 'refresh', 'Read the request log and compute the figures again');
refreshButton.addEventListener('click', () => host.post({ type: 'refresh' }));
const applyButton = button('Apply weights', 'check', 'Change the traffic split to the weights in the table', false);
applyButton.addEventListener('click', () => host.post({ type: 'setWeights', weights: typedWeights() }));
const stopButton = button(
  'Stop test',
  'debug-stop',
  'Send all traffic to production and remove the other variants (asks first)',
);
stopButton.addEventListener('click', () => host.post({ type: 'stop' }));
const promoteButton = button('Promote', 'rocket', 'Promote the leading variant', false);
promoteButton.addEventListener('click', () => {
  const leader = state.report?.verdict.leader;
  if (leader) host.post({ type: 'promote', variant: leader });
});
const logButton = button('Show log', 'output', 'Open the MLOps output channel');
logButton.addEventListener('click', () => host.post({ type: 'showLog' }));

const progress = document.createElement('vscode-progress-bar');
progress.className = 'busy';
progress.hidden = true;
const error = errorBanner();
const notice = el('div', { className: 'banner notice-banner' });
notice.setAttribute('role', 'status');
notice.hidden = true;
const verdict = el('div', { className: 'banner verdict' });
verdict.setAttribute('role', 'status');
const gate = el('div', { className: 'banner gate' });
const emptyState = el('div', { className: 'empty-state' });
emptyState.hidden = true;
const variantsBody = el('div');
const comparisonBody = el('div');
const chartGrid = el('div', { className: 'chart-grid' });
const variantsSection = block('Variants', variantsBody);
const comparisonSection = block(
  'Against production',
  el('p', {
    className: 'lead',
    text: "Rates by a two-proportion z-test, means by Welch's t-test; 95% confidence intervals of the difference (variant minus production).",
  }),
  comparisonBody,
);
const chartsSection = block('Live, per variant', chartGrid);
const weightInputs = new Map<string, HTMLInputElement>();

app.append(
  progress,
  heading,
  lead,
  el(
    'div',
    { className: 'toolbar controls' },
    el('div', { className: 'field checkbox-field' }, liveToggle),
    refreshButton,
    el('div', { className: 'actions' }, applyButton, stopButton, promoteButton, logButton),
  ),
  error.element,
  notice,
  verdict,
  gate,
  emptyState,
  variantsSection,
  comparisonSection,
  chartsSection,
);

function receive(update: AbUpdate): void {
  switch (update.type) {
    case 'init':
      heading.textContent = `A/B test: ${update.title}`;
      state.live = liveToggle.checked = update.live;
      return renderLead();
    case 'data':
      state.split = update.split;
      state.report = update.report;
      state.gate = update.gate;
      state.refreshedAt = new Date(update.refreshedAt);
      error.hide();
      return renderAll();
    case 'busy':
      progress.hidden = !update.on;
      return;
    case 'error':
      return error.show(update.message);
    case 'notice':
      notice.replaceChildren(icon('info'), el('span', { text: update.message }));
      notice.hidden = false;
      return;
  }
}

function renderLead(): void {
  const split = state.split;
  const when = state.refreshedAt
    ? ` · updated ${state.refreshedAt.toLocaleTimeString()}${state.live ? ' · live' : ''}`
    : '';
  lead.textContent = split
    ? `Since ${new Date(split.startedAt ?? state.report?.from ?? Date.now()).toLocaleString()} via ${split.via === 'httproute' ? 'a Gateway API HTTPRoute' : "the deployment's proxy"}${split.stickyKey ? `, sticky on ${split.stickyKey}` : ', assigned by request id'}${when}`
    : `No test is running: the last hour is shown${when}`;
}

function renderAll(): void {
  renderLead();
  const report = state.report;
  const running = state.split !== null;
  applyButton.toggleAttribute('disabled', !running);
  stopButton.toggleAttribute('disabled', !running);
  const leader = report?.verdict.leader ?? null;
  const blocked = leader !== null && leader !== 'production' && state.gate !== null && !state.gate.open;
  promoteButton.textContent = leader ? `Promote ${leader}` : 'Promote';
  promoteButton.toggleAttribute('disabled', !running || !leader || blocked);
  promoteButton.title = !leader
    ? 'No variant leads yet'
    : blocked
      ? `Promotion is gated: ${state.gate!.reason}`
      : `Move all traffic to ${leader} and pin it as stable`;

  verdict.className = `banner verdict${report?.verdict.significant ? ' significant' : ''}`;
  verdict.replaceChildren(
    icon(report?.verdict.significant ? 'pass' : 'beaker'),
    el('span', { text: report?.verdict.summary ?? 'Loading…' }),
  );
  gate.hidden = state.gate === null;
  if (state.gate) {
    gate.className = `banner gate${state.gate.open ? ' open' : ''}`;
    gate.replaceChildren(icon(state.gate.open ? 'unlock' : 'lock'), el('span', { text: state.gate.reason }));
  }
  const empty = !report || report.variants.length === 0;
  emptyState.hidden = !empty || !report;
  emptyState.replaceChildren(
    icon('radio-tower'),
    el('strong', { text: running ? 'No answers logged since the test began.' : 'No test is running.' }),
    el('span', {
      className: 'muted',
      text: running
        ? 'Send requests to the endpoint; the figures appear as the model servers log them.'
        : 'Start one with MLOps: Start A/B Test or Shadow.',
    }),
  );
  variantsSection.hidden = comparisonSection.hidden = chartsSection.hidden = empty;
  if (!empty) {
    renderVariants(report);
    renderComparisons(report.comparisons);
  }
  renderCharts();
}

function renderVariants(report: AbReport): void {
  const weights = new Map(state.split?.variants.map((v) => [v.name, v]) ?? []);
  const names = [
    ...new Set([...(state.split?.variants.map((v) => v.name) ?? []), ...report.variants.map((v) => v.variant)]),
  ];
  weightInputs.clear();
  const rows = names.map((name, i) => {
    const figures = report.variants.find((v) => v.variant === name);
    const split = weights.get(name);
    const weightCell = el('td', { className: 'weight num' });
    if (split) {
      const input = document.createElement('vscode-textfield') as unknown as HTMLInputElement;
      input.setAttribute('type', 'number');
      input.setAttribute('min', '0');
      input.setAttribute('max', '100');
      input.value = String(split.weight);
      input.title = split.shadow ? 'Percent of requests mirrored to this shadow' : 'Share of the live traffic';
      weightInputs.set(name, input);
      weightCell.append(
        input as unknown as HTMLElement,
        el('span', { className: 'muted', text: split.shadow ? ' % mirrored' : ' %' }),
      );
    } else weightCell.textContent = '—';
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = seriesStyle(i).color;
    return el(
      'tr',
      {},
      el('td', {}, swatch, el('span', { text: `${name}${split?.shadow || figures?.shadow ? ' (shadow)' : ''}` })),
      weightCell,
      el('td', { text: split?.image ?? figures?.versions.join(', ') ?? '' }),
      el('td', { className: 'num', text: figures ? formatNumber(figures.requests) : '0' }),
      el('td', { className: 'num', text: figures ? formatPercent(figures.errorRate) : '—' }),
      el('td', {
        className: 'num',
        text: figures ? `${formatMs(figures.latencyMs.p50)} / ${formatMs(figures.latencyMs.p95)}` : '—',
      }),
      el('td', {
        className: 'num',
        text:
          figures?.accuracy !== null && figures
            ? `${formatPercent(figures.accuracy)} of ${formatNumber(figures.labelled)}`
            : '—',
      }),
      el('td', {
        className: 'num',
        text:
          figures?.meanReward !== null && figures
            ? `${figures.meanReward.toFixed(3)} (${formatNumber(figures.rewards)})`
            : '—',
      }),
    );
  });
  const head = el(
    'tr',
    {},
    ...['Variant', 'Weight', 'Image', 'Answers', 'Errors', 'p50 / p95', 'Accuracy', 'Mean reward'].map((text, i) =>
      el('th', { className: i >= 1 && i !== 2 ? 'num' : '', text }),
    ),
  );
  variantsBody.replaceChildren(el('table', { className: 'grid' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function renderComparisons(comparisons: VariantComparison[]): void {
  if (comparisons.length === 0) {
    comparisonBody.replaceChildren(el('p', { className: 'muted', text: 'Only production has answered so far.' }));
    return;
  }
  const head = el(
    'tr',
    {},
    ...['Variant', 'Metric', 'Production', 'Variant', 'Difference', '95% CI', 'p-value'].map((text, i) =>
      el('th', { className: i >= 2 ? 'num' : '', text }),
    ),
  );
  const rows = comparisonRows(comparisons).map((row) =>
    el(
      'tr',
      {},
      el('td', { text: row.variant }),
      el('td', { text: row.metric }),
      el('td', { className: 'num', text: row.production }),
      el('td', { className: 'num', text: row.candidate }),
      el('td', { className: `num ${row.judgement}`, text: row.difference }),
      el('td', { className: 'num', text: row.interval }),
      el('td', { className: 'num', text: pValueText(row.pValue) }),
    ),
  );
  comparisonBody.replaceChildren(el('table', { className: 'grid' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

const cards = new Map<SeriesKind, ChartCard>();
function renderCharts(): void {
  const report = state.report;
  if (!report || report.variants.length === 0) return;
  const from = Date.parse(report.from);
  const to = Date.parse(report.to);
  const kinds: [SeriesKind, string, string, (value: number) => string][] = [
    ['rate', 'Requests per second', 'req/s', formatNumber],
    ['errors', 'Error rate', '%', (value) => `${formatNumber(value)}%`],
    ['p95', 'p95 latency', 'ms', (value) => formatMs(value)],
  ];
  for (const [kind, title, yTitle, formatY] of kinds) {
    let card = cards.get(kind);
    if (!card) {
      card = new ChartCard(title, () => undefined);
      cards.set(kind, card);
      chartGrid.append(card.element);
    }
    const datasets = seriesLines(report, kind).map((line, i) => ({
      label: line.variant,
      points: line.points,
      color: seriesStyle(i).color,
      ...(line.shadow ? { dash: [4, 3] } : {}),
    }));
    card.update({ datasets, from, to, yTitle, formatY });
  }
}

/** The weights typed in the table; an empty or out-of-range field keeps the current weight. */
function typedWeights(): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const [name, input] of weightInputs) {
    const value = Number(input.value);
    const current = state.split?.variants.find((v) => v.name === name)?.weight ?? 0;
    weights[name] = Number.isInteger(value) && value >= 0 && value <= 100 ? value : current;
  }
  return weights;
}

function block(title: string, ...children: HTMLElement[]): HTMLElement {
  return el('section', { className: 'block' }, el('h2', { text: title }), ...children);
}

host.post({ type: 'ready' });
