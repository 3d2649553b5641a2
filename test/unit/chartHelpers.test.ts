import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatNumber } from '../../webview-ui/src/shared/format';
import { SERIES_COLORS, seriesStyle, withAlpha } from '../../webview-ui/src/shared/palette';
import { smoothEma } from '../../webview-ui/src/shared/smoothing';
import { timeStep, timeTicks } from '../../webview-ui/src/metrics/timeTicks';

test('smoothing off returns the values unchanged', () => {
  assert.deepEqual(smoothEma([1, 5, 2], 0), [1, 5, 2]);
});

test('the debiased EMA starts at the first value and keeps a constant series constant', () => {
  const smoothed = smoothEma([4, 4, 4, 4], 0.9);
  for (const value of smoothed) assert.ok(Math.abs(value - 4) < 1e-12);
  const ramp = smoothEma([0, 10], 0.5);
  assert.equal(ramp[0], 0);
  assert.ok(Math.abs(ramp[1] - (10 * 0.5) / 0.75) < 1e-12);
});

test('non-finite values pass through the EMA without feeding it', () => {
  const smoothed = smoothEma([2, NaN, Infinity, 2], 0.6);
  assert.equal(smoothed[0], 2);
  assert.ok(Number.isNaN(smoothed[1]));
  assert.equal(smoothed[2], Infinity);
  assert.ok(Math.abs(smoothed[3] - 2) < 1e-12);
});

/** WCAG contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5]
      .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

test('every series colour reads on the light and the dark editor background', () => {
  for (const color of SERIES_COLORS) {
    for (const background of ['#ffffff', '#1e1e1e', '#1f1f1f'])
      assert.ok(contrast(color, background) >= 3, `${color} on ${background}`);
  }
});

test('series past the palette reuse its colours with a dash', () => {
  assert.deepEqual(seriesStyle(0), { color: SERIES_COLORS[0], dash: [] });
  assert.equal(seriesStyle(SERIES_COLORS.length).color, SERIES_COLORS[0]);
  assert.notDeepEqual(seriesStyle(SERIES_COLORS.length).dash, []);
  assert.equal(withAlpha('#3b7dd8', 0.25), '#3b7dd840');
});

test('numbers keep six significant digits and name non-finite values', () => {
  assert.equal(formatNumber(0.123456789), '0.123457');
  assert.equal(formatNumber(1234), '1234');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.00001234), '1.234e-5');
  assert.equal(formatNumber(2e10), '2e+10');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(null), 'NaN');
  assert.equal(formatNumber(-Infinity), '-∞');
});

test('durations read as the two largest units, without zero tails', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(4.25), '4.3s');
  assert.equal(formatDuration(45), '45s');
  assert.equal(formatDuration(125), '2m 05s');
  assert.equal(formatDuration(600), '10m');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(7200), '2h');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600), '3d 4h');
  assert.equal(formatDuration(-90), '-1m 30s');
});

test('time axes step in round units', () => {
  assert.equal(timeStep(50, 10), 5);
  assert.equal(timeStep(3000, 8), 600);
  assert.equal(timeStep(86400, 6), 21600);
  assert.equal(timeStep(0.5, 10), 0.1);
  assert.equal(timeStep(100 * 604800, 10), 10 * 604800);
});

test('time ticks fall on multiples of the step on the chosen clock', () => {
  assert.deepEqual(timeTicks(3, 2990, 1, 6), [600, 1200, 1800, 2400]);
  // Milliseconds, aligned to a clock one hour ahead of UTC.
  const hour = 3_600_000;
  assert.deepEqual(timeTicks(0.5 * hour, 3.5 * hour, 1000, 4, hour), [hour, 2 * hour, 3 * hour]);
  assert.deepEqual(timeTicks(5, 5, 1, 4), [5]);
});
