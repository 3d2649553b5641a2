import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellText, MAX_CELL_CHARS, rowsCsv, toGridCell, toGridRows } from '../../src/datasets/gridCells';

class FakeDuckDbTimestamp {
  toString() {
    return '2025-05-02 09:00:00';
  }
}

test('cells that JSON carries as they are stay as they are', () => {
  assert.deepEqual(toGridRows([[1, 'a', true, null, -0.5]]), [[1, 'a', true, null, -0.5]]);
  assert.equal(toGridCell(undefined), null);
});

test('NaN, infinities, big integers and dates become their text', () => {
  assert.equal(toGridCell(Number.NaN), 'NaN');
  assert.equal(toGridCell(Number.NEGATIVE_INFINITY), '-Infinity');
  assert.equal(toGridCell(42n), 42);
  assert.equal(toGridCell(2n ** 53n + 1n), '9007199254740993');
  assert.equal(toGridCell(-(2n ** 63n)), '-9223372036854775808');
  assert.equal(toGridCell(new Date(Date.UTC(2025, 0, 2, 3, 4, 5))), '2025-01-02T03:04:05.000Z');
});

test('DuckDB values print as DuckDB prints them; lists, structs and blobs have a readable text', () => {
  assert.equal(toGridCell(new FakeDuckDbTimestamp()), '2025-05-02 09:00:00');
  assert.equal(toGridCell([1, 2n, 'x']), '[1,"2","x"]');
  assert.equal(toGridCell({ a: 1, b: null }), '{"a":1,"b":null}');
  assert.equal(toGridCell(new Uint8Array([0, 171, 255])), '\\x00\\xAB\\xFF');
});

test('long texts are cut before they cross into the webview, never in CSV', () => {
  const long = 'x'.repeat(MAX_CELL_CHARS + 10);
  const cell = toGridCell(long) as string;
  assert.equal(cell.length, MAX_CELL_CHARS + 1);
  assert.ok(cell.endsWith('…'));
  assert.equal(cellText(long), long);
});

test('rows as CSV: a header, NULL as an empty field, quoting where needed, values in full', () => {
  const columns = [
    { name: 'id', type: 'BIGINT' },
    { name: 'note, text', type: 'VARCHAR' },
    { name: 'score', type: 'DOUBLE' },
  ];
  const csv = rowsCsv(columns, [
    [1n, 'said "hi"', 0.5],
    [2n ** 60n, null, Number.NaN],
  ]);
  assert.equal(csv, 'id,"note, text",score\r\n1,"said ""hi""",0.5\r\n1152921504606846976,,NaN\r\n');
});
