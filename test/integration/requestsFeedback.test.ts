// Request log lines of a traffic split (variant, shadow) and outcome lines (POST /feedback) in the
// lake: requests go to `requests`, outcomes to `feedback`, and a table written before the split
// columns existed gets them without losing a row.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { FEEDBACK_TABLE, ingestRequestLines, REQUESTS_TABLE } from '../../src/monitor/requestsTable';

const folder = mkdtempSync(join(tmpdir(), 'mlops-feedback-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const target = 'swarm:local';
const deployment = 'churn';

const line = (fields: Record<string, unknown>) => JSON.stringify(fields);
const request = (id: string, ts: string, extra: Record<string, unknown> = {}) =>
  line({
    ts,
    request_id: id,
    version: 'v1',
    inputs: [{ tenure: 3 }],
    predictions: ['no'],
    latency_ms: 2.5,
    status: 200,
    ...extra,
  });

test('split requests keep their variant and shadow flag; feedback lines go to the feedback table once', async () => {
  const lake = openLake(join(folder, 'split'));
  const lines = [
    request('r1', '2026-12-07T10:00:00.000Z', { variant: 'production' }),
    request('r1', '2026-12-07T10:00:00.050Z', {
      variant: 'candidate',
      shadow: true,
      version: 'v2',
      predictions: ['yes'],
    }),
    request('r2', '2026-12-07T10:00:01.000Z', { variant: 'candidate' }),
    line({ ts: '2026-12-07T10:05:00.000Z', kind: 'feedback', request_id: 'r1', label: 'yes' }),
    line({
      ts: '2026-12-07T10:05:01.000Z',
      kind: 'feedback',
      request_id: 'r2',
      label: null,
      reward: 0.25,
      version: 'v1',
    }),
    line({ ts: '2026-12-07T10:05:02.000Z', kind: 'feedback', request_id: 'r3', label: null, reward: null }),
    line({ ts: '2026-12-07T10:05:03.000Z', kind: 'telemetry', request_id: 'r4' }),
  ];
  const first = await ingestRequestLines(lake, lines, { target, deployment });
  assert.deepEqual([first.lines, first.appended, first.feedback, first.duplicates, first.malformed], [7, 3, 2, 0, 2]);
  assert.deepEqual(
    first.malformedExamples.map((e) => [e.line, e.reason]),
    [
      [6, 'feedback without a label or a numeric reward'],
      [7, 'unknown kind "telemetry"'],
    ],
  );
  const again = await ingestRequestLines(lake, lines, { target, deployment });
  assert.deepEqual([again.appended, again.feedback, again.duplicates], [0, 0, 5], 'a re-read stores nothing twice');

  const requests = await lake.query(`SELECT request_id, variant, shadow, version FROM ${REQUESTS_TABLE} ORDER BY ts`);
  assert.deepEqual(requests.rows, [
    ['r1', 'production', null, 'v1'],
    ['r1', 'candidate', true, 'v2'],
    ['r2', 'candidate', null, 'v1'],
  ]);
  const feedback = await lake.query(
    `SELECT request_id, CAST(label AS VARCHAR), reward, deployment FROM ${FEEDBACK_TABLE} ORDER BY ts`,
  );
  assert.deepEqual(feedback.rows, [
    ['r1', '"yes"', null, deployment],
    ['r2', null, 0.25, deployment],
  ]);
});

test('a requests table written before variant and shadow existed gets them as nulls, keeping its rows', async () => {
  const lake = openLake(join(folder, 'old'));
  await lake.append(
    REQUESTS_TABLE,
    `SELECT TIMESTAMP '2026-12-01 09:00:00' AS ts, 'old' AS request_id, '${target}' AS target, '${deployment}' AS deployment, 'v0' AS version,
      CAST(NULL AS VARCHAR) AS instance, CAST(200 AS INTEGER) AS status, CAST(1.5 AS DOUBLE) AS latency_ms, CAST(NULL AS VARCHAR) AS error, CAST(1 AS INTEGER) AS "rows",
      CAST('[{"tenure": 1}]' AS JSON) AS inputs, CAST('["no"]' AS JSON) AS predictions`,
  );
  const result = await ingestRequestLines(lake, [request('new', '2026-12-07T11:00:00.000Z', { variant: 'b' })], {
    target,
    deployment,
  });
  assert.equal(result.appended, 1);
  const rows = await lake.query(`SELECT request_id, variant, shadow FROM ${REQUESTS_TABLE} ORDER BY ts`);
  assert.deepEqual(rows.rows, [
    ['old', null, null],
    ['new', 'b', null],
  ]);
  const versions = await lake.versions(REQUESTS_TABLE);
  assert.equal(versions.length, 3, 'the old version, the one that added the columns, and the append');
  assert.equal(versions[1].producedBy, 'adding variant and shadow');
  assert.deepEqual(
    (await lake.tables()).map((t) => t.name),
    [REQUESTS_TABLE],
    'no feedback table without feedback lines',
  );
});
