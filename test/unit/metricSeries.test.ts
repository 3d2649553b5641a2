import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChartPoint, MetricSeries } from '../../src/experiments/contract';
import { downsamplingNote, runOrigins, toLines, type LineOptions } from '../../webview-ui/src/metrics/series';

const at = (step: number, timestamp: number, value: number | null): ChartPoint => ({
  step,
  timestamp,
  value: value as number,
});
const plain: LineOptions = { xAxis: 'step', smoothing: 0, logScale: false };

test('without smoothing there is one line, on steps', () => {
  const lines = toLines([at(0, 1000, 1), at(5, 2000, 2)], 0, plain);
  assert.deepEqual(lines, {
    raw: [],
    main: [
      { x: 0, y: 1, value: 1 },
      { x: 5, y: 2, value: 2 },
    ],
  });
});

test('non-finite values, and nulls from JSON, become gaps', () => {
  const { main } = toLines([at(0, 0, 1), at(1, 0, null), at(2, 0, Infinity), at(3, 0, NaN), at(4, 0, 2)], 0, plain);
  assert.deepEqual(
    main.map((p) => Number.isNaN(p.y)),
    [false, true, true, true, false],
  );
});

test('wall and relative time put the points in time order', () => {
  const points = [at(0, 5000, 1), at(1, 3000, 2), at(2, 4000, 3)];
  assert.deepEqual(
    toLines(points, 0, { ...plain, xAxis: 'wall' }).main.map((p) => p.x),
    [3000, 4000, 5000],
  );
  assert.deepEqual(
    toLines(points, 1000, { ...plain, xAxis: 'relative' }).main.map((p) => p.x),
    [2, 3, 4],
  );
});

test('smoothing draws the raw line behind the smoothed one', () => {
  const { raw, main } = toLines([at(0, 0, 0), at(1, 0, 10)], 0, { ...plain, smoothing: 0.5 });
  assert.deepEqual(raw, [
    { x: 0, y: 0 },
    { x: 1, y: 10 },
  ]);
  assert.deepEqual(
    main.map((p) => p.value),
    [0, 10],
  );
  assert.ok(main[1].y < 10);
});

test('a log scale leaves out values that are not positive but keeps gaps', () => {
  const { main } = toLines([at(0, 0, 1), at(1, 0, 0), at(2, 0, -3), at(3, 0, NaN), at(4, 0, 0.5)], 0, {
    ...plain,
    logScale: true,
  });
  assert.deepEqual(
    main.map((p) => p.x),
    [0, 3, 4],
  );
});

test('time zero of a run is its earliest point over all its series', () => {
  const series: MetricSeries[] = [
    { runId: 'a', key: 'loss', totalPoints: 2, points: [at(0, 500, 1), at(1, 900, 1)] },
    { runId: 'a', key: 'acc', totalPoints: 1, points: [at(0, 400, 1)] },
    { runId: 'b', key: 'loss', totalPoints: 1, points: [at(0, 700, 1)] },
  ];
  assert.deepEqual(
    [...runOrigins(series)],
    [
      ['a', 400],
      ['b', 700],
    ],
  );
});

test('the note counts points only when the host downsampled', () => {
  const series = (shown: number, total: number): MetricSeries => ({
    runId: 'a',
    key: 'k',
    totalPoints: total,
    points: Array.from({ length: shown }, (_, i) => at(i, i, i)),
  });
  assert.equal(downsamplingNote([series(3, 3), series(2, 2)]), undefined);
  assert.equal(downsamplingNote([series(2000, 12000), series(3, 3)]), '2,003 of 12,003 points shown');
});
