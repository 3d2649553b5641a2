import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryTable } from '../../src/datasets/contract';
import {
  defaultQuery,
  insertWord,
  keepKnownPins,
  resultSummary,
  sqlIdentifier,
  versionLabel,
} from '../../webview-ui/src/query/queryState';

const table = (name: string, versions: number[]): QueryTable => ({
  name,
  columns: [{ name: 'id', type: 'BIGINT' }],
  versions: versions.map((version) => ({ version, createdAt: '2025-05-02T09:00:00.000Z', rows: 10 })),
});

test('table names are quoted only when SQL needs it', () => {
  assert.equal(sqlIdentifier('customers'), 'customers');
  assert.equal(sqlIdentifier('_raw2'), '_raw2');
  assert.equal(sqlIdentifier('churn features'), '"churn features"');
  assert.equal(sqlIdentifier('2024'), '"2024"');
  assert.equal(sqlIdentifier('say "hi"'), '"say ""hi"""');
});

test('the first query reads the first table', () => {
  assert.equal(defaultQuery([table('churn features', [1])]), 'SELECT *\nFROM "churn features"\nLIMIT 100;');
  assert.equal(defaultQuery([]), '');
});

test('a version is labelled with its number and creation time', () => {
  assert.match(versionLabel({ version: 3, createdAt: '2025-05-02T09:00:00.000Z', rows: 1 }), /^v3 · .*2025/);
  assert.equal(versionLabel({ version: 1, createdAt: 'yesterday', rows: 1 }), 'v1 · yesterday');
});

test('inserting a table name keeps it apart from the words around it', () => {
  assert.deepEqual(insertWord('SELECT * FROM ', 14, 14, 'customers'), { text: 'SELECT * FROM customers', cursor: 23 });
  assert.deepEqual(insertWord('GROUP BY plan', 13, 13, 'customers'), { text: 'GROUP BY plan customers', cursor: 23 });
  assert.deepEqual(insertWord('count(x)', 6, 7, 'y'), { text: 'count(y)', cursor: 7 });
  assert.deepEqual(insertWord('FROMWHERE', 4, 4, 't'), { text: 'FROM t WHERE', cursor: 6 });
  assert.deepEqual(insertWord('', 0, 0, 't'), { text: 't', cursor: 1 });
});

test('pins survive a reload of the tables only where the table and version still exist', () => {
  const tables = [table('customers', [3, 2, 1]), table('events', [1])];
  assert.deepEqual(keepKnownPins({ customers: 2, events: 1, gone: 4 }, tables), { customers: 2, events: 1 });
  assert.deepEqual(keepKnownPins({ customers: 7 }, tables), {});
});

test('the result line says how many rows, whether they were cut, and how long it took', () => {
  assert.equal(resultSummary(1, false, 5), '1 row in 5 ms');
  assert.equal(resultSummary(1234, false, 45), '1,234 rows in 45 ms');
  assert.equal(resultSummary(10_000, true, 1834), '10,000 rows (truncated at 10,000) in 1.8s');
});
