import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { ReviewRequest } from '../../src/release/review/contract';

test('the Review panel host accepts its messages and refuses malformed ones', () => {
  for (const message of [
    { type: 'ready' },
    { type: 'refresh' },
    { type: 'promote' },
    { type: 'showLog' },
    { type: 'decide', requestId: 'r-1', verdict: 'both' },
    { type: 'decide', requestId: 'r-1', verdict: 'neither', comment: 'the input is garbage' },
  ]) {
    assert.ok(v.safeParse(ReviewRequest, message).success, JSON.stringify(message));
  }
  for (const message of [
    { type: 'decide', requestId: 'r-1', verdict: 'maybe' },
    { type: 'decide', requestId: '', verdict: 'candidate' },
    { type: 'decide', requestId: 'r-1', verdict: 'candidate', comment: 'x'.repeat(2001) },
    { type: 'decide', verdict: 'candidate' },
    { type: 'approveAll' },
  ]) {
    assert.equal(v.safeParse(ReviewRequest, message).success, false, JSON.stringify(message));
  }
});
