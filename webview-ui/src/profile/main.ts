// The Profile panel: a card per column with its statistics and distribution, a filter by name,
// the progress of a profile still running, and JSON or CSV export.
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { formatBytes } from '../../../src/shared/formatBytes';
import type {
  ColumnProfile,
  DatasetFile,
  DatasetProfile,
  ProfileRequest,
  ProfileUpdate,
} from '../../../src/datasets/contract';
import { TYPE_ICONS, typeKind } from '../shared/cells';
import { followTheme } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, icon } from '../shared/controls';
import { formatCount, formatDuration } from '../shared/format';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { columnDistribution } from './chartData';
import { columnChart } from './columnChart';
import { columnFlags, columnStats } from './stats';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
applyTheme(`${CONTROLS_CSS}
  h1, .lead { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .facts { display: flex; flex-wrap: wrap; gap: 6px 20px; margin: 0 0 16px; }
  .facts span { display: inline-flex; align-items: center; gap: 6px; }
  .facts vscode-icon { color: var(--vscode-descriptionForeground); }
  .filter-field vscode-textfield { width: 260px; }
  .busy { display: flex; flex-direction: column; align-items: flex-start; gap: 12px; padding: 24px 0; }
  .busy .line { display: flex; align-items: center; gap: 10px; }
  .busy vscode-progress-ring { width: 20px; height: 20px; }
  .stopped { display: flex; align-items: center; gap: 12px; margin-bottom: 16px; }
  .elapsed { font-variant-numeric: tabular-nums; }
  .busy .step { margin: -6px 0 0 30px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); gap: 12px; }
  .card {
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    border-radius: 4px; padding: 10px 12px 12px; min-width: 0;
  }
  .card header { display: flex; align-items: center; gap: 6px; min-height: 22px; margin-bottom: 8px; }
  .card header vscode-icon { flex: none; color: var(--vscode-descriptionForeground); }
  .card h2 { flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .type { color: var(--vscode-descriptionForeground); font-size: 0.92em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 40%; }
  .flag {
    flex: none; padding: 0 6px; border-radius: 9px; font-size: 0.85em; line-height: 18px;
    color: var(--vscode-badge-foreground); background: var(--vscode-badge-background);
  }
  .stats { display: grid; grid-template-columns: repeat(var(--stat-columns), minmax(0, 1fr)); gap: 8px; margin: 0 0 8px; }
  .stats + .chart-box { margin-top: 12px; }
  .stats div { min-width: 0; }
  .stats dt { color: var(--vscode-descriptionForeground); font-size: 0.85em; }
  .stats dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-variant-numeric: tabular-nums; }
  .chart-box { position: relative; height: 130px; }
  .chart-box.empty { height: auto; }
  .none { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
`);
followTheme(() => redrawCharts());

interface Card {
  column: ColumnProfile;
  element: HTMLElement;
  chartBox: HTMLElement;
  chart?: Chart<'bar'>;
}

const state = {
  profile: undefined as DatasetProfile | undefined,
  cards: [] as Card[],
  filter: '',
  timer: 0,
};

const host = connectToHost<ProfileRequest, ProfileUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const title = el('h1', { text: 'Profile' });
const lead = el('p', { className: 'lead' });
const facts = el('p', { className: 'facts muted' });
const error = errorBanner();

const elapsed = el('span', { className: 'elapsed muted' });
const cancel = button('Cancel', 'close', 'Stop profiling');
cancel.addEventListener('click', () => host.post({ type: 'cancel' }));
const busyText = el('span', { text: 'Profiling…' });
const busyStep = el('span', { className: 'muted step' });
const busy = el(
  'div',
  { className: 'busy' },
  el('div', { className: 'line' }, document.createElement('vscode-progress-ring'), busyText, elapsed),
  busyStep,
  cancel,
);
busy.setAttribute('role', 'status');

const rerunButton = () => {
  const node = button('Profile again', 'refresh', 'Read the file and profile it again');
  node.addEventListener('click', () => host.post({ type: 'rerun' }));
  return node;
};
const stoppedText = el('span');
const stopped = el('div', { className: 'stopped' }, stoppedText, rerunButton());

const filter = document.createElement('vscode-textfield');
filter.placeholder = 'Filter columns by name';
filter.setAttribute('aria-label', 'Filter columns by name');
filter.append(iconSlot('filter'));
filter.addEventListener('input', () => {
  state.filter = filter.value.trim().toLowerCase();
  applyFilter();
});
const shownCount = el('span', { className: 'muted' });
const exportJson = button('Export JSON', 'json', 'Save the whole profile as JSON');
exportJson.addEventListener('click', () => host.post({ type: 'export', format: 'json' }));
const exportCsv = button('Export CSV', 'table', 'Save the statistics, a line per column, as CSV');
exportCsv.addEventListener('click', () => host.post({ type: 'export', format: 'csv' }));
const cards = el('div', { className: 'cards' });
const noMatch = el('p', { className: 'muted' });
const content = el(
  'div',
  {},
  el(
    'div',
    { className: 'toolbar controls' },
    el('div', { className: 'field filter-field' }, filter),
    shownCount,
    el('div', { className: 'actions' }, rerunButton(), exportJson, exportCsv),
  ),
  cards,
  noMatch,
);

const charts = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    const card = state.cards.find((candidate) => candidate.chartBox === entry.target);
    if (card) drawChart(card);
  }
});

app.append(title, lead, facts, error.element, busy, stopped, content);
showOnly(busy);

function receive(update: ProfileUpdate): void {
  app.setAttribute('aria-busy', String(update.type === 'profiling'));
  showFile(update.file);
  clearInterval(state.timer);
  switch (update.type) {
    case 'profiling': {
      const started = performance.now() - update.elapsedMs;
      const tick = () => (elapsed.textContent = formatDuration((performance.now() - started) / 1000));
      tick();
      state.timer = window.setInterval(tick, 500);
      busyText.textContent = `Profiling ${update.file.name}${update.file.bytes === undefined ? '' : ` (${formatBytes(update.file.bytes)})`}…`;
      busyStep.textContent = update.step ?? '';
      return showOnly(busy);
    }
    case 'profile':
      showProfile(update.file, update.profile, update.elapsedMs);
      return showOnly(content);
    case 'cancelled':
      stoppedText.textContent = 'Profiling was cancelled.';
      return showOnly(stopped);
    case 'error':
      stoppedText.textContent = '';
      showOnly(stopped);
      return error.show(update.message);
  }
}

function showOnly(shown: HTMLElement): void {
  for (const section of [busy, stopped, content]) section.hidden = section !== shown;
  facts.hidden = shown !== content;
  error.hide();
}

function showFile(file: DatasetFile): void {
  title.textContent = file.name;
  title.title = file.name;
  lead.textContent = file.path;
  lead.title = file.path;
}

function showProfile(file: DatasetFile, profile: DatasetProfile, elapsedMs: number): void {
  state.profile = profile;
  const fact = (iconName: string, text: string) => el('span', {}, icon(iconName), text);
  facts.replaceChildren(
    fact('list-flat', `${formatCount(profile.rows)} rows`),
    fact('symbol-field', `${formatCount(profile.columns.length)} columns`),
    ...(file.bytes === undefined ? [] : [fact('file', formatBytes(file.bytes))]),
    fact('clock', `profiled in ${formatDuration(elapsedMs / 1000)}`),
  );
  for (const card of state.cards) card.chart?.destroy();
  charts.disconnect();
  state.cards = profile.columns.map((column) => columnCard(column, profile.rows));
  cards.replaceChildren(...state.cards.map((card) => card.element));
  for (const card of state.cards) charts.observe(card.chartBox);
  applyFilter();
}

function columnCard(column: ColumnProfile, rows: number): Card {
  const name = el('h2', { text: column.name, title: column.name });
  const header = el(
    'header',
    {},
    icon(TYPE_ICONS[typeKind(column.type)]),
    name,
    ...columnFlags(column, rows).map((flag) => el('span', { className: 'flag', text: flag })),
    el('span', { className: 'type', text: column.type, title: column.type }),
  );
  const stats = columnStats(column, rows).map((group) => {
    const list = el(
      'dl',
      { className: 'stats' },
      ...group.map((stat) =>
        el('div', {}, el('dt', { text: stat.label }), el('dd', { text: stat.text, title: stat.text })),
      ),
    );
    list.style.setProperty('--stat-columns', String(group.length));
    return list;
  });
  const chartBox = el('div', { className: 'chart-box' });
  const element = el('section', { className: 'card' }, header, ...stats, chartBox);
  element.setAttribute('aria-label', `${column.name}, ${column.type}`);
  return { column, element, chartBox };
}

/** Charts are drawn when their card first scrolls into view: hundreds of columns would otherwise stall the panel. */
function drawChart(card: Card): void {
  if (card.chart || !state.profile) return;
  const { column } = card;
  const distribution = columnDistribution(column, state.profile.rows);
  if (distribution.kind === 'note') {
    card.chartBox.classList.add('empty');
    card.chartBox.replaceChildren(el('span', { className: 'none', text: distribution.text }));
    return;
  }
  const { bars } = distribution;
  const horizontal = distribution.kind === 'topValues';
  if (horizontal) card.chartBox.style.height = `${Math.max(60, bars.labels.length * 20 + 28)}px`;
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    horizontal ? `Most frequent values of ${column.name}` : `Histogram of ${column.name}`,
  );
  card.chartBox.replaceChildren(canvas);
  card.chart = columnChart(canvas, bars, horizontal, state.profile.rows);
}

function redrawCharts(): void {
  for (const card of state.cards) {
    if (!card.chart) continue;
    card.chart.destroy();
    card.chart = undefined;
    drawChart(card);
  }
}

function applyFilter(): void {
  let shown = 0;
  for (const card of state.cards) {
    card.element.hidden = state.filter !== '' && !card.column.name.toLowerCase().includes(state.filter);
    if (!card.element.hidden) shown++;
  }
  shownCount.textContent = state.filter ? `${formatCount(shown)} of ${formatCount(state.cards.length)} columns` : '';
  noMatch.textContent =
    shown === 0 && state.cards.length > 0 ? `No column name contains “${filter.value.trim()}”.` : '';
  noMatch.hidden = noMatch.textContent === '';
}

function iconSlot(name: string): HTMLElement {
  const node = icon(name);
  node.slot = 'content-before';
  return node;
}

host.post({ type: 'ready' });
