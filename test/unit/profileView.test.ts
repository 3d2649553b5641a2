import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ColumnProfile } from '../../src/datasets/contract';
import { binLabels, columnDistribution, histogramBars, topValueBars } from '../../webview-ui/src/profile/chartData';
import { columnFlags, columnStats, formatPercent, formatStat, formatTick } from '../../webview-ui/src/profile/stats';

const age: ColumnProfile = {
  name: 'age',
  type: 'INTEGER',
  nulls: 18240,
  distinct: 72,
  min: 18,
  max: 89,
  mean: 41.27,
  std: 12.9,
  quantiles: { q25: 31, q50: 40, q75: 51 },
};
const plan: ColumnProfile = { name: 'plan', type: 'VARCHAR', nulls: 0, distinct: 3, min: 'basic', max: 'premium' };

test('percentages never round a few rows to 0% or nearly all to 100%', () => {
  assert.equal(formatPercent(0, 100), '0%');
  assert.equal(formatPercent(1, 1_000_000), '<0.1%');
  assert.equal(formatPercent(18240, 1284503), '1.4%');
  assert.equal(formatPercent(50, 100), '50%');
  assert.equal(formatPercent(999_999, 1_000_000), '>99.9%');
  assert.equal(formatPercent(5, 5), '100%');
  assert.equal(formatPercent(0, 0), '0%');
});

test('statistics: thousands separators between a thousand and a billion, exponents beyond, NaN as NaN', () => {
  assert.equal(formatStat(742252), '742,252');
  assert.equal(formatStat(2283.3), '2,283.3');
  assert.equal(formatStat(421125.75), '421,126');
  assert.equal(formatStat(41.27), '41.27');
  assert.equal(formatStat(1e12), '1e+12');
  assert.equal(formatStat(null), 'NaN');
  assert.equal(formatTick(1_284_503), '1.28M');
  assert.equal(formatTick(0.25), '0.25');
});

test('a numeric column: counts, mean and std, then the five-number summary', () => {
  assert.deepEqual(columnStats(age, 1284503), [
    [
      { label: 'Nulls 1.4%', text: '18,240' },
      { label: 'Distinct', text: '72' },
      { label: 'Mean', text: '41.27' },
      { label: 'Std', text: '12.9' },
    ],
    [
      { label: 'Min', text: '18' },
      { label: '25%', text: '31' },
      { label: 'Median', text: '40' },
      { label: '75%', text: '51' },
      { label: 'Max', text: '89' },
    ],
  ]);
});

test('other columns: counts, then min and max as text', () => {
  assert.deepEqual(columnStats(plan, 10), [
    [
      { label: 'Nulls 0%', text: '0' },
      { label: 'Distinct', text: '3' },
      { label: 'Min', text: 'basic' },
      { label: 'Max', text: 'premium' },
    ],
  ]);
  assert.deepEqual(
    columnStats({ name: 'x', type: 'VARCHAR', nulls: 10, distinct: 0 }, 10)[0].map((stat) => stat.label),
    ['Nulls 100%', 'Distinct'],
  );
});

test('flags: all null, constant, unique', () => {
  assert.deepEqual(columnFlags({ ...plan, nulls: 10, distinct: 0 }, 10), ['all null']);
  assert.deepEqual(columnFlags({ ...plan, distinct: 1 }, 10), ['constant']);
  assert.deepEqual(columnFlags({ ...plan, nulls: 2, distinct: 8 }, 10), ['unique']);
  assert.deepEqual(columnFlags(plan, 10), []);
  assert.deepEqual(columnFlags({ ...plan, distinct: 1 }, 1), ['constant']);
});

test('histogram bars: short labels, intervals in the tooltips, the last one closed', () => {
  const bars = histogramBars([
    { start: 0, end: 1500, count: 3 },
    { start: 1500, end: 3000, count: 5 },
  ]);
  assert.deepEqual(bars, { labels: ['0', '1,500'], counts: [3, 5], titles: ['[0, 1,500)', '[1,500, 3,000]'] });
});

test('histogram labels: three significant digits with thousands separators, more only where neighbours would read the same', () => {
  assert.deepEqual(binLabels([0, 1234.5678, 2469.1356, 3703.7034]), ['0', '1,230', '2,470', '3,700']);
  assert.deepEqual(binLabels([0.1, 0.2, 0.30000000000000004]), ['0.1', '0.2', '0.3']);
  assert.deepEqual(binLabels([3.14159, 4.2831853, 5.4247779]), ['3.14', '4.28', '5.42']);
  assert.deepEqual(binLabels([-12_345_678, 0, 12_345_678]), ['-12,300,000', '0', '12,300,000']);
  assert.deepEqual(binLabels([2001, 2002, 2003]), ['2,001', '2,002', '2,003']);
  assert.deepEqual(binLabels([1000.1, 1000.2, 1000.3]), ['1,000.1', '1,000.2', '1,000.3']);
  assert.deepEqual(
    binLabels([-1, -0.5, 1.1e-16, 0.5]),
    ['-1', '-0.5', '0', '0.5'],
    'rounding noise beside zero is zero',
  );
  assert.deepEqual(binLabels([0.000012345, 0.000024691]), ['1.23e-5', '2.47e-5']);
  assert.deepEqual(binLabels([4.2e12, 8.4e12]), ['4.2e+12', '8.4e+12']);
  assert.deepEqual(binLabels([7]), ['7']);
  assert.deepEqual(binLabels([]), []);
});

test('a column draws a histogram, its top values, or a line saying why it draws neither', () => {
  const histogram = [{ start: 18, end: 89, count: 10 }];
  assert.equal(columnDistribution({ ...age, histogram }, 100).kind, 'histogram');
  assert.equal(
    columnDistribution({ ...age, histogram, distinct: 100, nulls: 0 }, 100).kind,
    'histogram',
    'a unique numeric column keeps its histogram',
  );
  const topValues = [
    { value: 'basic', count: 6 },
    { value: 'premium', count: 4 },
  ];
  assert.equal(columnDistribution({ ...plan, topValues }, 10).kind, 'topValues');
  const ids = [0, 1, 2].map((i) => ({ value: `id${i}`, count: 1 }));
  assert.deepEqual(columnDistribution({ ...plan, distinct: 3, topValues: ids }, 3), {
    kind: 'note',
    text: 'Every value is distinct: no value is more frequent than another.',
  });
  assert.deepEqual(columnDistribution({ ...plan, nulls: 10, distinct: 0 }, 10), {
    kind: 'note',
    text: 'Every value is NULL.',
  });
  assert.deepEqual(columnDistribution(plan, 10), { kind: 'note', text: 'No distribution for this column.' });
});

test('top values: most frequent first, at most ten, long ones shortened, empty text named', () => {
  const values = Array.from({ length: 12 }, (_, i) => ({ value: `v${i}`, count: i }));
  const bars = topValueBars([...values, { value: '', count: 100 }, { value: 'a'.repeat(40), count: 50 }]);
  assert.equal(bars.labels.length, 10);
  assert.deepEqual(bars.counts.slice(0, 3), [100, 50, 11]);
  assert.deepEqual(bars.labels.slice(0, 2), ['(empty)', `${'a'.repeat(23)}…`]);
  assert.equal(bars.titles[1], 'a'.repeat(40));
});
