// The review gate on real components: samples read from a lake `requests` table filled by the
// request log ingest, decisions in reviews.jsonl and the audit log read back as after a restart,
// the gate's thresholds from mlops.config.json and the setting, and `mlops review` on a real
// Docker Engine (the target whose key names the deployment's folder).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/shared/cliFramework';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { openSwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { readAudit } from '../../src/monitor/audit';
import { monitoringDir } from '../../src/monitor/countsLog';
import { ingestRequestLines } from '../../src/monitor/requestsTable';
import { targetKey } from '../../src/monitor/targetKey';
import { appendDecision, latestDecisions, readDecisions, tally } from '../../src/release/review/decisions';
import { DEFAULT_GATE, deploymentGate, gateSettingsFor, reviewGate } from '../../src/release/review/gate';
import type { ReviewDecision, Verdict } from '../../src/release/review/model';
import { reviewCommand } from '../../src/release/review/cli';
import { reviewerName } from '../../src/release/review/reviewer';
import { reviewSamples } from '../../src/release/review/samples';
import { MlopsError } from '../../src/shared/errors';
import { dockerAvailable } from '../support/docker';
import { needService } from '../support/services';

const TARGET = 'swarm//var/run/docker.sock';

function workspace(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-review-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const line = (fields: Record<string, unknown>) => JSON.stringify({ status: 200, latency_ms: 3, ...fields });

test('samples pair production with the candidate, disagreements first then newest, leaving out what was reviewed', async (t) => {
  const lake = openLake(join(workspace(t), 'lake'));
  t.after(() => lake.close());
  const row = { age: 42, plan: 'basic' };
  const lines = [
    // Before the split columns existed: production's answers.
    line({ ts: '2026-12-01T10:00:00.000Z', request_id: 'r6', version: 'v1', inputs: [[1, 2.5]], predictions: [0] }),
    line({
      ts: '2026-12-01T10:00:00.100Z',
      request_id: 'r6',
      version: 'v2',
      variant: 'b',
      shadow: false,
      inputs: [[1, 2.5]],
      predictions: [1],
    }),
    line({
      ts: '2026-12-01T10:01:00.000Z',
      request_id: 'r1',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row, { age: 7 }],
      predictions: [0, 1],
    }),
    line({
      ts: '2026-12-01T10:01:00.020Z',
      request_id: 'r1',
      version: 'v2',
      variant: 'candidate',
      shadow: true,
      inputs: [row, { age: 7 }],
      predictions: [1, 1],
    }),
    line({
      ts: '2026-12-01T10:02:00.000Z',
      request_id: 'r2',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row],
      predictions: [1],
    }),
    line({
      ts: '2026-12-01T10:02:00.020Z',
      request_id: 'r2',
      version: 'v2',
      variant: 'candidate',
      shadow: true,
      inputs: [row],
      predictions: [1.0],
    }),
    line({
      ts: '2026-12-01T10:03:00.000Z',
      request_id: 'r3',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row],
      predictions: ['yes'],
    }),
    line({
      ts: '2026-12-01T10:03:00.020Z',
      request_id: 'r3',
      version: 'v2',
      variant: 'candidate',
      shadow: true,
      inputs: [row],
      predictions: ['no'],
    }),
    // Production alone, and a candidate that failed: nothing to compare.
    line({
      ts: '2026-12-01T10:04:00.000Z',
      request_id: 'r4',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row],
      predictions: [0],
    }),
    line({
      ts: '2026-12-01T10:05:00.000Z',
      request_id: 'r5',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row],
      predictions: [0],
    }),
    line({
      ts: '2026-12-01T10:05:00.020Z',
      request_id: 'r5',
      version: 'v2',
      variant: 'candidate',
      shadow: true,
      status: 500,
      error: 'boom',
      inputs: [row],
      predictions: null,
    }),
    // Another candidate version.
    line({
      ts: '2026-12-01T10:06:00.000Z',
      request_id: 'r7',
      version: 'v1',
      variant: 'production',
      shadow: false,
      inputs: [row],
      predictions: [0],
    }),
    line({
      ts: '2026-12-01T10:06:00.020Z',
      request_id: 'r7',
      version: 'v3',
      variant: 'candidate',
      shadow: true,
      inputs: [row],
      predictions: [0],
    }),
  ];
  await ingestRequestLines(lake, lines.slice(0, 1), { target: TARGET, deployment: 'churn' });
  await ingestRequestLines(lake, lines.slice(1), { target: TARGET, deployment: 'churn' });
  // The same request ids in another deployment stay out.
  await ingestRequestLines(lake, lines.slice(2, 4), { target: TARGET, deployment: 'other' });

  const samples = await reviewSamples(lake, { target: TARGET, deployment: 'churn' });
  assert.deepEqual(
    samples.map((s) => [s.requestId, s.disagree]),
    [
      ['r3', true],
      ['r1', true],
      ['r6', true],
      ['r7', false],
      ['r2', false],
    ],
  );
  const r1 = samples.find((s) => s.requestId === 'r1')!;
  assert.deepEqual(r1, {
    requestId: 'r1',
    ts: '2026-12-01T10:01:00.000Z',
    input: row,
    production: { version: 'v1', variant: 'production', prediction: 0 },
    candidate: { version: 'v2', variant: 'candidate', prediction: 1 },
    disagree: true,
  });
  assert.deepEqual(samples.find((s) => s.requestId === 'r6')!.input, { 0: 1, 1: 2.5 });
  assert.equal(samples.find((s) => s.requestId === 'r6')!.candidate.variant, 'b');
  assert.deepEqual(samples.find((s) => s.requestId === 'r3')!.candidate.prediction, 'no');

  const rest = await reviewSamples(lake, {
    target: TARGET,
    deployment: 'churn',
    reviewed: ['r3', 'r1'],
    candidateVersion: 'v2',
  });
  assert.deepEqual(
    rest.map((s) => s.requestId),
    ['r6', 'r2'],
  );
  assert.deepEqual(
    (await reviewSamples(lake, { target: TARGET, deployment: 'churn', limit: 1 })).map((s) => s.requestId),
    ['r3'],
  );
  assert.deepEqual(await reviewSamples(lake, { target: TARGET, deployment: 'nothing' }), []);
});

test('a lake without a requests table has no samples', async (t) => {
  const lake = openLake(join(workspace(t), 'lake'));
  t.after(() => lake.close());
  assert.deepEqual(await reviewSamples(lake, { target: TARGET, deployment: 'churn' }), []);
});

function decision(requestId: string, verdict: Verdict, extra: Partial<ReviewDecision> = {}): ReviewDecision {
  return {
    requestId,
    verdict,
    reviewer: 'Ada',
    ts: new Date().toISOString(),
    candidateVersion: 'v2',
    productionVersion: 'v1',
    ...extra,
  };
}

test('decisions survive a restart, a later one replaces the earlier in the tally, and each lands in the audit log', (t) => {
  const dir = monitoringDir(workspace(t), TARGET, 'churn');
  const context = { dir, targetId: TARGET, deployment: 'churn' };
  appendDecision(context, decision('r1', 'production', { comment: 'the old model is right here' }));
  appendDecision(context, decision('r2', 'both'));
  appendDecision(context, decision('r1', 'candidate', { reviewer: 'Grace' }));
  appendDecision(context, decision('r9', 'neither', { candidateVersion: 'v3' }));
  assert.throws(
    () => appendDecision(context, decision('r3', 'maybe' as Verdict)),
    (error: unknown) => error instanceof MlopsError && /candidate, production, both, neither/.test(error.message),
  );

  // Read back from the files only, as a new extension host or CLI would.
  const decisions = readDecisions(dir);
  assert.equal(decisions.length, 4);
  assert.deepEqual(tally(decisions), { reviews: 3, candidate: 1, production: 0, both: 1, neither: 1 });
  assert.deepEqual(
    latestDecisions(decisions, 'v2').map((d) => [d.requestId, d.verdict, d.reviewer]),
    [
      ['r2', 'both', 'Ada'],
      ['r1', 'candidate', 'Grace'],
    ],
  );
  const audit = readAudit(dir);
  assert.deepEqual(
    audit.map((e) => e.kind),
    ['review', 'review', 'review', 'review'],
  );
  assert.equal(
    audit[3].message,
    'Ada found production right on request r1 (v2 against v1): “the old model is right here”.',
  );
  assert.equal(audit[1].by, 'Grace');
  assert.equal(audit[0].deployment, 'churn');
});

test('the gate says what it waits for and opens at the thresholds of the config file and the setting', (t) => {
  const root = workspace(t);
  assert.deepEqual(gateSettingsFor('churn', root), DEFAULT_GATE);
  writeFileSync(
    join(root, 'mlops.config.json'),
    JSON.stringify({
      monitoring: { churn: { psi: 0.2 } },
      review: { '*': { minReviews: 30, minAcceptance: 0.9 }, churn: { minReviews: 12 } },
    }),
  );
  assert.deepEqual(gateSettingsFor('churn', root), { minReviews: 12, minAcceptance: 0.9 });
  assert.deepEqual(gateSettingsFor('fraud', root), { minReviews: 30, minAcceptance: 0.9 });
  assert.deepEqual(gateSettingsFor('churn', root, { churn: { minAcceptance: 0.8 } }), {
    minReviews: 12,
    minAcceptance: 0.8,
  });

  const verdicts: Verdict[] = [
    'candidate',
    'candidate',
    'both',
    'candidate',
    'production',
    'candidate',
    'both',
    'candidate',
    'neither',
    'candidate',
  ];
  const ten = verdicts.map((v, i) => decision(`r${i}`, v));
  const closed = reviewGate(ten, { minReviews: 30, minAcceptance: 0.9 });
  assert.deepEqual(closed, {
    open: false,
    reviews: 10,
    accepted: 8,
    acceptance: 0.8,
    minReviews: 30,
    minAcceptance: 0.9,
    reason: '10 of 30 reviews; acceptance 80% (needs 90%)',
  });
  const twelve = [...ten, decision('r10', 'candidate'), decision('r11', 'both')];
  assert.equal(
    reviewGate(twelve, { minReviews: 12, minAcceptance: 0.9 }).reason,
    '12 of 12 reviews; acceptance 83% (needs 90%)',
  );
  const open = reviewGate(twelve, { minReviews: 12, minAcceptance: 0.8 });
  assert.equal(open.open, true);
  assert.equal(open.reason, '12 of 12 reviews; acceptance 83% (needs 80%): the gate is open');
  // Changing a verdict moves the tally.
  assert.equal(
    reviewGate([...twelve, decision('r4', 'candidate'), decision('r8', 'both')], { minReviews: 12, minAcceptance: 0.9 })
      .open,
    true,
  );
  assert.equal(
    reviewGate([], { minReviews: 5, minAcceptance: 0.5 }).reason,
    '0 of 5 reviews; no reviews yet (needs 50%)',
  );

  // From the files: the decisions of the deployment's folder, per candidate version.
  const dir = monitoringDir(root, TARGET, 'churn');
  for (const d of [...twelve, decision('x', 'production', { candidateVersion: 'v3' })])
    appendDecision({ dir, targetId: TARGET, deployment: 'churn' }, d);
  const fromFiles = deploymentGate(dir, 'churn', root, {
    setting: { churn: { minAcceptance: 0.8 } },
    candidateVersion: 'v2',
  });
  assert.equal(fromFiles.gate.reason, '12 of 12 reviews; acceptance 83% (needs 80%): the gate is open');
  assert.deepEqual(fromFiles.tally, { reviews: 12, candidate: 7, production: 1, both: 3, neither: 1 });
  assert.equal(
    deploymentGate(dir, 'churn', root, { candidateVersion: 'v3' }).gate.reason,
    '1 of 12 reviews; acceptance 0% (needs 90%)',
  );

  writeFileSync(join(root, 'mlops.config.json'), JSON.stringify({ review: { churn: { minAcceptance: 90 } } }));
  assert.throws(
    () => gateSettingsFor('churn', root),
    (error: unknown) =>
      error instanceof MlopsError &&
      error.message ===
        'mlops.config.json review["churn"].minAcceptance is a share between 0 and 1 (0.9 for 90 %), not 90.',
  );
});

test("the reviewer is the workspace's git user.name, else the OS user", async (t) => {
  const repo = workspace(t);
  execFileSync('git', ['init', '--quiet', repo]);
  execFileSync('git', ['config', 'user.name', 'Ada Lovelace'], { cwd: repo });
  assert.equal(await reviewerName(repo), 'Ada Lovelace');
  const plain = workspace(t);
  const emptyConfig = join(plain, 'empty.gitconfig');
  writeFileSync(emptyConfig, '');
  const saved = process.env.GIT_CONFIG_GLOBAL;
  process.env.GIT_CONFIG_GLOBAL = emptyConfig;
  t.after(() => (saved === undefined ? delete process.env.GIT_CONFIG_GLOBAL : (process.env.GIT_CONFIG_GLOBAL = saved)));
  assert.equal(await reviewerName(plain), userInfo().username);
});

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: (text: string) => (out.stdout += text), stderr: (text: string) => (out.stderr += text) },
  };
}
const program = { name: 'mlops', version: '0.0.0', commands: [reviewCommand] };

test('mlops review status waits for the gate and export prints every decision', { timeout: 60_000 }, async (t) => {
  const docker = await dockerAvailable();
  if (!needService(t, docker.ok, docker.reason)) return;
  const root = workspace(t);
  writeFileSync(
    join(root, 'mlops.config.json'),
    JSON.stringify({ review: { churn: { minReviews: 3, minAcceptance: 0.6 } } }),
  );
  const targetId = targetKey(await openSwarmTarget());
  const context = { dir: monitoringDir(root, targetId, 'churn'), targetId, deployment: 'churn' };
  appendDecision(context, decision('r1', 'candidate', { comment: 'fine, "really"' }));
  appendDecision(context, decision('r2', 'production'));

  const status = capture();
  assert.equal(
    await runCli(program, ['review', 'status', '--name', 'churn', '--workspace', root, '--json'], status.io),
    0,
    status.out.stderr,
  );
  assert.deepEqual(JSON.parse(status.out.stdout), {
    deployment: 'churn',
    open: false,
    reviews: 2,
    accepted: 1,
    acceptance: 0.5,
    minReviews: 3,
    minAcceptance: 0.6,
    reason: '2 of 3 reviews; acceptance 50% (needs 60%)',
  });

  const started = Date.now();
  const timedOut = capture();
  assert.equal(
    await runCli(program, ['review', 'status', '--name', 'churn', '--workspace', root, '--wait', '1'], timedOut.io),
    1,
  );
  assert.ok(Date.now() - started >= 1000, 'waited the whole second');
  assert.match(timedOut.out.stdout, /^churn: review gate closed: 2 of 3 reviews/);
  assert.match(timedOut.out.stderr, /waiting for the review gate of churn/);

  // A decision made while the pipeline waits opens the gate.
  const waiting = capture();
  const waited = runCli(
    program,
    ['review', 'status', '--name', 'churn', '--workspace', root, '--wait', '30', '--json'],
    waiting.io,
  );
  setTimeout(() => appendDecision(context, decision('r3', 'both')), 300);
  assert.equal(await waited, 0, waiting.out.stderr);
  assert.equal(JSON.parse(waiting.out.stdout).open, true);

  const csv = capture();
  assert.equal(
    await runCli(program, ['review', 'export', '--name', 'churn', '--workspace', root, '--format', 'csv'], csv.io),
    0,
  );
  const rows = csv.out.stdout.trimEnd().split('\r\n');
  assert.equal(rows[0], 'requestId,verdict,comment,reviewer,ts,candidateVersion,productionVersion');
  assert.equal(rows.length, 4);
  assert.match(rows[1], /^r1,candidate,"fine, ""really""",Ada,/);
  const jsonl = capture();
  assert.equal(await runCli(program, ['review', 'export', '--name', 'churn', '--workspace', root], jsonl.io), 0);
  assert.deepEqual(
    jsonl.out.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as ReviewDecision).verdict),
    ['candidate', 'production', 'both'],
  );

  const bad = capture();
  assert.equal(await runCli(program, ['review', 'approve', '--name', 'churn'], bad.io), 2);
  assert.match(bad.out.stderr, /unknown review command 'approve': use status or export/);
});
