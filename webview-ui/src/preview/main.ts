// The Preview panel: a dataset file one page at a time, in the shared data grid.
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import {
  PREVIEW_PAGE_SIZE,
  type DatasetFile,
  type PreviewRequest,
  type PreviewUpdate,
} from '../../../src/datasets/contract';
import { button, CONTROLS_CSS, errorBanner } from '../shared/controls';
import { DataGrid, GRID_CSS } from '../shared/grid';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { pageView, previousOffset } from './paging';

applyTheme(`${CONTROLS_CSS}${GRID_CSS}
  body { height: 100vh; box-sizing: border-box; }
  #app { display: flex; flex-direction: column; height: 100%; }
  #app > * { flex: none; }
  h1 { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .lead { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .pager { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
  .range { margin-left: 8px; font-variant-numeric: tabular-nums; }
  .pager vscode-progress-ring { width: 16px; height: 16px; margin-left: 4px; }
  #app > .grid-frame { flex: 1 1 0; }
  .grid-frame.busy { opacity: 0.6; }
`);

const state = {
  file: undefined as DatasetFile | undefined,
  offset: 0,
  view: pageView({ offset: 0, rows: 0, pageSize: PREVIEW_PAGE_SIZE }),
  loading: false,
};

const host = connectToHost<PreviewRequest, PreviewUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const title = el('h1', { text: 'Preview' });
const lead = el('p', { className: 'lead' });
const first = button('First', 'arrow-left', 'First page');
const previous = button('Previous', 'chevron-left', 'Previous page');
const next = forwardButton('Next', 'chevron-right', 'Next page');
const last = forwardButton('Last', 'arrow-right', 'Last page');
const range = el('span', { className: 'range muted', text: '' });
const spinner = document.createElement('vscode-progress-ring');
spinner.setAttribute('aria-label', 'Reading the page');
const error = errorBanner();
const grid = new DataGrid('Rows of the dataset');
grid.element.hidden = true;

first.addEventListener('click', () => requestPage(0));
previous.addEventListener('click', () => requestPage(previousOffset(state.offset, PREVIEW_PAGE_SIZE)));
next.addEventListener('click', () => requestPage(state.offset + PREVIEW_PAGE_SIZE));
last.addEventListener('click', () => state.view.lastOffset !== undefined && requestPage(state.view.lastOffset));

app.append(
  title,
  lead,
  el('div', { className: 'toolbar pager' }, first, previous, next, last, range, spinner),
  error.element,
  grid.element,
);
renderPager();

function receive(update: PreviewUpdate): void {
  app.setAttribute('aria-busy', 'false');
  showFile(update.file);
  switch (update.type) {
    case 'open':
      return requestPage(update.offset);
    case 'page':
      state.loading = false;
      state.offset = update.offset;
      state.view = pageView({
        offset: update.offset,
        rows: update.rows.length,
        pageSize: PREVIEW_PAGE_SIZE,
        totalRows: update.totalRows,
      });
      error.hide();
      grid.element.hidden = false;
      grid.show(update.columns, update.rows, update.offset + 1);
      return renderPager();
    case 'error':
      state.loading = false;
      error.show(update.message);
      return renderPager();
  }
}

/** A button with its icon after the text, pointing where it goes. */
function forwardButton(text: string, iconName: string, title: string): HTMLElement {
  const node = document.createElement('vscode-button');
  node.setAttribute('secondary', '');
  node.setAttribute('icon-after', iconName);
  node.textContent = text;
  node.title = title;
  return node;
}

function showFile(file: DatasetFile): void {
  if (state.file?.path === file.path) return;
  state.file = file;
  title.textContent = file.name;
  title.title = file.name;
  lead.textContent = file.path;
  lead.title = file.path;
}

function requestPage(offset: number): void {
  state.loading = true;
  renderPager();
  host.post({ type: 'page', offset });
}

function renderPager(): void {
  const { view, loading } = state;
  const enable = (control: HTMLElement, enabled: boolean) => control.toggleAttribute('disabled', !enabled);
  enable(first, view.hasPrevious);
  enable(previous, view.hasPrevious);
  enable(next, view.hasNext);
  enable(last, view.lastOffset !== undefined && view.lastOffset > state.offset);
  last.hidden = view.lastOffset === undefined;
  range.textContent = grid.element.hidden ? '' : view.label;
  spinner.hidden = !loading;
  grid.element.classList.toggle('busy', loading);
}

host.post({ type: 'ready' });
