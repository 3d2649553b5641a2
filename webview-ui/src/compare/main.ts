// The Compare panel: one row per run, one column per param and metric statistic, sortable by
// any column; columns whose values differ are highlighted; a scatter of a metric against a param.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { CategoryScale, Chart, Legend, LinearScale, PointElement, ScatterController, Tooltip } from 'chart.js';
import type { CompareRequest, CompareRun, CompareUpdate } from '../../../src/experiments/contract';
import { followTheme } from '../shared/chartTheme';
import { button, CONTROLS_CSS, errorBanner, field, icon, option } from '../shared/controls';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { ScatterChart } from './scatterChart';
import { cellText, columnDiffers, compareColumns, sortRuns, tableCsv, type Column } from './table';

Chart.register(ScatterController, PointElement, LinearScale, CategoryScale, Legend, Tooltip);
applyTheme(`${CONTROLS_CSS}
  .table-scroll { overflow: auto; max-height: 60vh; margin-bottom: 24px; border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; }
  table.compare { width: max-content; min-width: 100%; }
  table.compare th, table.compare td { white-space: nowrap; }
  table.compare thead th { position: sticky; background: var(--vscode-editor-background); z-index: 1; }
  table.compare thead tr.groups th { top: 0; height: 28px; box-sizing: border-box; border-bottom: none; padding-bottom: 0; color: var(--vscode-descriptionForeground); font-weight: 600; }
  table.compare thead tr.labels th { top: 28px; padding: 0; font-weight: normal; }
  table.compare th.group-start, table.compare td.group-start { border-left: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); }
  table.compare .sticky {
    position: sticky; left: 0; z-index: 2;
    background: var(--vscode-editor-background);
    box-shadow: inset -1px 0 var(--vscode-editorWidget-border, var(--vscode-panel-border));
  }
  table.compare thead .sticky { z-index: 3; }
  table.compare tr:hover td.sticky { background: var(--vscode-list-hoverBackground); }
  .sort {
    display: flex; width: 100%; align-items: center; gap: 4px; padding: 6px 8px;
    font: inherit; color: inherit; background: none; border: none; cursor: pointer; text-align: left;
  }
  .sort:hover { background: var(--vscode-list-hoverBackground); }
  .sort:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
  th.number .sort { justify-content: flex-end; }
  .sort vscode-icon { visibility: hidden; }
  th[aria-sort] .sort vscode-icon, .sort:hover vscode-icon { visibility: visible; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  th.differs .sort { font-weight: 600; }
  th.differs .sort::before { content: ''; width: 6px; height: 6px; border-radius: 50%; flex: none; background: var(--vscode-focusBorder); }
  td.differs { background: color-mix(in srgb, var(--vscode-focusBorder) 9%, transparent); }
  td.missing { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); }
  td.run { font-weight: 600; }
  .status vscode-icon { vertical-align: middle; margin: -2px 4px 0 0; }
  .status.FINISHED vscode-icon { color: var(--vscode-testing-iconPassed); }
  .status.RUNNING vscode-icon { color: var(--vscode-charts-blue, var(--vscode-foreground)); }
  .status.FAILED vscode-icon { color: var(--vscode-errorForeground); }
  .status.KILLED vscode-icon, .status.SCHEDULED vscode-icon { color: var(--vscode-descriptionForeground); }
  .section-head { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 12px 16px; margin-bottom: 12px; }
  .section-head h2 { flex: 1 1 100%; }
  .section-head vscode-single-select { width: 220px; }
  .scatter-box { position: relative; height: 340px; }
  .loading { display: flex; align-items: center; gap: 8px; }
  .loading vscode-progress-ring { width: 16px; height: 16px; }
`);
followTheme(() => renderScatter());

const STATUS_ICONS: Record<string, string> = {
  RUNNING: 'sync',
  SCHEDULED: 'clock',
  FINISHED: 'pass-filled',
  FAILED: 'error',
  KILLED: 'circle-slash',
};

const state = {
  runs: [] as CompareRun[],
  columns: [] as Column[],
  sort: undefined as { columnId: string; direction: 'asc' | 'desc' } | undefined,
  onlyDiffers: false,
  scatter: { param: '', metric: '' },
};

const host = connectToHost<CompareRequest, CompareUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const onlyDiffers = document.createElement('vscode-checkbox');
onlyDiffers.label = 'Only what differs';
onlyDiffers.addEventListener('change', () => {
  state.onlyDiffers = onlyDiffers.checked;
  renderTable();
});
const exportCsv = button('Export CSV', 'table', 'Save the table as shown as CSV');
exportCsv.addEventListener('click', () => host.post({ type: 'exportCsv', csv: tableCsv(shownColumns(), shownRuns()) }));
const chartMetrics = button('Chart metrics', 'graph-line', 'Open the metric histories of these runs', false);
chartMetrics.addEventListener('click', () =>
  host.post({ type: 'openMetrics', runIds: shownRuns().map((run) => run.runId) }),
);

const summary = el('p', { className: 'lead' });
const columnCount = el('span', { className: 'muted' });
const error = errorBanner();
const loading = el(
  'p',
  { className: 'loading muted' },
  document.createElement('vscode-progress-ring'),
  'Reading the runs and their metric histories…',
);
const tableScroll = el('div', { className: 'table-scroll' });

const metricPicker = document.createElement('vscode-single-select');
metricPicker.label = 'Metric';
const paramPicker = document.createElement('vscode-single-select');
paramPicker.label = 'Parameter';
const scatterNote = el('p', { className: 'muted' });
const scatterCanvas = el('canvas');
scatterCanvas.setAttribute('role', 'img');
scatterCanvas.setAttribute('aria-label', 'Scatter plot of a metric against a parameter');
const scatterBox = el('div', { className: 'scatter-box' }, scatterCanvas);
const scatter = new ScatterChart(scatterCanvas);
metricPicker.addEventListener('change', () => {
  state.scatter.metric = metricPicker.value;
  renderScatter();
});
paramPicker.addEventListener('change', () => {
  state.scatter.param = paramPicker.value;
  renderScatter();
});
const scatterSection = el(
  'section',
  {},
  el(
    'div',
    { className: 'section-head' },
    el('h2', { text: 'Metric against parameter' }),
    field('Metric (last value)', metricPicker),
    field('Parameter', paramPicker),
  ),
  scatterNote,
  scatterBox,
);

const content = el(
  'div',
  {},
  el(
    'div',
    { className: 'toolbar controls' },
    el('div', { className: 'field checkbox-field' }, onlyDiffers),
    columnCount,
    el('div', { className: 'actions' }, exportCsv, chartMetrics),
  ),
  tableScroll,
  scatterSection,
);
content.hidden = true;
app.append(el('h1', { text: 'Compare runs' }), summary, error.element, loading, content);

function receive(update: CompareUpdate): void {
  loading.hidden = true;
  app.setAttribute('aria-busy', 'false');
  if (update.type === 'error') return error.show(update.message);
  error.hide();
  state.runs = update.runs;
  state.columns = compareColumns(update.runs);
  if (state.sort && !state.columns.some((column) => column.id === state.sort?.columnId)) state.sort = undefined;
  content.hidden = false;
  const params = state.columns.filter((column) => column.id.startsWith('param:')).length;
  const metrics = new Set(
    state.columns.filter((column) => column.id.startsWith('metric:')).map((column) => column.group),
  ).size;
  summary.textContent = `${update.runs.length} runs, ${params} parameters, ${metrics} metrics.`;
  renderTable();
  fillScatterPickers();
}

function shownColumns(): Column[] {
  return state.columns.filter((column) => column.fixed || !state.onlyDiffers || columnDiffers(column, state.runs));
}

function shownRuns(): CompareRun[] {
  const column = state.columns.find((candidate) => candidate.id === state.sort?.columnId);
  return column && state.sort ? sortRuns(state.runs, column, state.sort.direction) : state.runs;
}

function renderTable(): void {
  const columns = shownColumns();
  const runs = shownRuns();
  const differs = new Set(
    columns.filter((column) => !column.fixed && state.runs.length > 1 && columnDiffers(column, state.runs)),
  );
  const groupStart = (i: number) => i > 0 && columns[i - 1].group !== columns[i].group;
  // The sticky name column gets a group cell of its own, so that no wider one sticks over the rest.
  const groupCell = (i: number) => i <= 1 || groupStart(i);
  const groups = columns.flatMap((column, i) => {
    if (!groupCell(i)) return [];
    let span = 1;
    while (i + span < columns.length && !groupCell(i + span)) span++;
    const th = el('th', {
      text: i === 1 ? '' : column.group,
      title: column.group,
      className: i === 0 ? 'sticky' : groupStart(i) ? 'group-start' : '',
    });
    th.colSpan = span;
    return [th];
  });
  const labels = columns.map((column, i) => {
    const th = el('th', { className: headerClass(column, i, groupStart(i), differs.has(column)) });
    const sorted = state.sort?.columnId === column.id ? state.sort.direction : undefined;
    if (sorted) th.setAttribute('aria-sort', sorted === 'asc' ? 'ascending' : 'descending');
    const sortButton = el(
      'button',
      {
        className: 'sort',
        title: `Sort by ${column.group === 'Run' ? column.label : `${column.group} ${column.label}`}`,
      },
      column.label,
      icon(sorted === 'desc' ? 'arrow-down' : 'arrow-up'),
    );
    sortButton.addEventListener('click', () => toggleSort(column));
    th.append(sortButton);
    return th;
  });
  const rows = runs.map((run) =>
    el(
      'tr',
      {},
      ...columns.map((column, i) => {
        const td = el('td', {
          className: headerClass(column, i, groupStart(i), differs.has(column)),
          text: cellText(column, run),
        });
        if (column.value(run) === undefined) {
          td.classList.add('missing');
          td.textContent = '—';
        }
        if (column.id === 'run') {
          td.classList.add('run');
          td.title = run.runId;
        }
        if (column.id === 'status') {
          td.classList.add('status', run.status);
          td.replaceChildren(
            icon(STATUS_ICONS[run.status] ?? 'circle-outline'),
            run.status.charAt(0) + run.status.slice(1).toLowerCase(),
          );
        }
        return td;
      }),
    ),
  );
  const table = el(
    'table',
    { className: 'grid compare' },
    el('thead', {}, el('tr', { className: 'groups' }, ...groups), el('tr', { className: 'labels' }, ...labels)),
    el('tbody', {}, ...rows),
  );
  tableScroll.replaceChildren(table);
  const comparable = state.columns.filter((column) => !column.fixed).length;
  columnCount.textContent = `${differs.size} of ${comparable} columns differ`;
}

function headerClass(column: Column, index: number, startsGroup: boolean, differs: boolean): string {
  return [
    index === 0 ? 'sticky' : '',
    startsGroup ? 'group-start' : '',
    column.kind === 'number' ? 'number' : '',
    differs ? 'differs' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Ascending, then descending, then back to the order the runs came in. */
function toggleSort(column: Column): void {
  const current = state.sort?.columnId === column.id ? state.sort.direction : undefined;
  state.sort =
    current === undefined
      ? { columnId: column.id, direction: 'asc' }
      : current === 'asc'
        ? { columnId: column.id, direction: 'desc' }
        : undefined;
  renderTable();
  tableScroll.querySelector<HTMLElement>(`th[aria-sort] .sort`)?.focus();
}

function fillScatterPickers(): void {
  const params = state.columns.filter((column) => column.id.startsWith('param:')).map((column) => column.label);
  const metrics = [
    ...new Set(state.columns.filter((column) => column.id.startsWith('metric:')).map((column) => column.group)),
  ];
  // Keeps the user's choice when it still exists; the pickers take it from the options' selected attribute.
  const choose = (picker: HTMLElement, values: string[], current: string, preferred: string | undefined) => {
    const chosen = values.includes(current) ? current : (preferred ?? values[0] ?? '');
    picker.replaceChildren(...values.map((value) => option(value, value, value === chosen)));
    return chosen;
  };
  // Prefer a parameter that every run has and that varies: the scatter then shows every run.
  const varying = state.columns.filter((column) => column.id.startsWith('param:') && columnDiffers(column, state.runs));
  const differing = varying.find((column) => state.runs.every((run) => column.label in run.params)) ?? varying[0];
  state.scatter.param = choose(paramPicker, params, state.scatter.param, differing?.label);
  state.scatter.metric = choose(
    metricPicker,
    metrics,
    state.scatter.metric,
    metrics.find((key) => /loss|acc/i.test(key)),
  );
  renderScatter();
}

function renderScatter(): void {
  const { param, metric } = state.scatter;
  if (!param || !metric) {
    scatterBox.hidden = true;
    scatterNote.textContent = 'The runs need at least one parameter and one metric for a scatter plot.';
    return;
  }
  const plotted = scatter.show(state.runs, param, metric);
  scatterBox.hidden = plotted === 0;
  scatterNote.textContent =
    plotted === 0
      ? `No run has both ${param} and a finite ${metric}.`
      : plotted < state.runs.length
        ? `${plotted} of ${state.runs.length} runs have both ${param} and a finite ${metric}.`
        : '';
  scatterNote.hidden = scatterNote.textContent === '';
}

host.post({ type: 'ready' });
