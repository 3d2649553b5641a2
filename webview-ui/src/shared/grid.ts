// The data grid of the dataset panels: column names with their types, row numbers, and only the
// rows in view in the DOM, so that 10,000 rows × 50 columns scroll smoothly. Arrow keys, Home/End
// and Page Up/Down move the active cell, Ctrl/Cmd+C copies it, and its full text shows below.
import type { DatasetColumn, GridCell } from '../../../src/datasets/contract';
import { cellView, fullText, TYPE_ICONS, typeKind, type TypeKind } from './cells';
import { icon } from './controls';
import { formatCount } from './format';
import { columnLefts, columnWidth, movedCell, visibleColumns, visibleRows, type IndexRange } from './gridLayout';
import { el } from './theme';

const ROW_HEIGHT = 24;
const HEADER_HEIGHT = 42;
/** Column widths are measured on the first rows only: measuring 10,000 would take longer than showing them. */
const SAMPLE_ROWS = 200;
const TYPE_ICON_SIZE = 12;
/** The icon and the gap before the type name. */
const TYPE_ICON_WIDTH = TYPE_ICON_SIZE + 4;

export const GRID_CSS = `
  .grid-frame {
    display: flex; flex-direction: column; min-height: 0;
    border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    border-radius: 4px; overflow: hidden;
  }
  .grid-viewport { flex: 1 1 auto; min-height: 120px; overflow: auto; position: relative; outline: none; }
  .grid-viewport:focus-visible { box-shadow: inset 0 0 0 1px var(--vscode-focusBorder); }
  .grid-header {
    display: grid; grid-template-columns: var(--grid-number-width) var(--grid-template); width: var(--grid-width);
    position: sticky; top: 0; z-index: 2; height: ${HEADER_HEIGHT}px; box-sizing: border-box;
    background: var(--vscode-editor-background);
    border-bottom: 1px solid var(--vscode-editorGroup-border, var(--vscode-panel-border));
  }
  .grid-header > div {
    display: flex; flex-direction: column; justify-content: center; gap: 1px; min-width: 0;
    padding: 0 8px; box-sizing: border-box;
    border-right: 1px solid color-mix(in srgb, var(--vscode-editorWidget-border, var(--vscode-panel-border)) 45%, transparent);
  }
  .grid-header .number { align-items: flex-end; }
  .grid-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 100%; }
  .grid-type {
    display: flex; align-items: center; gap: 4px; max-width: 100%;
    color: var(--vscode-descriptionForeground); font-size: 0.85em; white-space: nowrap; overflow: hidden;
  }
  .grid-type vscode-icon { flex: none; color: var(--vscode-descriptionForeground); }
  .grid-body { position: relative; width: var(--grid-width); }
  /* One sticky column of row numbers: a sticky cell per row would make a compositing layer each. */
  .grid-numbers {
    position: sticky; left: 0; z-index: 1; width: var(--grid-number-width); height: 100%;
    background: var(--vscode-editor-background);
    box-shadow: inset -1px 0 var(--vscode-editorWidget-border, var(--vscode-panel-border));
  }
  .grid-numbers > div {
    position: absolute; left: 0; right: 1px; height: ${ROW_HEIGHT}px; line-height: ${ROW_HEIGHT}px; padding: 0 8px; box-sizing: border-box;
    text-align: right; font-variant-numeric: tabular-nums;
    color: var(--vscode-editorLineNumber-foreground, var(--vscode-descriptionForeground));
  }
  .grid-numbers > .active { color: var(--vscode-editorLineNumber-activeForeground, var(--vscode-foreground)); }
  .grid-row { position: absolute; left: var(--grid-number-width); right: 0; height: ${ROW_HEIGHT}px; }
  .grid-row:hover > div { background: var(--vscode-list-hoverBackground); }
  .grid-row > div {
    position: absolute; top: 0; height: 100%;
    padding: 0 8px; line-height: ${ROW_HEIGHT}px; box-sizing: border-box;
    overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
    border-right: 1px solid color-mix(in srgb, var(--vscode-editorWidget-border, var(--vscode-panel-border)) 30%, transparent);
    border-bottom: 1px solid color-mix(in srgb, var(--vscode-editorWidget-border, var(--vscode-panel-border)) 30%, transparent);
    background: var(--vscode-editor-background);
  }
  .grid-row > .number { text-align: right; font-variant-numeric: tabular-nums; }
  .grid-row > .null { color: var(--vscode-disabledForeground, var(--vscode-descriptionForeground)); font-style: italic; font-size: 0.9em; letter-spacing: 0.04em; }
  .grid-header > .grid-corner {
    position: sticky; left: 0; z-index: 3; align-items: flex-end;
    color: var(--vscode-editorLineNumber-foreground, var(--vscode-descriptionForeground));
    background: var(--vscode-editor-background);
    border-right: none; box-shadow: inset -1px 0 var(--vscode-editorWidget-border, var(--vscode-panel-border));
  }
  .grid-row > .active { background: var(--vscode-list-inactiveSelectionBackground, var(--vscode-editor-inactiveSelectionBackground)); }
  .grid-viewport:focus .grid-row > .active {
    outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px;
    background: var(--vscode-list-activeSelectionBackground);
    color: var(--vscode-list-activeSelectionForeground, inherit);
  }
  .grid-empty { position: absolute; left: 0; right: 0; top: 16px; text-align: center; color: var(--vscode-descriptionForeground); }
  .grid-status {
    display: flex; gap: 8px; align-items: center; min-height: 24px; padding: 0 8px;
    border-top: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border));
    font-size: 0.92em;
  }
  .grid-status .where { color: var(--vscode-descriptionForeground); flex: none; }
  .grid-status .value { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--vscode-editor-font-family); }
  .grid-status .value.null { font-style: italic; color: var(--vscode-descriptionForeground); }
`;

function typeIcon(kind: TypeKind): HTMLElement {
  const node = icon(TYPE_ICONS[kind]);
  node.setAttribute('size', String(TYPE_ICON_SIZE));
  return node;
}

interface Cell {
  row: number;
  column: number;
}

interface RenderedRow {
  cells: HTMLElement;
  number: HTMLElement;
}

export class DataGrid {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly header = el('div', { className: 'grid-header' });
  private readonly body = el('div', { className: 'grid-body' });
  private readonly numbers = el('div', { className: 'grid-numbers' });
  private readonly where = el('span', { className: 'where' });
  private readonly value = el('span', { className: 'value' });
  private columns: DatasetColumn[] = [];
  private numeric: boolean[] = [];
  private rows: GridCell[][] = [];
  private firstRowNumber = 1;
  private numberWidth = 0;
  private widths: number[] = [];
  private lefts: number[] = [];
  /** The columns the rendered rows have cells for. */
  private shownColumns: IndexRange = { start: 0, end: 0 };
  private rendered = new Map<number, RenderedRow>();
  private active: Cell = { row: 0, column: 0 };
  private frame = 0;

  constructor(label: string) {
    this.header.setAttribute('role', 'row');
    this.numbers.setAttribute('aria-hidden', 'true');
    this.viewport = el('div', { className: 'grid-viewport' }, this.header, this.body);
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute('role', 'grid');
    this.viewport.setAttribute('aria-label', label);
    const status = el('div', { className: 'grid-status' }, this.where, this.value);
    this.element = el('div', { className: 'grid-frame' }, this.viewport, status);
    this.viewport.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    new ResizeObserver(() => this.scheduleRender()).observe(this.viewport);
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    this.body.addEventListener('mousedown', (event) => {
      const cell = this.cellAt(event.target);
      if (cell) this.activate(cell, false);
    });
    this.body.addEventListener('mouseover', (event) => this.addTooltip(event.target));
    document.addEventListener('copy', (event) => this.copy(event));
  }

  /** Shows new rows from the top; the horizontal position is kept when the columns are the same. */
  show(columns: DatasetColumn[], rows: GridCell[][], firstRowNumber = 1): void {
    const sameColumns =
      columns.length === this.columns.length &&
      columns.every((column, i) => column.name === this.columns[i].name && column.type === this.columns[i].type);
    this.columns = columns;
    this.numeric = columns.map((column) => typeKind(column.type) === 'number');
    this.rows = rows;
    this.firstRowNumber = firstRowNumber;
    this.active = {
      row: Math.min(this.active.row, Math.max(0, rows.length - 1)),
      column: sameColumns ? this.active.column : 0,
    };
    this.layout();
    this.viewport.scrollTop = 0;
    if (!sameColumns) this.viewport.scrollLeft = 0;
    this.viewport.setAttribute('aria-rowcount', String(rows.length + 1));
    this.viewport.setAttribute('aria-colcount', String(columns.length));
    this.rendered.clear();
    this.numbers.replaceChildren();
    this.body.replaceChildren(this.numbers);
    if (rows.length === 0) this.body.append(el('div', { className: 'grid-empty', text: 'No rows' }));
    this.render();
    this.showStatus();
  }

  private layout(): void {
    const context = document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
    const font = getComputedStyle(this.viewport).font;
    const measurer =
      (weight: string, scale = 1) =>
      (text: string) => {
        context.font = weight ? `${weight} ${font}` : font;
        return context.measureText(text).width * scale;
      };
    const plain = measurer('');
    const sample = this.rows.slice(0, SAMPLE_ROWS);
    this.widths = this.columns.map((column, i) =>
      Math.max(
        columnWidth([column.name], measurer('600')),
        columnWidth([column.type], (text) => measurer('', 0.85)(text) + TYPE_ICON_WIDTH),
        columnWidth(
          sample.map((row) => cellView(row[i]).text),
          plain,
        ),
      ),
    );
    const lastNumber = formatCount(this.firstRowNumber + Math.max(0, this.rows.length - 1));
    this.numberWidth = Math.ceil(Math.max(plain(lastNumber), plain('000')) + 18);
    this.lefts = columnLefts(this.widths);
    const total = this.numberWidth + this.widths.reduce((sum, width) => sum + width, 0);
    this.viewport.style.setProperty('--grid-number-width', `${this.numberWidth}px`);
    this.viewport.style.setProperty('--grid-template', this.widths.map((width) => `${width}px`).join(' '));
    this.viewport.style.setProperty('--grid-width', `${total}px`);
    this.body.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    const corner = el('div', { className: 'grid-corner', text: '#' });
    corner.setAttribute('aria-hidden', 'true');
    this.header.replaceChildren(
      corner,
      ...this.columns.map((column, i) => {
        const kind = typeKind(column.type);
        const head = el(
          'div',
          { className: this.numeric[i] ? 'number' : '' },
          el('span', { className: 'grid-name', text: column.name, title: column.name }),
          el('span', { className: 'grid-type', title: column.type }, typeIcon(kind), column.type),
        );
        head.setAttribute('role', 'columnheader');
        return head;
      }),
    );
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /**
   * Adds the rows that came into view and removes those that left it. Rows hold cells for the
   * columns in view only: when other columns come into view, every row is built again.
   */
  private render(): void {
    const { start, end } = visibleRows(
      this.viewport.scrollTop,
      this.viewport.clientHeight - HEADER_HEIGHT,
      ROW_HEIGHT,
      this.rows.length,
    );
    const columns = visibleColumns(
      this.lefts,
      this.widths,
      this.viewport.scrollLeft,
      this.viewport.clientWidth - this.numberWidth,
    );
    const newColumns = columns.start !== this.shownColumns.start || columns.end !== this.shownColumns.end;
    this.shownColumns = columns;
    for (const [index, row] of this.rendered) {
      if (newColumns || index < start || index >= end) {
        row.cells.remove();
        row.number.remove();
        this.rendered.delete(index);
      }
    }
    const cells: HTMLElement[] = [];
    const numbers: HTMLElement[] = [];
    for (let index = start; index < end; index++) {
      if (this.rendered.has(index)) continue;
      const row = this.renderRow(index);
      this.rendered.set(index, row);
      cells.push(row.cells);
      numbers.push(row.number);
    }
    this.body.append(...cells);
    this.numbers.append(...numbers);
  }

  private renderRow(index: number): RenderedRow {
    const top = `${index * ROW_HEIGHT}px`;
    const number = el('div', { text: formatCount(this.firstRowNumber + index) });
    number.style.top = top;
    const values = this.rows[index];
    const cells = el('div', { className: 'grid-row' });
    for (let column = this.shownColumns.start; column < this.shownColumns.end; column++) {
      const view = cellView(values[column]);
      const cell = el('div', { text: view.text });
      cell.setAttribute('role', 'gridcell');
      cell.setAttribute('aria-colindex', String(column + 1));
      cell.style.left = `${this.lefts[column]}px`;
      cell.style.width = `${this.widths[column]}px`;
      if (this.numeric[column]) cell.classList.add('number');
      if (view.isNull) cell.classList.add('null');
      cells.append(cell);
    }
    cells.setAttribute('role', 'row');
    cells.setAttribute('aria-rowindex', String(index + 2));
    cells.dataset.row = String(index);
    cells.style.top = top;
    const row = { cells, number };
    if (index === this.active.row) this.markActive(row);
    return row;
  }

  private cellAt(target: EventTarget | null): (Cell & { element: HTMLElement }) | undefined {
    const element = (target as HTMLElement | null)?.closest<HTMLElement>('[role="gridcell"]');
    const row = element?.parentElement;
    if (!element || !row?.dataset.row) return undefined;
    return {
      row: Number(row.dataset.row),
      column: this.shownColumns.start + Array.prototype.indexOf.call(row.children, element),
      element,
    };
  }

  /** A cell whose text does not fit gets its full text as a tooltip, worked out only when hovered. */
  private addTooltip(target: EventTarget | null): void {
    const cell = this.cellAt(target);
    if (!cell || cell.element.title) return;
    const text = fullText(this.rows[cell.row][cell.column]);
    if (cell.element.scrollWidth > cell.element.clientWidth || cell.element.textContent !== text)
      cell.element.title = text;
  }

  private onKey(event: KeyboardEvent): void {
    if (this.rows.length === 0 || this.columns.length === 0) return;
    const pageRows = Math.max(1, Math.floor((this.viewport.clientHeight - HEADER_HEIGHT) / ROW_HEIGHT) - 1);
    const next = movedCell(event.key, event.ctrlKey || event.metaKey, this.active, {
      rows: this.rows.length,
      columns: this.columns.length,
      pageRows,
    });
    if (!next) return;
    event.preventDefault();
    this.activate(next, true);
  }

  private activate(cell: Cell, reveal: boolean): void {
    const previous = this.rendered.get(this.active.row);
    previous?.number.classList.remove('active');
    previous?.cells.children[this.active.column - this.shownColumns.start]?.classList.remove('active');
    this.active = { row: cell.row, column: cell.column };
    const current = this.rendered.get(cell.row);
    if (current) this.markActive(current);
    if (reveal) this.reveal(cell);
    this.showStatus();
  }

  private markActive(row: RenderedRow): void {
    const cell = row.cells.children[this.active.column - this.shownColumns.start];
    row.number.classList.add('active');
    if (!cell) return;
    this.body.querySelector('#grid-active-cell')?.removeAttribute('id');
    cell.classList.add('active');
    cell.id = 'grid-active-cell';
    this.viewport.setAttribute('aria-activedescendant', cell.id);
  }

  private reveal(cell: Cell): void {
    const top = cell.row * ROW_HEIGHT;
    const height = this.viewport.clientHeight - HEADER_HEIGHT;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > this.viewport.scrollTop + height) this.viewport.scrollTop = top + ROW_HEIGHT - height;
    const left = this.lefts[cell.column];
    const right = this.numberWidth + left + this.widths[cell.column];
    if (left < this.viewport.scrollLeft) this.viewport.scrollLeft = left;
    else if (right > this.viewport.scrollLeft + this.viewport.clientWidth)
      this.viewport.scrollLeft = right - this.viewport.clientWidth;
    this.render();
  }

  private showStatus(): void {
    const column = this.columns[this.active.column];
    const value = this.rows[this.active.row]?.[this.active.column];
    if (!column || value === undefined) {
      this.where.textContent = '';
      this.value.textContent = '';
      return;
    }
    this.where.textContent = `Row ${formatCount(this.firstRowNumber + this.active.row)} · ${column.name}`;
    const text = fullText(value);
    this.value.textContent = text;
    this.value.title = text;
    this.value.classList.toggle('null', value === null);
  }

  private copy(event: ClipboardEvent): void {
    if (document.activeElement !== this.viewport || !document.getSelection()?.isCollapsed) return;
    const value = this.rows[this.active.row]?.[this.active.column];
    if (value === undefined || !event.clipboardData) return;
    event.clipboardData.setData('text/plain', value === null ? '' : String(value));
    event.preventDefault();
  }
}
