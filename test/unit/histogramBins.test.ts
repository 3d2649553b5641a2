import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramBins, scaleCounts } from '../../src/datasets/histogramBins';

/** The bins hold every value from min to max, edge to edge, with no gap and no overlap. */
function assertContiguous(bins: { start: number; end: number }[], min: number, max: number): void {
  assert.ok(bins[0].start <= min, `first bin starts at ${bins[0].start}, after the minimum ${min}`);
  assert.ok(
    bins[bins.length - 1].end >= max,
    `last bin ends at ${bins[bins.length - 1].end}, before the maximum ${max}`,
  );
  bins
    .slice(1)
    .forEach((bin, k) => assert.equal(bin.start, bins[k].end, `bin ${k + 1} does not start where bin ${k} ends`));
  bins.forEach((bin) => assert.ok(bin.end > bin.start, `empty bin ${JSON.stringify(bin)}`));
}

test('an integer column with a short range gets one bin per value', () => {
  const bins = histogramBins('BIGINT', 1, 12);
  assert.equal(bins.length, 12);
  assert.deepEqual(bins[0], { start: 1, end: 2 });
  assert.deepEqual(bins[11], { start: 12, end: 13 });
  assert.deepEqual(
    histogramBins('INTEGER', 0, 9).map((b) => b.start),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test("an integer column's wider range gets whole, round steps, each bin holding as many integers", () => {
  // The demo's tenure_months: 1 to 72 months.
  const tenure = histogramBins('BIGINT', 1, 72);
  assert.deepEqual(tenure[0], { start: 0, end: 5 });
  assert.deepEqual(tenure[1], { start: 5, end: 10 }, '4 and 5 months are in the first two bins, [0, 5) and [5, 10)');
  assert.deepEqual(tenure[tenure.length - 1], { start: 70, end: 75 });
  assertContiguous(tenure, 1, 72);
  const thousand = histogramBins('INTEGER', 0, 1000);
  assert.deepEqual(
    [thousand.length, thousand[0], thousand[20]],
    [21, { start: 0, end: 50 }, { start: 1000, end: 1050 }],
    'the maximum is in a bin of its own width',
  );
  for (const [min, max] of [
    [-7, 1234],
    [3, 33],
    [1e12, 1e12 + 987_654],
    [-1, 0],
  ]) {
    const bins = histogramBins('BIGINT', min, max);
    assertContiguous(bins, min, max);
    assert.ok(bins.length <= 32, `${bins.length} bins for ${min}..${max}`);
    for (const bin of bins)
      assert.ok(
        Number.isInteger(bin.start) && Number.isInteger(bin.end),
        `bin ${JSON.stringify(bin)} is not on integers`,
      );
    assert.ok(bins[bins.length - 1].end > max, 'an integer bin holds its start but not its end');
  }
});

test('a float column gets round edges, the last bin closed on the maximum', () => {
  const charges = histogramBins('DOUBLE', 18.19, 118);
  assert.deepEqual(
    [charges[0], charges[charges.length - 1]],
    [
      { start: 15, end: 20 },
      { start: 115, end: 120 },
    ],
  );
  const unit = histogramBins('DOUBLE', 0, 1);
  assert.deepEqual([unit.length, unit[unit.length - 1]], [20, { start: 0.95, end: 1 }]);
  // Edges read as the text of a file reads: 0.3 is the double a CSV's "0.3" becomes.
  assert.ok(histogramBins('DOUBLE', 0.1, 0.3).some((bin) => bin.start === 0.29 && bin.end === 0.3));
  assert.ok(histogramBins('DOUBLE', 0, 3).some((bin) => bin.start === 0.3));
  for (const [min, max] of [
    [-3.2, 4.1],
    [1e-9, 3e-9],
    [0.001, 1e6],
    [1e20, 1e20 + 1e6],
    [-1e300, 1e300],
  ]) {
    const bins = histogramBins('DOUBLE', min, max);
    assertContiguous(bins, min, max);
    assert.ok(bins.length >= 10 && bins.length <= 31, `${bins.length} bins for ${min}..${max}`);
  }
});

test('a single-value column has one bin', () => {
  assert.deepEqual(histogramBins('DOUBLE', 5, 5), [{ start: 5, end: 5 }]);
  assert.deepEqual(histogramBins('BIGINT', 0, 0), [{ start: 0, end: 0 }]);
});

test('counts scaled from a sample still add up to the total', () => {
  assert.deepEqual(scaleCounts([1, 1, 1], 10), [4, 3, 3]);
  assert.deepEqual(scaleCounts([5, 0, 3], 8), [5, 0, 3], 'a whole sample is left as it is');
  for (const counts of [
    [3, 7, 11, 0, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [999, 1],
  ]) {
    for (const total of [13, 1000, 1_999_999])
      assert.equal(
        scaleCounts(counts, total).reduce((a, b) => a + b, 0),
        total,
      );
  }
  assert.deepEqual(scaleCounts([0, 0], 0), [0, 0]);
});
