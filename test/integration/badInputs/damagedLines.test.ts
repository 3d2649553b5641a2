// The bad-input catalogue: a damaged line in a file the project reads back (here the review
// decisions), through `mlops review`. The line is skipped with a warning on stderr naming the file
// and the line, once per command even when `--wait` reads the file again; the good lines are still
// read, stdout (and its JSON) is as without the damage, and the exit code is unchanged. The target
// is a Kubernetes one whose kubeconfig is only read, so no cluster (and no Docker) is needed.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { openKubernetesTarget } from '../../../src/deploy/targets/kubernetes/kubernetesTarget';
import { monitoringDir } from '../../../src/monitor/countsLog';
import { targetKey } from '../../../src/monitor/targetKey';
import { appendDecision } from '../../../src/release/review/decisions';
import type { ReviewDecision } from '../../../src/release/review/model';
import { runCli } from '../../support/badInput';

let root = '';
let kubeconfig = '';
let reviews = '';

const decision = (requestId: string, verdict: ReviewDecision['verdict']): ReviewDecision => ({
  requestId,
  verdict,
  reviewer: 'ana',
  ts: '2026-12-07T10:00:00Z',
  candidateVersion: '2',
  productionVersion: '1',
});

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'mlops-bad-lines-'));
  kubeconfig = join(root, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster:',
      '    server: https://127.0.0.1:6443',
      'users:',
      '- name: u',
      '  user:',
      '    token: not-a-real-token',
      'contexts:',
      '- name: ctx',
      '  context:',
      '    cluster: c',
      '    user: u',
      '    namespace: models',
      'current-context: ctx',
      '',
    ].join('\n'),
  );
  writeFileSync(join(root, 'mlops.config.json'), JSON.stringify({ review: { churn: { minReviews: 3 } } }));
  const targetId = targetKey(await openKubernetesTarget({ kubeconfig }));
  const context = { dir: monitoringDir(root, targetId, 'churn'), targetId, deployment: 'churn' };
  reviews = join(context.dir, 'reviews.jsonl');
  appendDecision(context, decision('r1', 'candidate'));
  // A decision cut short by a crash, between two good ones.
  appendFileSync(reviews, '{"requestId":"r2","verdict":"cand\n');
  appendDecision(context, decision('r3', 'both'));
});

const review = (...args: string[]) => [
  'review',
  ...args,
  '--target',
  'kubernetes',
  '--kubeconfig',
  kubeconfig,
  '--name',
  'churn',
  '--workspace',
  root,
];
const warning = () =>
  new RegExp(`^warning: Line 2 of ${reviews} is not JSON\\. It was skipped; the rest was read\\.$`, 'm');

test('review export: the good decisions on stdout, the damaged line named on stderr, exit 0', async () => {
  const result = await runCli(review('export'));
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).requestId),
    ['r1', 'r3'],
  );
  assert.match(result.stderr, warning());
});

test('review status --json: stdout stays one JSON document counting the good decisions', async () => {
  const result = await runCli([...review('status'), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const { reviews: counted, open } = JSON.parse(result.stdout);
  assert.deepEqual({ counted, open }, { counted: 2, open: false });
  assert.match(result.stderr, warning());
});

test('review status --wait reads the file again and again, and warns of the damaged line once; exit 1 as before', async () => {
  const result = await runCli([...review('status'), '--wait', '3']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /^churn: review gate closed: 2 of 3 reviews/);
  assert.match(result.stderr, /waiting for the review gate of churn/);
  assert.equal(result.stderr.match(new RegExp(warning().source, 'gm'))?.length, 1, result.stderr);
});
