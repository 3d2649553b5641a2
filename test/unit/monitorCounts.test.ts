import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateThresholds } from '../../src/monitor/alerts';
import { countsOf, differences, histogramQuantile, type CountsRecord } from '../../src/monitor/counts';
import { appendCounts, countsAtOrBefore, readCounts } from '../../src/monitor/countsLog';
import { monitoringFor } from '../../src/monitor/monitoringConfig';
import { parsePrometheusText } from '../../src/monitor/prometheusText';
import { mergePages } from '../../src/monitor/sources';
import { thin, windowSeries, windowTotals } from '../../src/monitor/window';

/** The model server's metrics text for one instance, as metrics.py writes it. */
function metricsText(
  version: string,
  requests: number,
  errors: number,
  fast: number,
  classes: Record<string, number>,
  instance = '10.0.0.5:8080',
): string {
  const labels = `version="${version}",instance="${instance}",group="churn"`;
  const bounds = ['0.001', '0.005', '0.01', '0.05', '+Inf'];
  const cumulative = [0, fast, requests, requests, requests];
  return [
    '# HELP mlops_requests_total Scoring requests (POST /invocations) answered.',
    '# TYPE mlops_requests_total counter',
    `mlops_requests_total{${labels}} ${requests}`,
    `mlops_request_errors_total{${labels},code="400"} ${errors}`,
    ...bounds.map((le, i) => `mlops_request_latency_seconds_bucket{${labels},le="${le}"} ${cumulative[i]}`),
    `mlops_request_latency_seconds_sum{${labels}} ${requests * 0.004}`,
    `mlops_request_latency_seconds_count{${labels}} ${requests}`,
    ...Object.entries(classes).map(
      ([label, count]) => `mlops_predicted_class_total{${labels},class="${label}"} ${count}`,
    ),
    `mlops_model_info{${labels},mode="fitted",task="classification",variable="model \\"quoted\\""} 1`,
  ].join('\n');
}

const record = (at: number, text: string): CountsRecord => ({
  at,
  instances: countsOf(parsePrometheusText(text, 'test')),
  unreachable: [],
});

test('the text format parser reads labels with escapes, special values and timestamps, and names a bad line', () => {
  const samples = parsePrometheusText('a{x="1\\"2",y="a\\\\b"} 3 1700000000000\nb +Inf\nc NaN\n# comment\n', 'test');
  assert.deepEqual(samples[0], { name: 'a', labels: { x: '1"2', y: 'a\\b' }, value: 3 });
  assert.equal(samples[1].value, Infinity);
  assert.ok(Number.isNaN(samples[2].value));
  assert.throws(
    () => parsePrometheusText('ok 1\nbroken{x=1} 2', 'http://server/metrics'),
    /http:\/\/server\/metrics line 2 .*no quoted value/,
  );
});

test('histogram quantiles interpolate inside the bucket as histogram_quantile does', () => {
  const histogram = { bounds: [0.1, 0.2, 0.4, Infinity], cumulative: [10, 30, 40, 40], sum: 0 };
  assert.ok(Math.abs(histogramQuantile(0.5, histogram)! - 0.15) < 1e-12); // rank 20: halfway through (0.1, 0.2]
  assert.ok(Math.abs(histogramQuantile(0.95, histogram)! - 0.36) < 1e-12); // rank 38: 8 of the 10 in (0.2, 0.4]
  assert.equal(
    histogramQuantile(0.99, { bounds: [0.1, Infinity], cumulative: [1, 10], sum: 0 }),
    0.1,
    'in the +Inf bucket: the last finite bound',
  );
  assert.equal(histogramQuantile(0.5, { bounds: [0.1, Infinity], cumulative: [0, 0], sum: 0 }), null);
});

test('a window is the difference per instance; a restarted or new instance counts from zero', () => {
  const start = record(
    1000,
    `${metricsText('v1', 100, 5, 50, { yes: 40, no: 60 })}\n${metricsText('v1', 80, 0, 80, { yes: 80 }, '10.0.0.6:8080')}`,
  );
  // 10.0.0.5 served 20 more; 10.0.0.6 restarted and served 7; 10.0.0.7 is new with 3.
  const end = record(
    61_000,
    `${metricsText('v1', 120, 6, 60, { yes: 50, no: 70 })}\n${metricsText('v1', 7, 1, 7, { no: 7 }, '10.0.0.6:8080')}\n${metricsText('v2', 3, 0, 3, { yes: 3 }, '10.0.0.7:8080')}`,
  );
  const totals = windowTotals(start, end);
  assert.equal(totals.overall.requests, 30);
  assert.equal(totals.overall.errors, 2);
  assert.deepEqual(
    totals.versions.map((v) => [v.version, v.requests, v.errors]),
    [
      ['v1', 27, 2],
      ['v2', 3, 0],
    ],
  );
  assert.deepEqual(totals.versions[0].predictions, { kind: 'classes', counts: { yes: 10, no: 17 } });
  assert.equal(differences(undefined, end)[0].requests, 120, 'without a start, everything since the server started');
});

test('a version whose tasks were replaced inside the window keeps the requests it served', () => {
  const start = record(0, metricsText('v2', 10, 0, 10, {}, 'old:8080'));
  const middle = record(30_000, metricsText('v2', 40, 3, 40, {}, 'old:8080'));
  const end = record(60_000, metricsText('v1', 5, 0, 5, {}, 'new:8080'));
  assert.deepEqual(
    windowTotals(start, end, [middle]).versions.map((v) => [v.version, v.requests, v.errors]),
    [
      ['v1', 5, 0],
      ['v2', 30, 3],
    ],
  );
});

test('chart series give a rate per second and shares per class, and stay within the point budget', () => {
  const records = Array.from({ length: 5 }, (_, i) =>
    record(i * 10_000, metricsText('v1', i * 50, i * 5, i * 25, { yes: i * 10, no: i * 40 })),
  );
  const series = windowSeries(records);
  const rate = series.find((s) => s.metric === 'requestRate')!;
  assert.deepEqual(
    rate.points.map((p) => p.v),
    [5, 5, 5, 5],
  );
  assert.deepEqual(
    series.find((s) => s.metric === 'errorRate')!.points.map((p) => p.v),
    [0.1, 0.1, 0.1, 0.1],
  );
  assert.deepEqual(
    series.find((s) => s.metric === 'prediction' && s.key === 'yes')!.points.map((p) => p.v),
    [0.2, 0.2, 0.2, 0.2],
  );
  const many = Array.from({ length: 86_400 }, (_, i) => ({ t: i * 1000, v: i % 600 === 0 ? null : Math.sin(i / 300) }));
  const thinned = thin(many, 2000);
  assert.ok(thinned.length <= 2000 && thinned.length > 1900, String(thinned.length));
  assert.equal(thinned[0].t, 0);
  assert.equal(thinned.at(-1)!.t, 86_399_000);
});

test('recorded counts are read back by time, +Inf bounds included, and a damaged line is skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-counts-'));
  const day = Date.parse('2026-11-27T10:00:00Z');
  appendCounts(dir, record(day, metricsText('v1', 10, 0, 10, {})));
  appendCounts(dir, record(day + 60_000, metricsText('v1', 20, 0, 20, {})));
  writeFileSync(join(dir, 'counts-2026-11-27.jsonl'), '{"at": 1, "instan\n', { flag: 'a' });
  appendCounts(dir, record(day + 120_000, metricsText('v1', 30, 0, 30, {})));
  assert.deepEqual(
    readCounts(dir, day, day + 120_000).map((r) => r.instances[0].requests),
    [10, 20, 30],
  );
  assert.equal(countsAtOrBefore(dir, day + 90_000)?.instances[0].requests, 20);
  assert.equal(readCounts(dir, day, day)[0].instances[0].latency?.bounds.at(-1), Infinity);
  assert.equal(countsAtOrBefore(dir, day - 1), undefined);
});

test('thresholds wait for enough requests, and name the version, the feature and the numbers', () => {
  const health = (version: string, requests: number, errors: number, p95: number) => ({
    version,
    requests,
    errors,
    errorRate: errors / requests,
    latencyMs: { p50: 1, p95, p99: p95 },
    predictions: { kind: 'none' as const },
  });
  const alerts = evaluateThresholds(
    'churn',
    [health('v1', 10, 5, 900), health('v2', 100, 9, 120)],
    [{ feature: 'charges', kind: 'numeric', psi: 0.4, ks: 0.3, severity: 'major' }],
    { errorRate: 0.05, p95LatencyMs: 100, psi: 0.25 },
  );
  assert.deepEqual(
    alerts.map((a) => [a.rule, a.version, a.feature]),
    [
      ['errorRate', 'v2', undefined],
      ['p95LatencyMs', 'v2', undefined],
      ['psi', 'all', 'charges'],
    ],
  );
  assert.match(alerts[0].message, /error rate 9\.0 % is above 5\.0 % \(9 of 100 requests\)/);
});

test('monitoring settings merge "*" and the deployment, the setting over the file, and name a bad field', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'mlops-monitoring-config-'));
  writeFileSync(
    join(workspace, 'mlops.config.json'),
    JSON.stringify({
      monitoring: { '*': { errorRate: 0.1, minRequests: 5 }, churn: { psi: 0.2, baseline: 'data/train.csv' } },
    }),
  );
  const config = monitoringFor('churn', workspace, { churn: { autoRevert: true, errorRate: 0.02 } });
  assert.deepEqual(config.thresholds, { errorRate: 0.02, psi: 0.2, minRequests: 5, autoRevert: true });
  assert.deepEqual(config.baseline, { file: join(workspace, 'data/train.csv') });
  assert.deepEqual(monitoringFor('other', workspace, { other: { baseline: 'training_rows' } }).baseline, {
    table: 'training_rows',
  });
  assert.throws(
    () => monitoringFor('churn', workspace, { churn: { errorRate: 5 } }),
    /mlops\.monitoring\.thresholds monitoring\["churn"\]\.errorRate is a share between 0 and 1/,
  );
  writeFileSync(join(workspace, 'mlops.config.json'), '{ "monitoring": ');
  assert.throws(() => monitoringFor('churn', workspace), /mlops\.config\.json is not valid JSON/);
});

test('request pages from several instances merge by time, and stop where a cut-short page stops', () => {
  const line = (ts: string, id: string) => `{"instance":"x","ts":"${ts}","request_id":"${id}"}`;
  const page = mergePages([
    {
      reader: { instance: 'a' },
      lines: [line('2026-01-01T00:00:01.000Z', 'a1'), line('2026-01-01T00:00:03.000Z', 'a3')],
      more: true,
    },
    {
      reader: { instance: 'b' },
      lines: [line('2026-01-01T00:00:02.000Z', 'b2'), line('2026-01-01T00:00:04.000Z', 'b4')],
      more: false,
    },
    { reader: { instance: 'c' }, lines: [], more: false, error: 'connection refused' },
  ]);
  assert.deepEqual(
    page.lines.map((l) => JSON.parse(l).request_id),
    ['a1', 'b2', 'a3'],
  );
  assert.equal(page.more, true);
  assert.deepEqual(page.unreachable, ['c (connection refused)']);
  const settling = mergePages([
    {
      reader: { instance: 'a' },
      lines: [line('2026-01-01T00:00:01.000Z', 'a1'), line('2026-01-01T00:00:05.000Z', 'a5')],
      more: false,
      completeBefore: '2026-01-01T00:00:06.000Z',
    },
    {
      reader: { instance: 'b' },
      lines: [line('2026-01-01T00:00:02.000Z', 'b2')],
      more: false,
      completeBefore: '2026-01-01T00:00:04.000Z',
    },
  ]);
  assert.deepEqual(
    settling.lines.map((l) => JSON.parse(l).request_id),
    ['a1', 'b2'],
    'a5 waits until b is complete past it',
  );
});

test('CPU and memory read as docker stats and the Kubernetes metrics API give them', async () => {
  const { resourceUse } = await import('../../src/deploy/targets/swarm/swarmTarget');
  const { bytesOf, cpuCores } = await import('../../src/deploy/targets/kubernetes/kubernetesTarget');
  const use = resourceUse({
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 10_000_000_000 },
    memory_stats: { usage: 300 * 1024 * 1024, stats: { inactive_file: 100 * 1024 * 1024 } },
  });
  assert.deepEqual(use, { cpuPercent: 20, memoryMb: 200 });
  assert.equal(resourceUse({}).cpuPercent, null);
  assert.equal(cpuCores('250m'), 0.25);
  assert.ok(Math.abs(cpuCores('1234567n') - 0.001234567) < 1e-15);
  assert.equal(bytesOf('64Mi'), 64 * 1024 * 1024);
  assert.equal(bytesOf('1G'), 1e9);
  assert.ok(Number.isNaN(bytesOf('lots')));
});

test('a regression model charts its predictions per value bucket, cumulative as the server counts them', () => {
  const text = (count: number, low: number) =>
    [
      `mlops_requests_total{version="r1"} ${count}`,
      `mlops_prediction_value_bucket{version="r1",le="10"} ${low}`,
      `mlops_prediction_value_bucket{version="r1",le="100"} ${count}`,
      `mlops_prediction_value_bucket{version="r1",le="+Inf"} ${count}`,
      `mlops_prediction_value_sum{version="r1"} ${count * 20}`,
    ].join('\n');
  const series = windowSeries([record(0, text(0, 0)), record(10_000, text(10, 4))]).filter(
    (s) => s.metric === 'prediction',
  );
  assert.deepEqual(
    series.map((s) => [s.key, s.bucket, s.points[0].v]),
    [
      ['10', true, 4],
      ['100', true, 10],
      ['+Inf', true, 10],
    ],
  );
  assert.deepEqual(windowTotals(undefined, record(10_000, text(10, 4))).versions[0].predictions, {
    kind: 'values',
    count: 10,
    mean: 20,
    buckets: [
      { le: 10, count: 4 },
      { le: 100, count: 10 },
      { le: Infinity, count: 10 },
    ],
  });
});
