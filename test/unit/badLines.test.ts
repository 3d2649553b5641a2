// Damaged lines of the files read back are skipped but never silent: each is reported once, naming
// its file and line, however often a panel reads the file again; the good lines are still read.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type Docker from 'dockerode';
import type { DeployTarget } from '../../src/deploy/targets/deployTarget';
import { saveRevision, type RevisionRecord } from '../../src/deploy/targets/swarm/revisionStore';
import { SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { appendAudit } from '../../src/monitor/audit';
import { monitorAuditTrail } from '../../src/monitor/auditTrail';
import { appendCounts, monitoringDir } from '../../src/monitor/countsLog';
import { observe } from '../../src/monitor/observe';
import type { MonitorSource } from '../../src/monitor/sources';
import { targetKey } from '../../src/monitor/targetKey';
import { appendDecision } from '../../src/release/review/decisions';
import { deploymentGate } from '../../src/release/review/gate';
import { badLineStderr, badLineWarnings } from '../../src/shared/badLines';

/** A log that keeps its warnings. */
function warnings(): { warn(message: string): void; messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (message) => messages.push(message) };
}

const fakeTarget = { kind: 'swarm', location: '/var/run/docker.sock' } as unknown as DeployTarget;

function workspace(): { root: string; dir: string; targetId: string } {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bad-lines-'));
  const targetId = targetKey(fakeTarget);
  return { root, dir: monitoringDir(root, targetId, 'churn'), targetId };
}

test('the audit log in the Deployments view: a damaged line is warned of once, naming file and line', () => {
  const { root, dir } = workspace();
  const entry = { at: '2026-12-07T10:00:00Z', target: 't', deployment: 'churn', message: 'm', by: 'auto' } as const;
  appendAudit(dir, { ...entry, kind: 'alert' });
  appendFileSync(join(dir, 'audit.jsonl'), '{"at":"2026-12-07T10:01:00Z","kind":\n');
  appendAudit(dir, { ...entry, kind: 'revert', fromRevision: 3, toRevision: 2 });
  const log = warnings();
  const trail = monitorAuditTrail(() => root, badLineWarnings(log));
  for (let refresh = 0; refresh < 3; refresh++)
    assert.deepEqual(
      trail.read(fakeTarget, 'churn').map((e) => e.kind),
      ['revert', 'alert'],
    );
  assert.deepEqual(log.messages, [
    `Line 2 of ${join(dir, 'audit.jsonl')} is not JSON. It was skipped; the rest was read.`,
  ]);
});

test('review decisions: the reporter of one log is shared, so two readers warn once; another line warns again', () => {
  const { root, dir, targetId } = workspace();
  const decision = {
    requestId: 'r1',
    verdict: 'candidate',
    reviewer: 'ana',
    ts: '2026-12-07T10:00:00Z',
    candidateVersion: '2',
    productionVersion: '1',
  } as const;
  const context = { dir, targetId, deployment: 'churn' };
  appendDecision(context, decision);
  const file = join(dir, 'reviews.jsonl');
  appendFileSync(file, `${JSON.stringify({ ...decision, requestId: 'r2', verdict: 'maybe' })}\n`);
  appendDecision(context, { ...decision, requestId: 'r3', verdict: 'both' });
  const log = warnings();
  // The Review panel and the A/B panel each ask for the reporter of the same log.
  for (const onBadLine of [badLineWarnings(log), badLineWarnings(log)])
    assert.equal(deploymentGate(dir, 'churn', root, { onBadLine }).gate.reviews, 2);
  assert.equal(log.messages.length, 1);
  assert.match(log.messages[0]!, new RegExp(`^Line 2 of ${file} is not a review decision: verdict: `));
  appendFileSync(file, '{"requestId":"r4"\n');
  assert.equal(deploymentGate(dir, 'churn', root, { onBadLine: badLineWarnings(log) }).gate.reviews, 2);
  assert.deepEqual(log.messages.slice(1), [`Line 4 of ${file} is not JSON. It was skipped; the rest was read.`]);
});

test('recorded counts read by a look at a deployment: the damaged line goes to stderr once per command', async () => {
  const { root, dir, targetId } = workspace();
  const now = Date.now();
  const instance = { instance: 'a', version: '1', requests: 4, errors: 0, latency: null, classes: {}, values: null };
  appendCounts(dir, { at: now - 60_000, instances: [instance], unreachable: [] });
  const day = new Date(now - 60_000).toISOString().slice(0, 10);
  const file = join(dir, `counts-${day}.jsonl`);
  appendFileSync(file, `{"at":${now - 30_000},"instances":"lost","unreachable":[]}\n`);
  const source: MonitorSource = {
    description: 'a test source',
    scrape: async () => ({ at: Date.now(), samples: [], unreachable: [] }),
    requestLines: async () => ({ lines: [], more: false, unreachable: [] }),
  };
  let stderr = '';
  const onBadLine = badLineStderr({ stderr: (text) => (stderr += text) });
  for (let look = 0; look < 2; look++) {
    const { record } = await observe({
      workspace: root,
      targetId,
      target: fakeTarget,
      name: 'churn',
      sinceMs: 600_000,
      sinceText: '10m',
      thresholds: {},
      source,
      onBadLine,
    });
    assert.ok(record.at >= now);
  }
  assert.equal(stderr.split('\n').filter(Boolean).length, 1, stderr);
  assert.match(stderr, new RegExp(`^warning: Line 2 of ${file} is not a counts record: instances: `));
});

test('a Swarm target opened with onBadRecord: a revision config that does not parse is reported, the others read', async () => {
  const record: RevisionRecord = {
    revision: 1,
    image: 'churn:1',
    imageRef: 'churn:1',
    digest: null,
    createdAt: '2026-12-07T10:00:00Z',
    changeCause: 'first',
    deployedBy: 'ana',
    gitCommit: null,
    mlflowRunId: null,
    modelImage: true,
    spec: { name: 'churn', image: 'churn:1', replicas: 1 },
  };
  const configs: { ID: string; Spec: { Name: string; Data: string } }[] = [
    { ID: 'c2', Spec: { Name: 'mlops-churn-rev-2', Data: Buffer.from('{"revision":2').toString('base64') } },
  ];
  const docker = {
    createConfig: async (spec: { Name: string; Data: string }) => configs.push({ ID: spec.Name, Spec: spec }),
    listConfigs: async () => configs,
    // The service is gone (removed by hand): its revisions are what history shows.
    getService: () => ({ inspect: async () => Promise.reject(Object.assign(new Error('gone'), { statusCode: 404 })) }),
  } as unknown as Docker;
  await saveRevision(docker, record);
  const log = warnings();
  const target = new SwarmTarget(docker, { onBadRecord: badLineWarnings(log) });
  for (let refresh = 0; refresh < 2; refresh++)
    assert.deepEqual(
      (await target.history('churn')).map((r) => r.revision),
      [1],
    );
  assert.deepEqual(log.messages, [
    'The Swarm config mlops-churn-rev-2 is not JSON. It was skipped; the rest was read.',
  ]);
});
