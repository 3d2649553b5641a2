// How the grids show cells and column types: numbers right-aligned, NULL set apart from text,
// long texts cut to one line with the full text kept for the tooltip.
import type { GridCell } from '../../../src/datasets/contract';

export type TypeKind = 'number' | 'text' | 'temporal' | 'boolean' | 'nested' | 'other';

const KINDS: [RegExp, TypeKind][] = [
  [/\[\]$|^(LIST|STRUCT|MAP|UNION|ARRAY)\b/, 'nested'],
  [
    /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)\b/,
    'number',
  ],
  [/^(VARCHAR|TEXT|STRING|CHAR|BPCHAR|UUID|ENUM|JSON)\b/, 'text'],
  [/^(DATE|TIME|TIMESTAMP|INTERVAL)/, 'temporal'],
  [/^(BOOLEAN|BOOL)\b/, 'boolean'],
];

/** The kind of a DuckDB type name (`DECIMAL(10,2)`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`, ...). */
export function typeKind(type: string): TypeKind {
  const upper = type.trim().toUpperCase();
  return KINDS.find(([pattern]) => pattern.test(upper))?.[1] ?? 'other';
}

export const TYPE_ICONS: Record<TypeKind, string> = {
  number: 'symbol-number',
  text: 'symbol-string',
  temporal: 'calendar',
  boolean: 'symbol-boolean',
  nested: 'symbol-structure',
  other: 'symbol-field',
};

/** A cell keeps this many characters on screen; the tooltip has the rest. */
export const MAX_SHOWN_CHARS = 300;

export interface CellView {
  text: string;
  isNull: boolean;
}

export function fullText(cell: GridCell): string {
  return cell === null ? 'NULL' : String(cell);
}

/** One line: line breaks show as ↵, and texts past MAX_SHOWN_CHARS are cut with an ellipsis. */
export function cellView(cell: GridCell): CellView {
  if (cell === null) return { text: 'NULL', isNull: true };
  const text = String(cell);
  const shown = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
  return { text: shown.replace(/\r?\n|\r/g, '↵'), isNull: false };
}
