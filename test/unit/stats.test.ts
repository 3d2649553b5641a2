import assert from 'node:assert/strict';
import { test } from 'node:test';
import { incompleteBeta, normalSurvival, studentSurvival, twoProportionTest, welchTest } from '../../src/release/stats';
import { MlopsError } from '../../src/shared/errors';

const close = (actual: number, expected: number, tolerance = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected} (±${tolerance})`);

test('the special functions match their closed forms', () => {
  for (const x of [0.01, 0.3, 0.5, 0.9, 0.999]) close(incompleteBeta(x, 1, 1), x);
  for (const x of [0.05, 0.4, 0.8]) close(incompleteBeta(x, 2, 1), x * x);
  // Student's t with 1 degree of freedom is the Cauchy distribution; with 2 it has an algebraic CDF.
  for (const t of [-3, -0.5, 0, 0.7, 2, 40]) {
    close(studentSurvival(t, 1), 0.5 - Math.atan(t) / Math.PI);
    close(studentSurvival(t, 2), 0.5 - t / (2 * Math.sqrt(2 + t * t)));
  }
  close(normalSurvival(0), 0.5);
  close(normalSurvival(1.959963984540054), 0.025, 1e-15);
  close(normalSurvival(-1.959963984540054), 0.975, 1e-15);
  close(normalSurvival(6), 9.865876450376946e-10, 1e-22);
});

test('the two-proportion interval is the unpooled normal one and swapping the groups mirrors the result', () => {
  const ab = twoProportionTest(40, 200, 55, 210);
  const se = Math.sqrt((0.2 * 0.8) / 200 + ((55 / 210) * (1 - 55 / 210)) / 210);
  close(ab.estimate, 55 / 210 - 0.2);
  close(ab.ciHigh - ab.estimate, 1.959963984540054 * se, 1e-12);
  close(ab.estimate - ab.ciLow, 1.959963984540054 * se, 1e-12);
  const ba = twoProportionTest(55, 210, 40, 200);
  close(ba.estimate, -ab.estimate);
  close(ba.pValue, ab.pValue);
  close(ba.statistic, -ab.statistic);
  assert.ok(ab.pValue > 0.05 && ab.ciLow < 0 && ab.ciHigh > 0, 'an insignificant difference has an interval across 0');
  const strong = twoProportionTest(100, 1000, 200, 1000);
  assert.ok(strong.pValue < 1e-8 && strong.ciLow > 0, `p ${strong.pValue}, CI from ${strong.ciLow}`);
});

test("Welch's test is 1 for equal means, mirrors when swapped, and narrows with more data", () => {
  const same = welchTest([1, 2, 3], [0, 2, 4]);
  close(same.statistic, 0);
  close(same.pValue, 1);
  const a = [12.1, 11.4, 13.8, 12.9, 12.2, 11.9];
  const b = [14.2, 13.1, 15.9, 14.8, 12.7, 15.1, 14.4];
  const ab = welchTest(a, b);
  const ba = welchTest(b, a);
  close(ab.estimate, -ba.estimate);
  close(ab.pValue, ba.pValue);
  close(ab.df, ba.df);
  assert.ok(ab.df > Math.min(a.length, b.length) - 1 && ab.df < a.length + b.length - 2, `df ${ab.df}`);
  const wider = welchTest([...a, ...a, ...a], [...b, ...b, ...b]);
  assert.ok(wider.ciHigh - wider.ciLow < ab.ciHigh - ab.ciLow);
  assert.ok(wider.pValue < ab.pValue);
  const summary = welchTest({ n: 6, mean: a.reduce((s, v) => s + v) / 6, variance: welchVariance(a) }, b);
  close(summary.pValue, ab.pValue);
});

test('groups without spread give NaN rather than a false certainty, and bad input is named', () => {
  assert.ok(Number.isNaN(welchTest([2, 2, 2], [2, 2]).pValue));
  assert.ok(Number.isNaN(twoProportionTest(0, 10, 0, 12).pValue));
  assert.throws(
    () => welchTest([1], [1, 2]),
    (error: unknown) => error instanceof MlopsError && /at least 2 values/.test(error.message),
  );
  assert.throws(
    () => twoProportionTest(11, 10, 1, 10),
    (error: unknown) => error instanceof MlopsError && /more successes than observations/.test(error.message),
  );
  assert.throws(() => twoProportionTest(1, 0, 1, 10), MlopsError);
  assert.throws(() => welchTest([1, 2], [3, 4], 95), /between 0 and 1/);
});

function welchVariance(values: number[]): number {
  const mean = values.reduce((s, v) => s + v) / values.length;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
}
