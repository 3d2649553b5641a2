// Paging through a file whose length may be unknown: CSV and JSON are not counted, Parquet is.
import { formatCount } from '../shared/format';

export interface PageState {
  offset: number;
  /** Rows on this page. */
  rows: number;
  pageSize: number;
  totalRows?: number;
}

export interface PageView {
  /** "Rows 101–200 of 1,234", "Rows 101–200", "No rows". */
  label: string;
  hasPrevious: boolean;
  hasNext: boolean;
  /** Where the last page starts, when the length is known. */
  lastOffset?: number;
}

export function pageView({ offset, rows, pageSize, totalRows }: PageState): PageView {
  const of = totalRows === undefined ? '' : ` of ${formatCount(totalRows)}`;
  const label =
    rows > 0
      ? `Rows ${formatCount(offset + 1)}–${formatCount(offset + rows)}${of}`
      : offset === 0
        ? 'No rows'
        : `No rows after row ${formatCount(offset)}${of}`;
  const lastOffset =
    totalRows === undefined ? undefined : Math.max(0, Math.floor((totalRows - 1) / pageSize) * pageSize);
  return {
    label,
    hasPrevious: offset > 0,
    // Unknown length: a full page may have more after it, a short one is the end.
    hasNext: totalRows === undefined ? rows === pageSize : offset + rows < totalRows,
    lastOffset,
  };
}

export function previousOffset(offset: number, pageSize: number): number {
  return Math.max(0, offset - pageSize);
}
