// The A/B report from the lake: logged answers of two variants and a shadow, outcomes sent back
// as feedback, counted per variant and compared with production.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { ingestRequestLines } from '../../src/monitor/requestsTable';
import { abReport } from '../../src/release/abReport';
import { twoProportionTest } from '../../src/release/stats';

const folder = mkdtempSync(join(tmpdir(), 'mlops-ab-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const target = 'swarm:local';
const deployment = 'churn';
const start = Date.parse('2026-12-07T10:00:00.000Z');

/**
 * 600 requests: production answers 400 (right for 300 of the 400 labelled), the candidate 200
 * (right for 180), a shadow gets a copy of every production request (right for 200). Every
 * 10th production answer fails. The candidate's requests carry rewards of 1 or 2.
 */
function traffic(): string[] {
  const lines: string[] = [];
  const ts = (i: number, offsetMs = 0) => new Date(start + i * 1000 + offsetMs).toISOString();
  for (let i = 0; i < 600; i++) {
    const candidate = i % 3 === 2;
    const id = `r${i}`;
    const failed = !candidate && i % 10 === 0;
    const answer = (variant: string, version: string, prediction: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        ts: ts(i, extra.shadow ? 5 : 0),
        request_id: id,
        version,
        variant,
        inputs: [{ tenure: i }],
        predictions: failed && !extra.shadow ? null : [prediction],
        latency_ms: candidate ? 8 + (i % 5) : 10 + (i % 7),
        status: failed && !extra.shadow ? 500 : 200,
        ...extra,
      });
    const truth = 'yes';
    const k = Math.floor(i / 3) * 2 + (i % 3 === 1 ? 1 : 0); // 0..399 over production's requests
    if (candidate) lines.push(answer('candidate', 'v2', Math.floor(i / 3) % 10 === 0 ? 'no' : truth));
    else {
      lines.push(answer('production', 'v1', k % 4 === 0 ? 'no' : truth));
      lines.push(answer('shadow', 'v3', k % 2 === 0 ? 'no' : truth, { shadow: true }));
    }
    lines.push(
      JSON.stringify({
        ts: ts(i, 500),
        kind: 'feedback',
        request_id: id,
        label: truth,
        ...(candidate ? { reward: 1 + (i % 2) } : {}),
      }),
    );
  }
  return lines;
}

test('per-variant traffic, errors, accuracy and rewards, each compared with production', async () => {
  const lake = openLake(join(folder, 'lake'));
  await ingestRequestLines(lake, traffic(), { target, deployment });
  const report = await abReport(lake, { target, deployment, from: start, to: start + 600_000, buckets: 10 });

  const byName = Object.fromEntries(report.variants.map((v) => [v.variant, v]));
  assert.deepEqual(
    report.variants.map((v) => v.variant),
    ['production', 'candidate', 'shadow'],
    'production first',
  );
  assert.deepEqual(
    [byName.production.requests, byName.production.errors, byName.production.versions],
    [400, 40, ['v1']],
  );
  assert.deepEqual([byName.candidate.requests, byName.candidate.errors, byName.candidate.shadow], [200, 0, false]);
  assert.equal(byName.shadow.shadow, true);
  // Failed answers are not judged: 360 labelled production answers.
  const productionRight = Array.from({ length: 400 }, (_, k) => k).filter(
    (k) => k % 4 !== 0 && !((Math.floor(k / 2) * 3 + (k % 2)) % 10 === 0),
  ).length;
  assert.deepEqual([byName.production.labelled, byName.production.correct], [360, productionRight]);
  assert.deepEqual([byName.candidate.labelled, byName.candidate.correct], [200, 180]);
  assert.deepEqual([byName.shadow.labelled, byName.shadow.correct], [400, 200]);
  assert.deepEqual([byName.candidate.rewards, byName.candidate.meanReward], [200, 1.5]);

  const candidate = report.comparisons.find((c) => c.variant === 'candidate')!;
  const expected = twoProportionTest(productionRight, 360, 180, 200);
  assert.equal(candidate.accuracy?.pValue, expected.pValue);
  assert.equal(candidate.errorRate?.estimate, 0 - 0.1);
  assert.equal(candidate.reward, null, 'production sent no rewards');
  assert.ok(candidate.latency && candidate.latency.estimate < 0, 'the candidate answers faster');

  assert.equal(report.verdict.metric, 'accuracy');
  assert.equal(report.verdict.leader, 'candidate');
  assert.equal(report.verdict.significant, true);
  assert.match(
    report.verdict.summary,
    /^candidate's accuracy 90\.0% vs \d+\.\d% \(\+\d+\.\d points, 95% CI .*p < 0\.001\): candidate is significantly better\.$/,
  );

  const points = Object.values(report.series.variants).flat();
  assert.equal(report.series.bucketMs, 60_000);
  assert.equal(
    points.reduce((sum, p) => sum + p.requests, 0),
    1000,
    'every answer is in one bucket',
  );
});

test('a deployment without split traffic reports nothing to compare', async () => {
  const lake = openLake(join(folder, 'empty'));
  const report = await abReport(lake, { target, deployment, from: start, to: start + 60_000 });
  assert.deepEqual(report.variants, []);
  assert.match(report.verdict.summary, /No requests of a split/);
});
