import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_REMOTE_TIMEOUT_MS, remoteTimeoutMs, secondsText } from '../../src/shared/remoteTimeout';

test('the remote timeout: 30 s, or MLOPS_REMOTE_TIMEOUT_SECONDS; anything but seconds above 0 is refused by name', () => {
  assert.equal(DEFAULT_REMOTE_TIMEOUT_MS, 30_000);
  assert.equal(remoteTimeoutMs({}), 30_000);
  assert.equal(remoteTimeoutMs({ MLOPS_REMOTE_TIMEOUT_SECONDS: ' ' }), 30_000);
  assert.equal(remoteTimeoutMs({ MLOPS_REMOTE_TIMEOUT_SECONDS: '2' }), 2000);
  assert.equal(remoteTimeoutMs({ MLOPS_REMOTE_TIMEOUT_SECONDS: '0.5' }), 500);
  for (const bad of ['0', '-3', 'soon', 'Infinity']) {
    assert.throws(
      () => remoteTimeoutMs({ MLOPS_REMOTE_TIMEOUT_SECONDS: bad }),
      new RegExp(`MLOPS_REMOTE_TIMEOUT_SECONDS is '${bad}', which is not a number of seconds above 0`),
    );
  }
  assert.equal(secondsText(30_000), '30 s');
  assert.equal(secondsText(1500), '1.5 s');
});
