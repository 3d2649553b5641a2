import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distinctCount, histogramBins, planColumns, sampleFraction } from '../../src/datasets/profileSql';

test('numeric columns get 30 equal-width bins from min to max', () => {
  const bins = histogramBins('DOUBLE', 0, 30);
  assert.equal(bins.length, 30);
  assert.deepEqual(bins[0], { start: 0, end: 1, bound: 1 });
  assert.deepEqual(bins[29], { start: 29, end: 30, bound: 30 });
});

test('an integer column with a short range gets one bin per value', () => {
  const bins = histogramBins('BIGINT', 1, 12);
  assert.equal(bins.length, 12);
  assert.deepEqual(bins[0], { start: 1, end: 2, bound: 1 });
  assert.deepEqual(bins[11], { start: 12, end: 13, bound: 12 });
  assert.equal(histogramBins('INTEGER', 0, 1000).length, 30);
});

test('a constant column has one bin', () => {
  assert.deepEqual(histogramBins('DOUBLE', 5, 5), [{ start: 5, end: 5, bound: 5 }]);
});

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
    plans.map((p) => [p.numeric, p.expr]),
    [
      [true, '"amount"'],
      [true, '"n"'],
      [false, '"day"'],
      [false, 'CAST("tags" AS VARCHAR)'],
      [false, 'CAST("meta" AS VARCHAR)'],
      [false, '"say ""hi"""'],
    ],
  );
});
