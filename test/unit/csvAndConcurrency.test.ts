import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapConcurrent } from '../../src/shared/concurrency';
import { csvField, toCsv } from '../../src/shared/csv';

test('CSV fields are quoted only when they hold a comma, a quote or a line break', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(0.5), '0.5');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(null), '');
  assert.equal(
    toCsv([
      ['a', 1],
      ['b,c', 2],
    ]),
    'a,1\r\n"b,c",2\r\n',
  );
});

test('mapConcurrent keeps the order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const results = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(results, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
  assert.deepEqual(await mapConcurrent([], 4, async () => 1), []);
});
