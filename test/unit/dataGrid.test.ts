import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellView, fullText, MAX_SHOWN_CHARS, typeKind } from '../../webview-ui/src/shared/cells';
import {
  columnLefts,
  columnWidth,
  movedCell,
  visibleColumns,
  visibleRows,
} from '../../webview-ui/src/shared/gridLayout';

test('DuckDB type names by kind', () => {
  const kinds = {
    BIGINT: 'number',
    'DECIMAL(10,2)': 'number',
    double: 'number',
    UHUGEINT: 'number',
    VARCHAR: 'text',
    UUID: 'text',
    DATE: 'temporal',
    'TIMESTAMP WITH TIME ZONE': 'temporal',
    TIMESTAMP_NS: 'temporal',
    INTERVAL: 'temporal',
    BOOLEAN: 'boolean',
    'INTEGER[]': 'nested',
    'STRUCT(a INTEGER)': 'nested',
    'MAP(VARCHAR, INTEGER)': 'nested',
    BLOB: 'other',
  };
  for (const [type, kind] of Object.entries(kinds)) assert.equal(typeKind(type), kind, type);
});

test('cells: NULL set apart from the text "NULL", line breaks shown, long texts cut', () => {
  assert.deepEqual(cellView(null), { text: 'NULL', isNull: true });
  assert.deepEqual(cellView('NULL'), { text: 'NULL', isNull: false });
  assert.deepEqual(cellView(1.5), { text: '1.5', isNull: false });
  assert.deepEqual(cellView(false), { text: 'false', isNull: false });
  assert.equal(cellView('a\nb\r\nc').text, 'a↵b↵c');
  const long = 'y'.repeat(MAX_SHOWN_CHARS * 2);
  assert.equal(cellView(long).text.length, MAX_SHOWN_CHARS + 1);
  assert.equal(fullText(long), long);
  assert.equal(fullText(null), 'NULL');
});

test('visible rows: those in the viewport, with overscan, within the rows there are', () => {
  assert.deepEqual(visibleRows(0, 240, 24, 10_000, 5), { start: 0, end: 15 });
  assert.deepEqual(visibleRows(2400, 240, 24, 10_000, 5), { start: 95, end: 115 });
  assert.deepEqual(visibleRows(239_900, 240, 24, 10_000, 5), { start: 9990, end: 10_000 });
  assert.deepEqual(visibleRows(0, 240, 24, 0), { start: 0, end: 0 });
});

test('visible columns: those under the viewport, with overscan', () => {
  const widths = [100, 100, 100, 100, 100, 100];
  const lefts = columnLefts(widths);
  assert.deepEqual(lefts, [0, 100, 200, 300, 400, 500]);
  assert.deepEqual(visibleColumns(lefts, widths, 0, 250, 0), { start: 0, end: 3 });
  assert.deepEqual(visibleColumns(lefts, widths, 150, 100, 0), { start: 1, end: 3 });
  assert.deepEqual(visibleColumns(lefts, widths, 150, 100, 1), { start: 0, end: 4 });
  assert.deepEqual(visibleColumns(lefts, widths, 0, 5000, 2), { start: 0, end: 6 });
  assert.deepEqual(visibleColumns([], [], 0, 500), { start: 0, end: 0 });
});

test('a column is as wide as its widest text, within bounds', () => {
  const measure = (text: string) => text.length * 7;
  const bounds = { min: 64, max: 320, padding: 20 };
  assert.equal(columnWidth(['id', '7'], measure, bounds), 64);
  assert.equal(columnWidth(['customer_email_address'], measure, bounds), 22 * 7 + 20);
  assert.equal(columnWidth(['x'.repeat(200)], measure, bounds), 320);
});

test('keys move the active cell and stop at the edges', () => {
  const size = { rows: 100, columns: 5, pageRows: 20 };
  const at = { row: 10, column: 2 };
  assert.deepEqual(movedCell('ArrowDown', false, at, size), { row: 11, column: 2 });
  assert.deepEqual(movedCell('ArrowLeft', false, { row: 0, column: 0 }, size), { row: 0, column: 0 });
  assert.deepEqual(movedCell('PageDown', false, { row: 90, column: 2 }, size), { row: 99, column: 2 });
  assert.deepEqual(movedCell('PageUp', false, at, size), { row: 0, column: 2 });
  assert.deepEqual(movedCell('Home', false, at, size), { row: 10, column: 0 });
  assert.deepEqual(movedCell('End', false, at, size), { row: 10, column: 4 });
  assert.deepEqual(movedCell('Home', true, at, size), { row: 0, column: 2 });
  assert.deepEqual(movedCell('End', true, at, size), { row: 99, column: 2 });
  assert.equal(movedCell('a', false, at, size), undefined);
});
