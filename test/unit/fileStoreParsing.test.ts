import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlatYaml } from '../../src/experiments/stores/flatYaml';
import { latestInMetricFile, metricFileProblem, parseMetricFile } from '../../src/experiments/stores/metricLines';

test('meta.yaml as MLflow writes it', () => {
  const meta = parseFlatYaml(
    "artifact_uri: file:///tmp/mlruns/1/abc/artifacts\nend_time: null\nexperiment_id: '1'\nlifecycle_stage: active\nrun_name: it''s ok\nstart_time: 1700000000000\nstatus: 1\ntags: []\nuser_id: root\nname: 'it''s quoted'\n",
  );
  assert.equal(meta.experiment_id, '1');
  assert.equal(meta.end_time, null);
  assert.equal(meta.start_time, 1700000000000);
  assert.equal(meta.status, 1);
  assert.deepEqual(meta.tags, []);
  assert.equal(meta.name, "it's quoted");
});

test('garbled meta.yaml is rejected with the line', () => {
  assert.throws(() => parseFlatYaml('name: ok\n{{{ not yaml'), /line 2/);
  assert.throws(() => parseFlatYaml("name: 'unterminated\n"), /line 1: unterminated/);
});

test('metric lines: with and without a step, non-finite values, garbage reported by line', () => {
  const { points, badLines } = parseMetricFile(
    '1000 0.5 0\n1001 nan 1\n1002 inf 2\n1003 -inf 3\n1004 0.25\nhello world again and again\n1005 notanumber 4\n',
  );
  assert.equal(points.length, 5);
  assert.ok(Number.isNaN(points[1].value));
  assert.equal(points[2].value, Infinity);
  assert.equal(points[3].value, -Infinity);
  assert.deepEqual(points[4], { step: 0, timestamp: 1004, value: 0.25 });
  assert.equal(badLines.length, 2);
  assert.match(badLines[0], /^line 6:/);
  assert.match(badLines[1], /^line 7:/);
});

test('the latest value is the max by (step, timestamp), not the last line', () => {
  const { latest, badLines } = latestInMetricFile('1000 0.1 5\n2000 0.2 3\n900 0.3 5\ngarbage\n');
  assert.equal(latest?.value, 0.1);
  assert.deepEqual(badLines, ["line 4: expected 2 or 3 fields, found 1 ('garbage')"]);
});

test("a metric file's problem names the file, the rule, the first bad lines and how many more", () => {
  const { badLines } = parseMetricFile(['x', '1 2 3', 'y', 'z z z z', '2 2 2', 'w'].join('\n'));
  assert.equal(badLines.length, 4);
  const problem = metricFileProblem('/store/1/abc/metrics/loss', badLines);
  assert.match(
    problem,
    /^\/store\/1\/abc\/metrics\/loss has lines that are not '<timestamp_ms> <value> \[<step>\]', skipped: line 1: .*\('x'\); line 3: .*; line 4: .* \(and 1 more\)$/,
  );
});
