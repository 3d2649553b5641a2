import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCompareRuns, summarizeMetric, toCompareRun } from '../../src/experiments/compareRuns';
import type { MetricHistory, MetricPoint, Run, TrackingStore } from '../../src/experiments/model';

const points = (...values: number[]): MetricPoint[] =>
  values.map((value, step) => ({ step, timestamp: 1000 + step, value }));

function run(runId: string, params: Record<string, string>, metrics: Record<string, number>): Run {
  return {
    runId,
    runName: `name-${runId}`,
    experimentId: '1',
    status: 'FINISHED',
    startTime: 5,
    endTime: 9,
    lifecycleStage: 'active',
    params,
    metrics,
    tags: {},
  };
}

test('min and max skip NaN and infinities', () => {
  assert.deepEqual(summarizeMetric(0.3, points(0.9, NaN, Infinity, 0.2, -Infinity, 0.3)), {
    last: 0.3,
    min: 0.2,
    max: 0.9,
  });
});

test('a history without finite values, or no history, is summarised by the last value', () => {
  assert.deepEqual(summarizeMetric(NaN, points(NaN, Infinity)), { last: NaN, min: NaN, max: NaN });
  assert.deepEqual(summarizeMetric(4, []), { last: 4, min: 4, max: 4 });
});

test('a compare run carries the run, its params and a summary per metric', () => {
  const histories: MetricHistory[] = [
    { runId: 'a', key: 'loss', totalPoints: 3, points: points(2, 0.5, 0.7) },
    { runId: 'other', key: 'acc', totalPoints: 1, points: points(99) },
  ];
  const compared = toCompareRun(run('a', { lr: '0.1' }, { loss: 0.7, acc: 0.8 }), histories);
  assert.deepEqual(compared, {
    runId: 'a',
    runName: 'name-a',
    experimentId: '1',
    status: 'FINISHED',
    startTime: 5,
    params: { lr: '0.1' },
    metrics: { loss: { last: 0.7, min: 0.5, max: 2 }, acc: { last: 0.8, min: 0.8, max: 0.8 } },
  });
});

test('loading reads the full history of each metric each run logged', async () => {
  const asked: string[] = [];
  const store = {
    metricHistory: async (runId: string, key: string, maxPoints?: number) => {
      asked.push(`${runId}/${key}/${maxPoints}`);
      return { runId, key, totalPoints: 2, points: points(1, 3) };
    },
  } as unknown as TrackingStore;
  const compared = await loadCompareRuns(store, [run('a', {}, { loss: 3 }), run('b', {}, { acc: 1 })]);
  assert.deepEqual(asked.sort(), [`a/loss/${Number.MAX_SAFE_INTEGER}`, `b/acc/${Number.MAX_SAFE_INTEGER}`]);
  assert.deepEqual(
    compared.map((c) => c.metrics),
    [{ loss: { last: 3, min: 1, max: 3 } }, { acc: { last: 1, min: 1, max: 3 } }],
  );
});
