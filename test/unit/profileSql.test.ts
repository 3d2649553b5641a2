import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distinctCount, planColumns, sampleFraction, statsBatches, STATS_BATCH } from '../../src/datasets/profileSql';

test('files up to the sample size are read whole; bigger ones are sampled to about 50 MB or 5 million values', () => {
  assert.equal(sampleFraction({ bytes: 1000 }), 1);
  assert.equal(sampleFraction({ bytes: 50_000_000 }), 1);
  assert.equal(sampleFraction({ bytes: 1_000_000_000 }), 0.05);
  assert.equal(sampleFraction({ rows: 100_000, columns: 10 }), 1);
  assert.equal(sampleFraction({ rows: 10_000_000, columns: 10 }), 0.05);
  // Many columns: fewer rows, so the sample stays within its number of values.
  assert.equal(sampleFraction({ rows: 10_000_000, columns: 100 }), 0.005);
});

test("the sample's distinct count replaces HyperLogLog's when the sample has seen about as many", () => {
  assert.equal(distinctCount(9, 8), 8);
  assert.equal(distinctCount(1654, 1500), 1500);
  assert.equal(distinctCount(9_008_951, 478_521), 9_008_951);
});

test('numbers are numeric; lists, structs and JSON are read as text', () => {
  const plans = planColumns([
    { name: 'amount', type: 'DECIMAL(18,3)' },
    { name: 'n', type: 'UBIGINT' },
    { name: 'day', type: 'DATE' },
    { name: 'tags', type: 'VARCHAR[]' },
    { name: 'meta', type: 'STRUCT(a INTEGER)' },
    { name: 'say "hi"', type: 'VARCHAR' },
  ]);
  assert.deepEqual(
    plans.map((p) => [p.numeric, p.expr, p.sampleType]),
    [
      [true, '"amount"', 'DECIMAL(18,3)'],
      [true, '"n"', 'UBIGINT'],
      [false, '"day"', 'DATE'],
      [false, 'CAST("tags" AS VARCHAR)', 'VARCHAR'],
      [false, 'CAST("meta" AS VARCHAR)', 'VARCHAR'],
      [false, '"say ""hi"""', 'VARCHAR'],
    ],
  );
});

test('the exact statistics of a wide file are computed in batches of columns, every column in one batch', () => {
  const plans = planColumns(Array.from({ length: 2 * STATS_BATCH + 1 }, (_, i) => ({ name: `c${i}`, type: 'DOUBLE' })));
  const batches = statsBatches(plans);
  assert.deepEqual(
    batches.map((batch) => batch.length),
    [STATS_BATCH, STATS_BATCH, 1],
  );
  assert.deepEqual(
    batches.flat().map((plan) => plan.index),
    plans.map((_, i) => i),
  );
});
