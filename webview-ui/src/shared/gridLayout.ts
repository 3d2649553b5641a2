// The geometry of the virtual grid: which rows and columns are in view, and how wide each column is.

/** Rows or columns to render: from `start` to one before `end`. */
export interface IndexRange {
  start: number;
  end: number;
}

/** The rows that intersect the viewport, with `overscan` more on each side so that scrolling shows no gap. */
export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan = 10,
): IndexRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewportHeight)) / rowHeight);
  return { start: Math.max(0, Math.min(rowCount, first - overscan)), end: Math.min(rowCount, last + overscan) };
}

/** Where each column starts, from the left of the first one. */
export function columnLefts(widths: readonly number[]): number[] {
  let left = 0;
  return widths.map((width) => {
    const start = left;
    left += width;
    return start;
  });
}

/** The columns that intersect [scrollLeft, scrollLeft + viewportWidth), with `overscan` more on each side. */
export function visibleColumns(
  lefts: readonly number[],
  widths: readonly number[],
  scrollLeft: number,
  viewportWidth: number,
  overscan = 2,
): IndexRange {
  const right = scrollLeft + viewportWidth;
  let first = 0;
  while (first < lefts.length - 1 && lefts[first] + widths[first] <= scrollLeft) first++;
  let last = first;
  while (last < lefts.length && lefts[last] < right) last++;
  return { start: Math.max(0, first - overscan), end: Math.min(lefts.length, Math.max(last, first + 1) + overscan) };
}

export interface WidthBounds {
  min: number;
  max: number;
  /** Added to the widest text: the cell's padding. */
  padding: number;
}

export const COLUMN_BOUNDS: WidthBounds = { min: 64, max: 320, padding: 20 };

/** Wide enough for the widest of `texts`, within the bounds; wider texts are cut with an ellipsis. */
export function columnWidth(
  texts: Iterable<string>,
  measure: (text: string) => number,
  bounds: WidthBounds = COLUMN_BOUNDS,
): number {
  let widest = 0;
  for (const text of texts) {
    widest = Math.max(widest, measure(text));
    if (widest + bounds.padding >= bounds.max) return bounds.max;
  }
  return Math.max(bounds.min, Math.ceil(widest + bounds.padding));
}

/** The cell to make active after a key press, or undefined when the key does not move it. */
export function movedCell(
  key: string,
  ctrl: boolean,
  cell: { row: number; column: number },
  size: { rows: number; columns: number; pageRows: number },
): { row: number; column: number } | undefined {
  const clampRow = (row: number) => Math.max(0, Math.min(size.rows - 1, row));
  const clampColumn = (column: number) => Math.max(0, Math.min(size.columns - 1, column));
  switch (key) {
    case 'ArrowUp':
      return { row: clampRow(cell.row - 1), column: cell.column };
    case 'ArrowDown':
      return { row: clampRow(cell.row + 1), column: cell.column };
    case 'ArrowLeft':
      return { row: cell.row, column: clampColumn(cell.column - 1) };
    case 'ArrowRight':
      return { row: cell.row, column: clampColumn(cell.column + 1) };
    case 'PageUp':
      return { row: clampRow(cell.row - size.pageRows), column: cell.column };
    case 'PageDown':
      return { row: clampRow(cell.row + size.pageRows), column: cell.column };
    case 'Home':
      return ctrl ? { row: 0, column: cell.column } : { row: cell.row, column: 0 };
    case 'End':
      return ctrl
        ? { row: clampRow(size.rows - 1), column: cell.column }
        : { row: cell.row, column: clampColumn(size.columns - 1) };
    default:
      return undefined;
  }
}
