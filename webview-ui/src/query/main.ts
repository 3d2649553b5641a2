// The Query panel: the lake's tables with a version picker each, a SQL editor (Ctrl/Cmd+Enter
// runs), the result in the shared data grid, and CSV or Parquet export of the result.
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import type { QueryRequest, QueryResultView, QueryTable, QueryUpdate } from '../../../src/datasets/contract';
import { button, CONTROLS_CSS, errorBanner, icon, option } from '../shared/controls';
import { formatCount } from '../shared/format';
import { DataGrid, GRID_CSS } from '../shared/grid';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { defaultQuery, insertWord, keepKnownPins, resultSummary, sqlIdentifier, versionLabel } from './queryState';

applyTheme(`${CONTROLS_CSS}${GRID_CSS}
  body { height: 100vh; box-sizing: border-box; }
  #app { display: flex; flex-direction: column; height: 100%; }
  #app > * { flex: none; }
  #app > .workspace { flex: 1 1 0; min-height: 0; display: grid; grid-template-columns: minmax(200px, 260px) minmax(0, 1fr); gap: 16px; }
  .tables {
    display: flex; flex-direction: column; min-height: 0;
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px;
  }
  .tables header {
    display: flex; align-items: center; gap: 8px; padding: 4px 4px 4px 10px; min-height: 26px;
    border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
  }
  .tables h2 { flex: 1; font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em; }
  .table-list { overflow: auto; padding: 4px 0; }
  .table { padding: 6px 10px 8px; display: flex; flex-direction: column; gap: 4px; }
  .table + .table { border-top: 1px solid color-mix(in srgb, var(--vscode-editorWidget-border, var(--vscode-panel-border)) 50%, transparent); }
  .table-name {
    display: flex; align-items: center; gap: 6px; min-width: 0; padding: 2px 4px; margin: 0 -4px;
    font: inherit; font-weight: 600; color: inherit; background: none; border: none; border-radius: 3px; cursor: pointer; text-align: left;
  }
  .table-name span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .table-name:hover { background: var(--vscode-list-hoverBackground); }
  .table-name:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
  .table-name vscode-icon { flex: none; color: var(--vscode-descriptionForeground); }
  .table .meta { font-size: 0.9em; }
  .table vscode-single-select { width: 100%; }
  .table.pinned .table-name vscode-icon { color: var(--vscode-charts-orange, var(--vscode-focusBorder)); }
  .tables .empty { margin: 0; padding: 8px 10px; }
  .editor-pane { display: flex; flex-direction: column; min-height: 0; min-width: 0; gap: 10px; }
  .editor-pane > * { flex: none; }
  vscode-textarea { width: 100%; }
  .run-bar { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
  .run-bar vscode-progress-ring { width: 16px; height: 16px; }
  .run-bar .actions { margin-left: auto; }
  kbd {
    font-family: inherit; font-size: 0.9em; padding: 0 4px; border-radius: 3px;
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    color: var(--vscode-descriptionForeground);
  }
  .sql-error span { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); font-size: 0.95em; margin: 0; }
  .error-banner { margin: 0; }
  .saved { display: inline-flex; align-items: center; gap: 4px; }
  .saved vscode-icon { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
  .editor-pane > .grid-frame { flex: 1 1 0; }
  @media (max-width: 640px) {
    #app > .workspace { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto minmax(0, 1fr); }
    .tables { max-height: 30vh; }
  }
`);

const MAC = /Mac|iPhone|iPad/.test(navigator.platform);

const state = {
  tables: [] as QueryTable[],
  pins: {} as Record<string, number>,
  result: undefined as QueryResultView | undefined,
  running: false,
  editorFocused: false,
};

const host = connectToHost<QueryRequest, QueryUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const refresh = document.createElement('vscode-toolbar-button');
refresh.setAttribute('icon', 'refresh');
refresh.setAttribute('label', 'Reload the tables');
refresh.title = 'Reload the tables';
refresh.addEventListener('click', () => host.post({ type: 'refreshTables' }));
const tableList = el('div', { className: 'table-list' });
tableList.setAttribute('role', 'list');
const tablesPane = el(
  'aside',
  { className: 'tables' },
  el('header', {}, el('h2', { text: 'Tables' }), refresh),
  tableList,
);

const editor = document.createElement('vscode-textarea');
editor.monospace = true;
editor.rows = 8;
editor.resize = 'vertical';
editor.spellcheck = false;
editor.placeholder = 'SELECT * FROM table LIMIT 100;';
editor.setAttribute('aria-label', 'SQL query');
editor.addEventListener('focusin', () => (state.editorFocused = true));
editor.addEventListener('keydown', (event: KeyboardEvent) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});

const runButton = button('Run', 'play', `Run the query (${MAC ? '⌘' : 'Ctrl'}+Enter)`, false);
runButton.addEventListener('click', run);
const shortcut = el(
  'span',
  { className: 'muted' },
  el('kbd', { text: MAC ? '⌘' : 'Ctrl' }),
  ' + ',
  el('kbd', { text: 'Enter' }),
);
const running = el(
  'span',
  { className: 'muted run-state' },
  document.createElement('vscode-progress-ring'),
  'Running…',
);
running.hidden = true;
const summary = el('span', { className: 'summary' });
summary.setAttribute('role', 'status');
const saved = el('span', { className: 'saved muted' });
const exportCsv = button('Export CSV', 'table', 'Save the whole result as CSV');
exportCsv.addEventListener('click', () => host.post({ type: 'export', format: 'csv' }));
const exportParquet = button('Export Parquet', 'database', 'Save the whole result as Parquet (written by DuckDB)');
exportParquet.addEventListener('click', () => host.post({ type: 'export', format: 'parquet' }));

const sqlError = errorBanner();
sqlError.element.classList.add('sql-error');
const panelError = errorBanner();
const grid = new DataGrid('Query result');
grid.element.hidden = true;

const editorPane = el(
  'section',
  { className: 'editor-pane' },
  editor,
  el(
    'div',
    { className: 'run-bar' },
    runButton,
    shortcut,
    running,
    summary,
    saved,
    el('div', { className: 'actions' }, exportCsv, exportParquet),
  ),
  sqlError.element,
  grid.element,
);
app.append(
  el('h1', { text: 'Query the lake' }),
  el('p', {
    className: 'lead',
    text: 'SQL over the lake tables, run by DuckDB. Pin a table to one of its versions to query it as it was then.',
  }),
  panelError.element,
  el('div', { className: 'workspace' }, tablesPane, editorPane),
);
renderRunBar();

function receive(update: QueryUpdate): void {
  app.setAttribute('aria-busy', 'false');
  switch (update.type) {
    case 'tables':
      panelError.hide();
      state.tables = update.tables;
      state.pins = keepKnownPins(state.pins, update.tables);
      if (editor.value.trim() === '') editor.value = defaultQuery(update.tables);
      return renderTables();
    case 'setQuery':
      editor.value = update.sql;
      // The tables may come after the query: its pins are checked against them then.
      state.pins = state.tables.length > 0 ? keepKnownPins(update.versions, state.tables) : { ...update.versions };
      return renderTables();
    case 'result':
      state.running = false;
      state.result = update.result;
      sqlError.hide();
      saved.textContent = '';
      grid.element.hidden = false;
      grid.show(update.result.columns, update.result.rows);
      return renderRunBar();
    case 'queryError':
      state.running = false;
      state.result = undefined;
      grid.element.hidden = true;
      sqlError.show(update.message);
      return renderRunBar();
    case 'exported':
      saved.replaceChildren(icon('check'), `Saved ${update.path.split(/[\\/]/).pop() ?? update.path}`);
      saved.title = update.path;
      return;
    case 'error':
      state.running = false;
      panelError.show(update.message);
      return renderRunBar();
  }
}

function run(): void {
  const sql = editor.value.trim();
  if (!sql) return editor.focus();
  state.running = true;
  renderRunBar();
  host.post({ type: 'run', sql, versions: state.pins });
}

function renderRunBar(): void {
  running.hidden = !state.running;
  summary.hidden = state.running || !state.result;
  if (state.result)
    summary.textContent = resultSummary(state.result.rows.length, state.result.truncated, state.result.elapsedMs);
  for (const control of [exportCsv, exportParquet]) control.toggleAttribute('disabled', !state.result || state.running);
}

function renderTables(): void {
  if (state.tables.length === 0) {
    tableList.replaceChildren(
      el('p', { className: 'empty muted', text: 'The lake has no tables yet. Ingest a dataset to create one.' }),
    );
    return;
  }
  tableList.replaceChildren(...state.tables.map(tableEntry));
}

function tableEntry(table: QueryTable): HTMLElement {
  const latest = table.versions[0];
  const pinned = state.pins[table.name];
  const name = el(
    'button',
    {
      className: 'table-name',
      title: `Insert ${table.name} in the query\n\n${table.columns.map((column) => `${column.name}  ${column.type}`).join('\n')}`,
    },
    icon('table'),
    el('span', { text: table.name }),
  );
  name.addEventListener('click', () => insertInEditor(sqlIdentifier(table.name)));
  const picker = document.createElement('vscode-single-select');
  picker.setAttribute('aria-label', `Version of ${table.name}`);
  picker.append(
    option('latest', latest ? `Latest (v${latest.version})` : 'Latest', pinned === undefined),
    ...table.versions.map((version) =>
      option(String(version.version), versionLabel(version), pinned === version.version),
    ),
  );
  picker.addEventListener('change', () => {
    const pins = { ...state.pins };
    if (picker.value === 'latest') delete pins[table.name];
    else pins[table.name] = Number(picker.value);
    state.pins = pins;
    entry.classList.toggle('pinned', picker.value !== 'latest');
  });
  const shown = table.versions.find((version) => version.version === pinned) ?? latest;
  const meta = el('span', {
    className: 'meta muted',
    text: `${formatCount(table.columns.length)} columns${shown ? ` · ${formatCount(shown.rows)} rows` : ''} · ${formatCount(table.versions.length)} ${table.versions.length === 1 ? 'version' : 'versions'}`,
  });
  const entry = el('div', { className: `table${pinned === undefined ? '' : ' pinned'}` }, name, picker, meta);
  entry.setAttribute('role', 'listitem');
  return entry;
}

/** Puts `text` at the cursor of the SQL editor, or at its end when it has never had the focus. */
function insertInEditor(text: string): void {
  const area = editor.wrappedElement;
  const start = state.editorFocused ? area.selectionStart : editor.value.length;
  const end = state.editorFocused ? area.selectionEnd : start;
  const inserted = insertWord(editor.value, start, end, text);
  editor.value = inserted.text;
  editor.focus();
  area.setSelectionRange(inserted.cursor, inserted.cursor);
}

host.post({ type: 'ready' });
