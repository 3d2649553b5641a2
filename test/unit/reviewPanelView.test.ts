import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReviewSample } from '../../src/release/review/model';
import { keyAction, ReviewQueue, valueText } from '../../webview-ui/src/review/reviewQueue';

function sample(requestId: string, disagree = true): ReviewSample {
  return {
    requestId,
    ts: '2026-12-01T10:00:00.000Z',
    input: { age: 42 },
    production: { version: 'v1', variant: 'production', prediction: 0 },
    candidate: { version: 'v2', variant: 'candidate', prediction: disagree ? 1 : 0 },
    disagree,
  };
}

test('keys: 1-4 give a verdict, j/k and arrows move, c goes to the comment, nothing while typing', () => {
  assert.deepEqual(keyAction('1', false), { kind: 'verdict', verdict: 'candidate' });
  assert.deepEqual(keyAction('2', false), { kind: 'verdict', verdict: 'production' });
  assert.deepEqual(keyAction('3', false), { kind: 'verdict', verdict: 'both' });
  assert.deepEqual(keyAction('4', false), { kind: 'verdict', verdict: 'neither' });
  assert.deepEqual(keyAction('j', false), { kind: 'move', by: 1 });
  assert.deepEqual(keyAction('ArrowLeft', false), { kind: 'move', by: -1 });
  assert.deepEqual(keyAction('c', false), { kind: 'comment' });
  assert.equal(keyAction('5', false), undefined);
  assert.equal(keyAction('1', true), undefined);
});

test('a verdict moves on to the next sample not judged, and judged ones can be revisited', () => {
  const queue = new ReviewQueue();
  queue.load(['a', 'b', 'c'].map((id) => sample(id)));
  assert.equal(queue.current()?.requestId, 'a');
  queue.decided('a', 'candidate');
  assert.equal(queue.current()?.requestId, 'b');
  queue.move(1);
  queue.decided('c', 'both');
  // After the last one, back to the first not judged.
  assert.equal(queue.current()?.requestId, 'b');
  assert.deepEqual(queue.position, { index: 1, count: 3, pending: 1 });
  queue.move(-5);
  assert.equal(queue.current()?.requestId, 'a');
  queue.decided('a', 'neither');
  assert.equal(queue.verdicts.get('a'), 'neither');
  assert.equal(queue.current()?.requestId, 'b');
});

test('a reload keeps the judged samples and the one shown', () => {
  const queue = new ReviewQueue();
  queue.load(['a', 'b', 'c'].map((id) => sample(id)));
  queue.decided('a', 'candidate');
  queue.move(1);
  // The host leaves judged requests out; a new disagreement came in first.
  queue.load(['n', 'b', 'c'].map((id) => sample(id)));
  assert.equal(queue.current()?.requestId, 'c');
  assert.deepEqual(queue.position, { index: 3, count: 4, pending: 3 });
  const empty = new ReviewQueue();
  empty.load([]);
  assert.equal(empty.current(), undefined);
  empty.move(1);
  assert.deepEqual(empty.position, { index: 0, count: 0, pending: 0 });
});

test('values show strings as they are and the rest as JSON', () => {
  assert.equal(valueText('yes'), 'yes');
  assert.equal(valueText(0.25), '0.25');
  assert.equal(valueText({ label: 1, proba: [0.2, 0.8] }), '{"label":1,"proba":[0.2,0.8]}');
  assert.equal(valueText(null), 'null');
});
