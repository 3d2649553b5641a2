import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Run, RunSearch, TrackingStore } from '../../src/experiments/model';
import { rereadRuns, runIdFilter, toPanelRun } from '../../src/experiments/panelRuns';
import { parseFilter } from '../../src/experiments/runQuery';

function run(runId: string, experimentId: string, status: Run['status']): Run {
  return {
    runId,
    runName: runId,
    experimentId,
    status,
    startTime: 1,
    endTime: null,
    lifecycleStage: 'active',
    params: {},
    metrics: {},
    tags: {},
  };
}

test('the run filter is one the MLflow filter parser reads back, quotes included', () => {
  const filter = runIdFilter(['abc', "o'brien"]);
  assert.equal(filter, "attributes.run_id IN ('abc', 'o''brien')");
  assert.deepEqual(parseFilter(filter), [
    { entity: 'attributes', key: 'run_id', operator: 'IN', value: ['abc', "o'brien"] },
  ]);
});

test('a panel run keeps only what the panels show', () => {
  assert.deepEqual(toPanelRun(run('a', '1', 'RUNNING')), {
    runId: 'a',
    runName: 'a',
    experimentId: '1',
    status: 'RUNNING',
    startTime: 1,
  });
});

test('rereading follows the pages, keeps the order and keeps runs the store no longer returns', async () => {
  const searches: RunSearch[] = [];
  const store = {
    searchRuns: async (search: RunSearch) => {
      searches.push(search);
      return search.pageToken
        ? { runs: [run('c', '2', 'FINISHED')] }
        : { runs: [run('a', '1', 'FINISHED')], nextPageToken: 'next' };
    },
  } as unknown as TrackingStore;
  const before = [run('a', '1', 'RUNNING'), run('b', '1', 'RUNNING'), run('c', '2', 'RUNNING')];
  const after = await rereadRuns(store, before);
  assert.deepEqual(
    after.map((r) => `${r.runId}:${r.status}`),
    ['a:FINISHED', 'b:RUNNING', 'c:FINISHED'],
  );
  assert.deepEqual(searches[0].experimentIds, ['1', '2']);
  assert.equal(searches[0].filter, "attributes.run_id IN ('a', 'b', 'c')");
  assert.equal(searches[1].pageToken, 'next');
});
