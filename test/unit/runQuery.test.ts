import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Run } from '../../src/experiments/model';
import { parseFilter, parseOrderBy, searchInMemory } from '../../src/experiments/runQuery';
import { MlopsError } from '../../src/shared/errors';

function run(id: string, fields: Partial<Run> = {}): Run {
  return {
    runId: id,
    runName: `run-${id}`,
    experimentId: '1',
    status: 'FINISHED',
    startTime: 1000,
    endTime: 2000,
    lifecycleStage: 'active',
    params: {},
    metrics: {},
    tags: {},
    ...fields,
  };
}

const runs = [
  run('a', { metrics: { acc: 0.95, loss: 0.1 }, params: { model: 'rf', depth: '6' }, startTime: 3 }),
  run('b', { metrics: { acc: 0.85 }, params: { model: 'rf' }, tags: { team: 'Growth' }, startTime: 2 }),
  run('c', { metrics: { acc: 0.97, loss: NaN }, params: { model: 'xgb' }, status: 'RUNNING', startTime: 1 }),
  run('d', { params: { model: "o'brien" }, startTime: 5 }),
  run('e', { metrics: { acc: 0.99 }, params: { model: 'rf' }, lifecycleStage: 'deleted', startTime: 4 }),
];
const ids = (filter?: string, orderBy?: string[]) =>
  searchInMemory(runs, { experimentIds: ['1'], filter, orderBy }).runs.map((r) => r.runId);

test('filters join comparisons with AND, as in MLflow', () => {
  assert.deepEqual(ids("metrics.acc > 0.9 AND params.model = 'rf'"), ['a']);
  assert.deepEqual(ids('metrics.acc >= 0.85'), ['a', 'b', 'c']);
  assert.deepEqual(ids("params.model != 'rf'"), ['d', 'c']);
  assert.deepEqual(ids("params.model LIKE 'r%'"), ['a', 'b']);
  assert.deepEqual(ids("tags.team ILIKE 'grow%'"), ['b']);
  assert.deepEqual(ids("attributes.status = 'RUNNING'"), ['c']);
  assert.deepEqual(ids("status IN ('RUNNING', 'FAILED')"), ['c']);
  assert.deepEqual(ids("run_name = 'run-b'"), ['b']);
  assert.deepEqual(ids("params.model = 'o''brien'"), ['d']);
  assert.deepEqual(ids('metrics.`acc` < 0.9'), ['b']);
});

test('deleted runs are left out unless asked for', () => {
  assert.ok(!ids().includes('e'));
  assert.deepEqual(
    searchInMemory(runs, { experimentIds: ['1'], lifecycle: 'deleted' }).runs.map((r) => r.runId),
    ['e'],
  );
});

test('ordering: by the clause with missing values last, then start time descending, then run id', () => {
  assert.deepEqual(ids(undefined, ['metrics.acc DESC']), ['c', 'a', 'b', 'd']);
  assert.deepEqual(ids(undefined, ['metrics.acc ASC']), ['b', 'a', 'c', 'd']);
  assert.deepEqual(ids(undefined, ['metrics.loss']), ['a', 'd', 'b', 'c'], 'NaN sorts with the missing values');
  assert.deepEqual(ids(), ['d', 'a', 'b', 'c']);
  assert.deepEqual(ids(undefined, ['attributes.start_time ASC']), ['c', 'b', 'a', 'd']);
});

test('an order is a key and at most a direction, ASC or DESC; anything else is refused by name', () => {
  assert.deepEqual(parseOrderBy(['metrics.acc desc', 'metrics.`my key`', 'params."a b" ASC', 'start_time']), [
    { entity: 'metrics', key: 'acc', ascending: false },
    { entity: 'metrics', key: 'my key', ascending: true },
    { entity: 'params', key: 'a b', ascending: true },
    { entity: 'attributes', key: 'start_time', ascending: true },
  ]);
  assert.throws(
    () => parseOrderBy(['metrics.acc sideways']),
    (error: unknown) =>
      error instanceof MlopsError &&
      /'sideways' is not a direction in the order 'metrics.acc sideways'/.test(error.message) &&
      /ASC or DESC/.test(error.remedy ?? ''),
  );
  assert.throws(() => parseOrderBy(['metrics.acc DESC again']), /Cannot read the order 'metrics.acc DESC again'/);
  assert.throws(
    () => searchInMemory(runs, { experimentIds: ['1'], orderBy: ['metrics.acc upward'] }),
    /not a direction/,
  );
});

test('pages carry on where the last one stopped', () => {
  const first = searchInMemory(runs, { experimentIds: ['1'], maxResults: 3 });
  assert.equal(first.runs.length, 3);
  assert.ok(first.nextPageToken);
  const second = searchInMemory(runs, { experimentIds: ['1'], maxResults: 3, pageToken: first.nextPageToken });
  assert.deepEqual(
    second.runs.map((r) => r.runId),
    ['c'],
  );
  assert.equal(second.nextPageToken, undefined);
  assert.throws(() => searchInMemory(runs, { experimentIds: ['1'], pageToken: 'garbage!' }), MlopsError);
});

test('bad filters say what is wrong', () => {
  assert.throws(() => parseFilter("metrics.acc > 'high'"), /compared with a number/);
  assert.throws(() => parseFilter('params.model = 3'), /quoted string/);
  assert.throws(() => parseFilter("metrics.acc > 0.9 OR params.x = 'y'"), /AND only/);
  assert.throws(() => parseFilter('metrics.acc >'), /expected a value/);
  assert.throws(() => parseFilter("bogus.key = 'x'"), /not a valid prefix/);
  assert.throws(() => parseFilter('metrics.acc ~ 3'), /unexpected character/);
});
