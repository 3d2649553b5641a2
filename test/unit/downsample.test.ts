import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downsample } from '../../src/shared/downsample';
import type { MetricPoint } from '../../src/experiments/model';

function series(n: number, value: (i: number) => number): MetricPoint[] {
  return Array.from({ length: n }, (_, i) => ({ step: i, timestamp: 1000 + i, value: value(i) }));
}

test('short series are returned whole', () => {
  const points = series(100, Math.sin);
  assert.deepEqual(downsample(points, 2000), points);
});

test('long series fit the budget and keep the first, last, minimum and maximum points', () => {
  const points = series(1_000_000, (i) => Math.sin(i / 5000) + (i === 123_457 ? 50 : 0) + (i === 876_543 ? -50 : 0));
  const result = downsample(points, 2000);
  assert.ok(result.length <= 2000 && result.length >= 1990, `${result.length} points`);
  assert.equal(result[0].step, 0);
  assert.equal(result.at(-1)!.step, 999_999);
  assert.ok(
    result.some((p) => p.step === 123_457),
    'keeps the spike',
  );
  assert.ok(
    result.some((p) => p.step === 876_543),
    'keeps the dip',
  );
  for (let i = 1; i < result.length; i++) assert.ok(result[i].step > result[i - 1].step, 'stays in step order');
});

test('non-finite values neither break the selection nor vanish when they are selected', () => {
  const points = series(10_000, (i) => (i % 1000 === 0 ? NaN : i === 5001 ? Infinity : i));
  const result = downsample(points, 500);
  assert.ok(result.length <= 500);
  assert.ok(result.every((p) => typeof p.value === 'number'));
  assert.equal(result.at(-1)!.value, 9999);
  assert.equal(Math.max(...result.filter((p) => Number.isFinite(p.value)).map((p) => p.value)), 9999);
});
