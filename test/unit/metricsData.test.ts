import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMetricKeys, historiesCsv, metricKeysOf, readHistories } from '../../src/experiments/metricsData';
import type { Run, TrackingStore } from '../../src/experiments/model';

function run(runId: string, runName: string, metrics: Record<string, number>): Run {
  return {
    runId,
    runName,
    experimentId: '1',
    status: 'RUNNING',
    startTime: 0,
    endTime: null,
    lifecycleStage: 'active',
    params: {},
    metrics,
    tags: {},
  };
}

test('the metric keys are the sorted union over the runs', () => {
  assert.deepEqual(metricKeysOf([run('a', 'a', { val_loss: 1, acc: 2 }), run('b', 'b', { acc: 1, f1: 0 })]), [
    'acc',
    'f1',
    'val_loss',
  ]);
});

test('losses and accuracies are charted first, at most four keys', () => {
  assert.deepEqual(defaultMetricKeys(['epoch', 'f1', 'lr', 'train_loss', 'val_acc', 'Val_Loss', 'zeta']), [
    'Val_Loss',
    'train_loss',
    'val_acc',
    'epoch',
  ]);
  assert.deepEqual(defaultMetricKeys(['b', 'a']), ['a', 'b']);
  assert.deepEqual(defaultMetricKeys([]), []);
});

test('histories are read only for the keys each run logged, with the point budget', async () => {
  const asked: string[] = [];
  const store = {
    metricHistory: async (runId: string, key: string, maxPoints?: number) => {
      asked.push(`${runId}/${key}/${maxPoints}`);
      return { runId, key, totalPoints: 0, points: [] };
    },
  } as unknown as TrackingStore;
  const histories = await readHistories(
    store,
    [run('a', 'a', { loss: 1 }), run('b', 'b', { loss: 1, acc: 1 })],
    ['acc', 'loss'],
    2000,
  );
  assert.deepEqual(asked.sort(), ['a/loss/2000', 'b/acc/2000', 'b/loss/2000']);
  assert.deepEqual(
    histories.map((h) => `${h.runId}/${h.key}`),
    ['a/loss', 'b/acc', 'b/loss'],
  );
});

test('the history CSV has one line per point, quoted where needed', () => {
  const csv = historiesCsv(
    [run('a', 'lr=0.1, "big"', { loss: 1 })],
    [
      {
        runId: 'a',
        key: 'loss',
        totalPoints: 2,
        points: [
          { step: 0, timestamp: 10, value: 1.5 },
          { step: 1, timestamp: 20, value: NaN },
        ],
      },
    ],
  );
  assert.equal(
    csv,
    'run_id,run_name,key,step,timestamp,value\r\na,"lr=0.1, ""big""",loss,0,10,1.5\r\na,"lr=0.1, ""big""",loss,1,20,NaN\r\n',
  );
});
