import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { DEFAULT_MONITOR_RANGE, MONITOR_RANGES, MonitorRequest } from '../../src/monitor/contract';
import { DEFAULT_RANGE, RANGE_CHOICES } from '../../webview-ui/src/monitor/ranges';

test('the Monitor panel accepts each of its messages', () => {
  const messages = [
    { type: 'ready' },
    ...MONITOR_RANGES.map((seconds) => ({ type: 'setRange', seconds })),
    { type: 'setLive', on: true },
    { type: 'setLive', on: false },
    { type: 'refresh' },
    { type: 'revert' },
    { type: 'showLog' },
  ];
  for (const message of messages) assert.ok(v.safeParse(MonitorRequest, message).success, JSON.stringify(message));
});

test('a range outside the fixed list is rejected', () => {
  for (const seconds of [0, -900, 600, 901, 900.5, 1e12, Number.NaN, Infinity, '900', null, undefined, [900]]) {
    assert.equal(v.safeParse(MonitorRequest, { type: 'setRange', seconds }).success, false, String(seconds));
  }
});

test('unknown and malformed Monitor messages are rejected', () => {
  const messages = [
    null,
    'refresh',
    42,
    {},
    [],
    { type: 'deleteDeployment' },
    { type: 'REFRESH' },
    { type: 7 },
    { type: 'setLive' },
    { type: 'setLive', on: 'yes' },
    { type: 'setLive', on: 1 },
    { type: 'setRange' },
    [{ type: 'ready' }],
  ];
  for (const message of messages)
    assert.equal(v.safeParse(MonitorRequest, message).success, false, JSON.stringify(message));
});

test("the webview's range picker offers exactly the protocol's ranges, with the same default", () => {
  assert.deepEqual(
    RANGE_CHOICES.map((choice) => choice.seconds),
    [...MONITOR_RANGES],
  );
  assert.deepEqual(
    RANGE_CHOICES.map((choice) => choice.label),
    ['5 min', '15 min', '1 h', '6 h', '24 h', '7 days'],
  );
  assert.equal(DEFAULT_RANGE, DEFAULT_MONITOR_RANGE);
});
