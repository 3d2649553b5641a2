import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { PreviewRequest, ProfileRequest, QueryRequest } from '../../src/datasets/contract';

const valid = (schema: v.GenericSchema, message: unknown) => v.safeParse(schema, message).success;

test('preview: a page is asked by a whole, non-negative offset', () => {
  assert.ok(valid(PreviewRequest, { type: 'ready' }));
  assert.ok(valid(PreviewRequest, { type: 'page', offset: 200 }));
  for (const offset of [-100, 1.5, '100', Number.NaN, 2 ** 60])
    assert.equal(valid(PreviewRequest, { type: 'page', offset }), false, String(offset));
});

test('profile: cancel, rerun and export as JSON or CSV only', () => {
  for (const message of [
    { type: 'ready' },
    { type: 'cancel' },
    { type: 'rerun' },
    { type: 'export', format: 'json' },
    { type: 'export', format: 'csv' },
  ]) {
    assert.ok(valid(ProfileRequest, message), JSON.stringify(message));
  }
  assert.equal(valid(ProfileRequest, { type: 'export', format: 'xlsx' }), false);
});

test('query: SQL with pinned versions, within size limits', () => {
  assert.ok(valid(QueryRequest, { type: 'run', sql: 'SELECT 1', versions: {} }));
  assert.ok(
    valid(QueryRequest, {
      type: 'run',
      sql: 'SELECT * FROM "churn features"',
      versions: { 'churn features': 3, customers: 1 },
    }),
  );
  assert.ok(valid(QueryRequest, { type: 'export', format: 'parquet' }));
  const rejected = [
    { type: 'run', sql: '', versions: {} },
    { type: 'run', sql: 'x'.repeat(100_001), versions: {} },
    { type: 'run', sql: 'SELECT 1', versions: { customers: 1.5 } },
    { type: 'run', sql: 'SELECT 1', versions: { customers: -1 } },
    { type: 'run', sql: 'SELECT 1', versions: { ['t'.repeat(257)]: 1 } },
    {
      type: 'run',
      sql: 'SELECT 1',
      versions: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, 1])),
    },
    { type: 'run', sql: 'SELECT 1' },
    { type: 'export', format: 'xlsx' },
    { type: 'dropTable' },
  ];
  for (const message of rejected)
    assert.equal(valid(QueryRequest, message), false, JSON.stringify(message).slice(0, 80));
});
