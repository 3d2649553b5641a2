import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageView, previousOffset } from '../../webview-ui/src/preview/paging';

test('a known length: "of N", no next page after the last, and where the last page starts', () => {
  assert.deepEqual(pageView({ offset: 0, rows: 100, pageSize: 100, totalRows: 1234 }), {
    label: 'Rows 1–100 of 1,234',
    hasPrevious: false,
    hasNext: true,
    lastOffset: 1200,
  });
  assert.deepEqual(pageView({ offset: 1200, rows: 34, pageSize: 100, totalRows: 1234 }), {
    label: 'Rows 1,201–1,234 of 1,234',
    hasPrevious: true,
    hasNext: false,
    lastOffset: 1200,
  });
  assert.equal(pageView({ offset: 0, rows: 100, pageSize: 100, totalRows: 100 }).hasNext, false);
  assert.equal(pageView({ offset: 0, rows: 100, pageSize: 100, totalRows: 200 }).lastOffset, 100);
});

test('an unknown length: a full page may have more after it, a short one is the last', () => {
  assert.deepEqual(pageView({ offset: 200, rows: 100, pageSize: 100 }), {
    label: 'Rows 201–300',
    hasPrevious: true,
    hasNext: true,
    lastOffset: undefined,
  });
  assert.equal(pageView({ offset: 300, rows: 7, pageSize: 100 }).hasNext, false);
  assert.deepEqual(pageView({ offset: 400, rows: 0, pageSize: 100 }), {
    label: 'No rows after row 400',
    hasPrevious: true,
    hasNext: false,
    lastOffset: undefined,
  });
});

test('an empty file', () => {
  assert.deepEqual(pageView({ offset: 0, rows: 0, pageSize: 100, totalRows: 0 }), {
    label: 'No rows',
    hasPrevious: false,
    hasNext: false,
    lastOffset: 0,
  });
});

test('the previous page never starts before the first row', () => {
  assert.equal(previousOffset(200, 100), 100);
  assert.equal(previousOffset(50, 100), 0);
});
