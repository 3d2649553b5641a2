import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { EnvironmentRequest } from '../../src/environment/contract';

test('well-formed webview messages pass validation', () => {
  for (const message of [{ type: 'ready' }, { type: 'rerun' }, { type: 'showLog' }]) {
    assert.ok(v.safeParse(EnvironmentRequest, message).success, JSON.stringify(message));
  }
});

test('unknown and malformed webview messages are rejected', () => {
  for (const message of [null, 'rerun', {}, { type: 'deleteEverything' }, { type: 42 }, [{ type: 'ready' }]]) {
    assert.equal(v.safeParse(EnvironmentRequest, message).success, false, JSON.stringify(message));
  }
});
