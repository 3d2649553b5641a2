import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareRun } from '../../src/experiments/contract';
import { scatterData } from '../../webview-ui/src/compare/scatterData';
import {
  cellText,
  columnDiffers,
  compareColumns,
  sortRuns,
  tableCsv,
  type Column,
} from '../../webview-ui/src/compare/table';

function run(runId: string, params: Record<string, string>, loss?: number | null): CompareRun {
  const metrics: CompareRun['metrics'] = loss === undefined ? {} : { loss: { last: loss as number, min: 0, max: 9 } };
  return {
    runId,
    runName: `run ${runId}`,
    experimentId: '1',
    status: 'FINISHED',
    startTime: Date.UTC(2025, 0, 2, 3, 4, 5),
    params,
    metrics,
  };
}

const runs = [
  run('a', { lr: '0.1', opt: 'adam', seed: '1' }, 0.5),
  run('b', { lr: '0.01', opt: 'sgd', seed: '1' }, 0.2),
  run('c', { lr: '1e-3', seed: '1' }),
];
const columns = compareColumns(runs);
const column = (id: string) => columns.find((c) => c.id === id) as Column;

test('columns: the run, then params, then last/min/max of each metric', () => {
  assert.deepEqual(
    columns.map((c) => c.id),
    [
      'run',
      'status',
      'start',
      'param:lr',
      'param:opt',
      'param:seed',
      'metric:loss:last',
      'metric:loss:min',
      'metric:loss:max',
    ],
  );
  assert.equal(column('metric:loss:min').group, 'loss');
});

test('a column differs when any run has another value or none', () => {
  assert.equal(columnDiffers(column('param:lr'), runs), true);
  assert.equal(columnDiffers(column('param:seed'), runs), false);
  assert.equal(columnDiffers(column('param:opt'), runs.slice(0, 1)), false);
  assert.equal(columnDiffers(column('metric:loss:max'), runs), true);
});

test('sorting reads numbers in params and puts runs without a value last', () => {
  const ids = (sorted: CompareRun[]) => sorted.map((r) => r.runId);
  assert.deepEqual(ids(sortRuns(runs, column('param:lr'), 'asc')), ['c', 'b', 'a']);
  assert.deepEqual(ids(sortRuns(runs, column('param:lr'), 'desc')), ['a', 'b', 'c']);
  assert.deepEqual(ids(sortRuns(runs, column('metric:loss:last'), 'asc')), ['b', 'a', 'c']);
  assert.deepEqual(ids(sortRuns(runs, column('metric:loss:last'), 'desc')), ['a', 'b', 'c']);
  assert.deepEqual(ids(sortRuns(runs, column('param:opt'), 'desc')), ['b', 'a', 'c']);
});

test('cells show numbers shortly and missing values as empty', () => {
  assert.equal(cellText(column('metric:loss:last'), run('x', {}, 0.123456789)), '0.123457');
  assert.equal(cellText(column('metric:loss:last'), run('x', {}, null)), 'NaN');
  assert.equal(cellText(column('param:opt'), runs[2]), '');
});

test('the CSV holds the columns and runs shown, at full precision', () => {
  const shown = [column('run'), column('start'), column('param:opt'), column('metric:loss:last')];
  const csv = tableCsv(shown, [run('q', { opt: 'a,"b"' }, 0.123456789), run('r', {}, null)]);
  assert.equal(
    csv,
    'run_id,run_name,start_time,params.opt,metrics.loss.last\r\n' +
      'q,run q,2025-01-02T03:04:05.000Z,"a,""b""",0.123456789\r\n' +
      'r,run r,2025-01-02T03:04:05.000Z,,NaN\r\n',
  );
});

test('the scatter uses a linear axis for numeric params and a category axis otherwise', () => {
  const numeric = scatterData(runs, 'lr', 'loss');
  assert.equal(numeric.numeric, true);
  assert.deepEqual(
    numeric.points.map((p) => [p.x, p.y]),
    [
      [0.1, 0.5],
      [0.01, 0.2],
    ],
  );
  const categories = scatterData(runs, 'opt', 'loss');
  assert.equal(categories.numeric, false);
  assert.deepEqual(categories.categories, ['adam', 'sgd']);
  assert.equal(scatterData([run('n', { lr: '1' }, null)], 'lr', 'loss').points.length, 0);
});
