// What a user types about a split (weights, variant names, sticky keys), the A/B panel's
// significance rows and chart lines, the verdict of a report, and the panel's message schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import type { SplitStatus } from '../../src/deploy/targets/deployTarget';
import { verdict } from '../../src/release/abReport';
import type { AbReport, VariantFigures } from '../../src/release/model';
import {
  formatWeights,
  parseWeights,
  validateStickyKey,
  validateVariantName,
  weightsAfter,
} from '../../src/release/splitInput';
import { twoProportionTest, welchTest } from '../../src/release/stats';
import { AbRequest } from '../../src/release/contract';
import { comparisonRows, pValueText, seriesLines } from '../../webview-ui/src/abtest/abView';

const split: SplitStatus = {
  deployment: 'churn',
  via: 'router',
  stickyKey: 'header:X-User-Id',
  startedAt: '2026-12-07T10:00:00.000Z',
  variants: [
    {
      name: 'production',
      image: 'churn:v1',
      weight: 90,
      shadow: false,
      workload: 'churn',
      replicas: { running: 2, desired: 2 },
    },
    {
      name: 'candidate',
      image: 'churn:v2',
      weight: 10,
      shadow: false,
      workload: 'churn--candidate',
      replicas: { running: 1, desired: 1 },
    },
    {
      name: 'mirror',
      image: 'churn:v3',
      weight: 50,
      shadow: true,
      workload: 'churn--mirror',
      replicas: { running: 1, desired: 1 },
    },
  ],
};

test('weights are read as name=percent for every variant, and checked', () => {
  assert.equal(formatWeights(split.variants), 'production=90, candidate=10, mirror=50 (shadow)');
  assert.deepEqual(parseWeights(formatWeights(split.variants), split), { production: 90, candidate: 10, mirror: 50 });
  assert.deepEqual(parseWeights('production=50,candidate=50, mirror=0', split), {
    production: 50,
    candidate: 50,
    mirror: 0,
  });
  assert.throws(() => parseWeights('production=50, candidate=50', split), /Give a weight to mirror too/);
  assert.throws(() => parseWeights('production=50, candidate=50, mirror=10, other=1', split), /other is not a variant/);
  assert.throws(() => parseWeights('production=0, candidate=0, mirror=100', split), /needs a weight above 0/);
  assert.throws(() => parseWeights('production=150, candidate=0, mirror=1', split), /100 at most/);
  assert.throws(() => parseWeights('production 50', split), /'production 50' is not name=weight/);
});

test('new weights keep the images, shadows and replicas of the split', () => {
  assert.deepEqual(weightsAfter(split, { production: 50, candidate: 50 }), [
    { name: 'production', weight: 50, replicas: 2 },
    { name: 'candidate', image: 'churn:v2', weight: 50, replicas: 1 },
    { name: 'mirror', image: 'churn:v3', weight: 50, shadow: true, replicas: 1 },
  ]);
  assert.throws(() => weightsAfter(split, { nobody: 5 }), /nobody is not a variant/);
});

test('variant names and sticky keys are checked before anything reaches the cluster', () => {
  assert.equal(validateVariantName('candidate'), undefined);
  assert.match(validateVariantName('production')!, /names the version serving now/);
  assert.match(validateVariantName('Candidate')!, /lower-case/);
  assert.match(validateVariantName('a--b')!, /single dashes/);
  assert.equal(validateStickyKey('header:X-User-Id'), undefined);
  assert.equal(validateStickyKey('field:user_id'), undefined);
  assert.equal(validateStickyKey(''), undefined);
  assert.match(validateStickyKey('cookie:session')!, /header:NAME/);
});

const figures = (variant: string, extra: Partial<VariantFigures> = {}): VariantFigures => ({
  variant,
  shadow: false,
  versions: ['v'],
  requests: 1000,
  errors: 10,
  errorRate: 0.01,
  latencyMs: { mean: 20, p50: 18, p95: 40 },
  labelled: 0,
  correct: 0,
  accuracy: null,
  rewards: 0,
  meanReward: null,
  ...extra,
});

test('the verdict takes accuracy first, then reward, then the error rate, and says whether it is significant', () => {
  const variants = [figures('production'), figures('candidate')];
  const accuracy = twoProportionTest(400, 500, 440, 500);
  const byAccuracy = verdict(variants, [
    { variant: 'candidate', accuracy, errorRate: twoProportionTest(10, 1000, 30, 1000), reward: null, latency: null },
  ]);
  assert.deepEqual([byAccuracy.metric, byAccuracy.leader, byAccuracy.significant], ['accuracy', 'candidate', true]);
  assert.match(
    byAccuracy.summary,
    /^candidate's accuracy 88\.0% vs 80\.0% \(\+8\.0 points, 95% CI \+\d\.\d to \+\d+\.\d, p < 0\.001\): candidate is significantly better\.$/,
  );

  const reward = welchTest({ n: 100, mean: 1, variance: 4 }, { n: 100, mean: 1.1, variance: 4 });
  const byReward = verdict(variants, [
    { variant: 'candidate', accuracy: null, errorRate: null, reward, latency: null },
  ]);
  assert.deepEqual([byReward.metric, byReward.leader, byReward.significant], ['reward', 'candidate', false]);
  assert.match(byReward.summary, /mean reward 1\.100 vs 1\.000 .*: no significant difference yet\.$/);

  // A higher error rate makes production the leader.
  const byErrors = verdict(variants, [
    {
      variant: 'candidate',
      accuracy: null,
      errorRate: twoProportionTest(10, 1000, 40, 1000),
      reward: null,
      latency: null,
    },
  ]);
  assert.deepEqual([byErrors.metric, byErrors.leader, byErrors.significant], ['errorRate', 'production', true]);
  assert.match(byErrors.summary, /production is significantly better/);

  assert.equal(verdict([figures('production')], []).leader, null);
});

test('the significance table judges each metric in its own direction', () => {
  const rows = comparisonRows([
    {
      variant: 'candidate',
      accuracy: twoProportionTest(400, 500, 440, 500),
      reward: null,
      errorRate: twoProportionTest(10, 1000, 40, 1000),
      latency: welchTest({ n: 50, mean: 20, variance: 1 }, { n: 50, mean: 20.01, variance: 1 }),
    },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.metric, r.judgement]),
    [
      ['Accuracy', 'better'],
      ['Error rate', 'worse'],
      ['Mean latency', ''],
    ],
  );
  assert.equal(rows[0].difference, '+8.0 pts');
  assert.equal(pValueText(0.0004), '< 0.001');
  assert.equal(pValueText(0.0312), '0.031');
  assert.equal(pValueText(NaN), 'n/a');
  assert.equal(pValueText(null), 'n/a', 'NaN arrives as null in the webview');
  const noSpread = comparisonRows([
    {
      variant: 'b',
      accuracy: null,
      reward: null,
      latency: null,
      errorRate: JSON.parse(JSON.stringify(twoProportionTest(0, 100, 0, 100))),
    },
  ]);
  assert.deepEqual(
    [noSpread[0].judgement, pValueText(noSpread[0].pValue)],
    ['', 'n/a'],
    'no errors on either side is no finding',
  );
});

test('chart lines give requests per second, error rate in % and p95 per variant', () => {
  const report = {
    variants: [figures('production'), figures('mirror', { shadow: true })],
    series: {
      bucketMs: 10_000,
      variants: {
        production: [
          { t: 0, requests: 50, errors: 5, p95: 30 },
          { t: 10_000, requests: 0, errors: 0, p95: null },
        ],
        mirror: [{ t: 0, requests: 20, errors: 0, p95: 12 }],
      },
    },
  } as unknown as AbReport;
  assert.deepEqual(seriesLines(report, 'rate')[0].points, [
    { x: 5000, y: 5 },
    { x: 15_000, y: 0 },
  ]);
  assert.deepEqual(
    seriesLines(report, 'errors')[0].points.map((p) => p.y),
    [10, NaN],
  );
  assert.deepEqual(seriesLines(report, 'p95')[1], { variant: 'mirror', shadow: true, points: [{ x: 5000, y: 12 }] });
});

test('the panel accepts only well-formed requests', () => {
  assert.ok(v.safeParse(AbRequest, { type: 'setWeights', weights: { production: 90, candidate: 10 } }).success);
  assert.ok(v.safeParse(AbRequest, { type: 'promote', variant: 'candidate' }).success);
  for (const bad of [
    { type: 'setWeights', weights: {} },
    { type: 'setWeights', weights: { production: 101 } },
    { type: 'setWeights', weights: { production: 1.5 } },
    { type: 'setWeights', weights: { 'Bad Name': 5 } },
    { type: 'promote', variant: '../../etc' },
    { type: 'promote' },
    { type: 'deleteEverything' },
  ]) {
    assert.equal(v.safeParse(AbRequest, bad).success, false, JSON.stringify(bad));
  }
});
