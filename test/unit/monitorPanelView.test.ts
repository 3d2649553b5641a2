import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DriftRow, MonitorSeries, MonitorSummary } from '../../src/monitor/model';
import {
  downsamplingNote,
  latencyLines,
  predictionBands,
  thresholdLine,
  toXY,
  versionLines,
  versionOrder,
} from '../../webview-ui/src/monitor/chartData';
import { sortDrift } from '../../webview-ui/src/monitor/drift';
import { windowLength } from '../../webview-ui/src/monitor/ranges';
import { sparklineGeometry } from '../../webview-ui/src/monitor/sparkline';
import {
  classShares,
  formatMs,
  formatPercent,
  formatRate,
  judge,
  judgeErrorRate,
  predictionText,
  statTiles,
} from '../../webview-ui/src/monitor/tiles';
import { SAMPLE_THRESHOLDS, sampleMonitorData } from '../support/monitorFixture';

const END = Date.parse('2025-11-27T12:15:00Z');

function series(
  metric: MonitorSeries['metric'],
  version: string,
  values: (number | null)[],
  key?: string,
  t0 = 1000,
): MonitorSeries {
  return { metric, version, key, totalPoints: values.length, points: values.map((v, i) => ({ t: t0 + i * 5000, v })) };
}

test('a value is judged against its threshold, with a warning band below it', () => {
  assert.equal(judge(0.9, undefined), 'none');
  assert.equal(judge(null, 0.05), 'none');
  assert.equal(judge(0.01, 0.05), 'ok');
  assert.equal(judge(0.04, 0.05), 'ok');
  assert.equal(judge(0.045, 0.05), 'warn');
  assert.equal(judge(0.05, 0.05), 'warn', 'at the threshold is not above it');
  assert.equal(judge(0.051, 0.05), 'breach');
});

test('an error rate of too few requests is not judged', () => {
  assert.equal(judgeErrorRate(0.5, 2, { errorRate: 0.05, minRequests: 100 }), 'unjudged');
  assert.equal(judgeErrorRate(0.5, 100, { errorRate: 0.05, minRequests: 100 }), 'breach');
  assert.equal(judgeErrorRate(0.5, 2, { errorRate: 0.05 }), 'breach');
});

test('numbers read as percentages, milliseconds and rates', () => {
  assert.equal(formatPercent(null), '—');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.00001), '< 0.01%');
  assert.equal(formatPercent(0.0235), '2.35%');
  assert.equal(formatPercent(0.05), '5%');
  assert.equal(formatPercent(0.125), '12.5%');
  assert.equal(formatMs(null), '—');
  assert.equal(formatMs(4.23), '4.2 ms');
  assert.equal(formatMs(127.6), '128 ms');
  assert.equal(formatMs(1450), '1.45 s');
  assert.equal(formatRate(1 / 30), '0.0333');
  assert.equal(formatRate(12.54), '12.5');
  assert.equal(formatRate(1250.4), '1,250');
});

test('window lengths read in words', () => {
  assert.equal(windowLength(300), '5 minutes');
  assert.equal(windowLength(900), '15 minutes');
  assert.equal(windowLength(3600), '1 hour');
  assert.equal(windowLength(21600), '6 hours');
  assert.equal(windowLength(86400), '24 hours');
  assert.equal(windowLength(604800), '7 days');
  assert.equal(windowLength(60), '1 minute');
  assert.equal(windowLength(42), '42 seconds');
});

test('the stat tiles carry the window numbers, coloured by their thresholds', () => {
  const { summary } = sampleMonitorData({ end: END });
  const tiles = statTiles(summary, SAMPLE_THRESHOLDS, 900);
  assert.deepEqual(
    tiles.map((tile) => tile.id),
    ['requests', 'errorRate', 'p50', 'p95', 'p99'],
  );
  assert.equal(tiles[0].value, summary.requests.toLocaleString('en-US'));
  assert.match(tiles[0].detail, /req\/s$/);
  assert.equal(tiles[1].level, 'ok');
  assert.match(tiles[1].detail, /threshold 5%/);

  const bad: MonitorSummary = {
    ...summary,
    requests: 1000,
    errors: 80,
    errorRate: 0.08,
    latencyMs: { p50: 40, p95: 300, p99: 900 },
  };
  const judged = statTiles(bad, SAMPLE_THRESHOLDS, 900);
  assert.equal(judged.find((tile) => tile.id === 'errorRate')?.level, 'breach');
  assert.equal(judged.find((tile) => tile.id === 'p95')?.level, 'breach');
  assert.equal(judged.find((tile) => tile.id === 'p95')?.value, '300 ms');
  assert.equal(judged.find((tile) => tile.id === 'p99')?.level, 'none', 'p99 has no threshold');

  const few = statTiles({ ...bad, requests: 10, errors: 5, errorRate: 0.5 }, SAMPLE_THRESHOLDS, 900);
  assert.equal(few[1].level, 'unjudged');
  assert.match(few[1].detail, /judged from 100 requests/);
  assert.equal(statTiles(bad, {}, 900)[1].level, 'none');
});

test('a version’s predictions read as class shares or a value summary', () => {
  assert.deepEqual(classShares({ a: 6, b: 3, c: 1, d: 0 }, 2), [
    { key: 'a', share: 0.6 },
    { key: 'b', share: 0.3 },
    { key: 'other', share: 0.1 },
  ]);
  assert.equal(predictionText({ kind: 'classes', counts: { stay: 62, churn: 38 } }), 'stay 62% · churn 38%');
  assert.equal(predictionText({ kind: 'classes', counts: {} }), '—');
  assert.equal(
    predictionText({ kind: 'values', count: 1520, mean: 12.3456, buckets: [] }),
    'mean 12.35 · 1,520 values',
  );
  assert.equal(predictionText({ kind: 'none' }), '—');
});

test('versions keep the summary order, then those that only have series', () => {
  const { summary } = sampleMonitorData({ end: END });
  assert.deepEqual(versionOrder(summary, [series('requestRate', 'v9', [1]), series('requestRate', 'v3', [1])]), [
    'v3',
    'v4',
    'v9',
  ]);
});

test('series points become chart points in time order, nulls as gaps', () => {
  const xy = toXY(
    [
      { t: 3, v: 0.5 },
      { t: 1, v: null },
      { t: 2, v: Number.NaN },
    ],
    100,
  );
  assert.deepEqual(
    xy.map((point) => point.x),
    [1, 2, 3],
  );
  assert.ok(Number.isNaN(xy[0].y) && Number.isNaN(xy[1].y));
  assert.equal(xy[2].y, 50);
});

test('one line per version, and three latency lines per version told apart by dash', () => {
  const all = [
    series('errorRate', 'v4', [0.1, null]),
    series('errorRate', 'v3', [0.02, 0.01]),
    series('latencyP95', 'v3', [60]),
    series('latencyP50', 'v3', [20]),
    series('latencyP99', 'v3', [110]),
  ];
  const errors = versionLines(all, 'errorRate', ['v3', 'v4', 'v5'], 100);
  assert.deepEqual(
    errors.map((line) => line.label),
    ['v3', 'v4'],
  );
  assert.equal(errors[0].points[0].y, 2);
  assert.ok(Number.isNaN(errors[1].points[1].y));
  const latency = latencyLines(all, ['v3', 'v4']);
  assert.deepEqual(
    latency.map((line) => line.label),
    ['v3 p50', 'v3 p95', 'v3 p99'],
  );
  assert.equal(new Set(latency.map((line) => JSON.stringify(line.variant?.dash))).size, 3);
  assert.deepEqual(thresholdLine(5, 10, 20), [
    { x: 10, y: 5 },
    { x: 20, y: 5 },
  ]);
});

test('the downsampling note appears only when points were dropped', () => {
  assert.equal(downsamplingNote([series('requestRate', 'v3', [1, 2])]), undefined);
  assert.equal(
    downsamplingNote([{ ...series('requestRate', 'v3', [1, 2]), totalPoints: 17280 }]),
    '2 of 17,280 points shown',
  );
});

test('class shares stack to 100 % at each time, with gaps where there were no predictions', () => {
  const all = [
    series('prediction', 'v3', [30, 0, null, 10], 'stay'),
    series('prediction', 'v3', [10, 0, null, 30], 'churn'),
    series('prediction', 'v4', [1, 1, 1, 1], 'churn'),
  ];
  const bands = predictionBands(all, 'v3');
  // churn first: it has more predictions over all versions, so it keeps its colour in each chart.
  assert.deepEqual(
    bands.map((band) => band.label),
    ['churn', 'stay'],
  );
  assert.deepEqual(
    bands[1].points.map((point) => point.y),
    [75, NaN, NaN, 25],
  );
  assert.deepEqual(
    bands[0].points.map((point) => point.x),
    [1000, 6000, 11000, 16000],
  );
  const v4 = predictionBands(all, 'v4');
  assert.deepEqual(
    v4.map((band) => band.label),
    ['churn', 'stay'],
  );
  assert.deepEqual(
    v4[0].points.map((point) => point.y),
    [100, 100, 100, 100],
  );
  assert.deepEqual(predictionBands([series('requestRate', 'v3', [1])], 'v3'), []);
});

test('past the band budget, the rarest classes are summed as "other"', () => {
  const all = ['a', 'b', 'c', 'd', 'e'].map((key, i) => series('prediction', 'v1', [10 - i], key));
  const bands = predictionBands(all, 'v1', 3);
  assert.deepEqual(
    bands.map((band) => band.label),
    ['a', 'b', 'other'],
  );
  assert.equal(Math.round(bands[2].points[0].y * 100) / 100, Math.round(((8 + 7 + 6) / 40) * 10000) / 100);
});

const asBucket = (one: MonitorSeries): MonitorSeries => ({ ...one, bucket: true });

test('numeric class labels (0 and 1) are classes, not value buckets', () => {
  const bands = predictionBands([series('prediction', 'v1', [0.6], '0'), series('prediction', 'v1', [0.4], '1')], 'v1');
  assert.deepEqual(
    bands.map((band) => band.label),
    ['0', '1'],
  );
});

test('value buckets are ordered by bound, labelled by range, and cumulative counts are differenced', () => {
  const perBucket = [
    series('prediction', 'v1', [1, 0], '+Inf'),
    series('prediction', 'v1', [2, 1], '10'),
    series('prediction', 'v1', [1, 3], '5'),
    series('prediction', 'v1', [0, 0], '1'),
  ].map(asBucket);
  const bands = predictionBands(perBucket, 'v1');
  assert.deepEqual(
    bands.map((band) => band.label),
    ['1 – 5', '5 – 10', '> 10'],
    'the empty bucket "≤ 1" is left out',
  );
  assert.deepEqual(
    bands.map((band) => band.points[0].y),
    [25, 50, 25],
  );
  // The same counts as Prometheus keeps them: each bucket counts everything up to its bound.
  const cumulative = [
    series('prediction', 'v1', [4, 4], '+Inf'),
    series('prediction', 'v1', [3, 4], '10'),
    series('prediction', 'v1', [1, 3], '5'),
    series('prediction', 'v1', [0, 0], '1'),
  ].map(asBucket);
  assert.deepEqual(predictionBands(cumulative, 'v1'), bands);
});

test('many value buckets are merged into adjacent ranges', () => {
  const counts = { '1': 1, '2': 2, '3': 1, '4': 2, '5': 1, '6': 2, '+Inf': 1 };
  const all = Object.entries(counts).map(([le, count]) => asBucket(series('prediction', 'v1', [count], le)));
  const bands = predictionBands(all, 'v1', 3);
  assert.deepEqual(
    bands.map((band) => band.label),
    ['≤ 3', '3 – 6', '> 6'],
  );
  assert.deepEqual(
    bands.map((band) => band.points[0].y),
    [40, 50, 10],
  );
  // Equal counts in every bucket are taken as they come, not as cumulative ones.
  const flat = predictionBands(
    Object.keys(counts).map((le) => asBucket(series('prediction', 'v1', [1], le))),
    'v1',
    7,
  );
  assert.equal(flat.length, 7);
});

test('the sample data charts as two class bands per version', () => {
  const { series: all } = sampleMonitorData({ end: END });
  for (const version of ['v3', 'v4']) {
    const bands = predictionBands(all, version);
    assert.deepEqual(
      bands.map((band) => band.label),
      ['stay', 'churn'],
    );
    for (let i = 0; i < bands[0].points.length; i++) {
      const sum = bands[0].points[i].y + bands[1].points[i].y;
      assert.ok(Number.isNaN(sum) || Math.abs(sum - 100) < 1e-9, `${version} at ${i}: ${sum}`);
    }
  }
});

test('a sparkline spans its box from zero up, breaks at gaps and marks its last point', () => {
  assert.deepEqual(sparklineGeometry([], 100, 20), { path: '' });
  assert.deepEqual(sparklineGeometry([Number.NaN], 100, 20), { path: '' });
  const line = sparklineGeometry([0, 0.5, 1], 100, 20, 0);
  assert.equal(line.path, 'M0,20L50,10L100,0');
  assert.deepEqual(line.last, { x: 100, y: 0 });
  const gappy = sparklineGeometry([1, Number.NaN, 1, 1, Number.NaN, 0.5], 50, 10, 0);
  assert.equal(gappy.path, 'M0,0h0M20,0L30,0M50,5h0');
  const flat = sparklineGeometry([0.2, 0.2], 10, 10, 1);
  assert.equal(flat.path, 'M1,1L9,1', 'a flat non-zero series sits at the top of a zero-based scale');
  assert.deepEqual(sparklineGeometry([0.3], 10, 10, 1).last, { x: 5, y: 1 });
});

test('the drift table lists the most drifted features first', () => {
  const row = (feature: string, psi: number, severity: DriftRow['severity']): DriftRow => ({
    feature,
    kind: 'numeric',
    psi,
    ks: null,
    severity,
  });
  assert.deepEqual(
    sortDrift([row('a', 0.05, 'none'), row('b', 0.3, 'major'), row('c', 0.12, 'moderate'), row('d', 0.4, 'major')]).map(
      (r) => r.feature,
    ),
    ['d', 'b', 'c', 'a'],
  );
});

test('the sample data is a realistic 15-minute window of two versions', () => {
  const { summary, series: all } = sampleMonitorData({ end: END });
  assert.equal(Date.parse(summary.to) - Date.parse(summary.from), 15 * 60 * 1000);
  assert.deepEqual(
    summary.versions.map((v) => v.version),
    ['v3', 'v4'],
  );
  assert.equal(summary.requests, summary.versions[0].requests + summary.versions[1].requests);
  for (const s of all) {
    assert.equal(s.points.length, 180);
    assert.ok(s.points.every((p, i) => i === 0 || p.t - s.points[i - 1].t === 5000));
    assert.ok(
      s.points.some((p) => p.v === null),
      'a scrape gap',
    );
  }
  assert.ok(summary.alerts.some((alert) => alert.rule === 'errorRate' && alert.version === 'v4'));
  assert.deepEqual(sampleMonitorData({ end: END }), sampleMonitorData({ end: END }), 'deterministic');
});
