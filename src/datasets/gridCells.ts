// Cells of previews and query results, as the webviews show them and as CSV writes them. DuckDB
// gives bigints, dates, decimals, lists and structs, none of which JSON carries as they are.
import { csvLine } from '../shared/csv';
import type { GridCell } from './contract';
import type { Column } from './model';

/** Longer texts are cut before they cross into a webview: a cell shows one line, its tooltip a few screens. */
export const MAX_CELL_CHARS = 10_000;

/** The full text of a value as DuckDB would print it; null for SQL NULL. */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array)
    return Array.from(value, (byte) => `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? String(item) : item));
  // DuckDB's value classes (timestamps, decimals, lists, structs, ...) print themselves as DuckDB does.
  return String(value);
}

export function toGridCell(value: unknown): GridCell {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  const text = cellText(value);
  return text === null || text.length <= MAX_CELL_CHARS ? text : `${text.slice(0, MAX_CELL_CHARS)}…`;
}

export function toGridRows(rows: readonly (readonly unknown[])[]): GridCell[][] {
  return rows.map((row) => row.map(toGridCell));
}

/** The rows as CSV with a header line; NULL is an empty field, values are written in full. */
export function rowsCsv(columns: readonly Column[], rows: readonly (readonly unknown[])[]): string {
  return csvLine(columns.map((column) => column.name)) + rows.map((row) => csvLine(row.map(cellText))).join('');
}
