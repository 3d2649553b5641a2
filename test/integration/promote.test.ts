// The promotion flow on a real single-node swarm, with a real `mlflow server`: an A/B test whose
// outcomes come back through POST /feedback into the lake, a promotion refused while the review
// gate is closed (production keeps serving), then, once the reviews meet the gate, the candidate
// promoted: a new stable revision, the split ended, the history told why, and MLflow's alias moved.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Dockerode from 'dockerode';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { DOCKER_SOCKET, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { startMlflowServer } from '../../scripts/lib/mlflow.mjs';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import type { Lake } from '../../src/datasets/model';
import { openSwarmTarget, type SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { readAudit } from '../../src/monitor/audit';
import { monitoringDir } from '../../src/monitor/countsLog';
import { FEEDBACK_TABLE } from '../../src/monitor/requestsTable';
import { targetKey } from '../../src/monitor/targetKey';
import { abState, candidateGate } from '../../src/release/abFeed';
import { promote } from '../../src/release/promote';
import { appendDecision } from '../../src/release/review/decisions';
import { MlopsError } from '../../src/shared/errors';
import { mlflowUnavailableReason, registerModelVersions } from '../support/mlflow';
import { swarmWithModelImages } from '../support/modelImages';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
const ROW = { tenure_months: 3, monthly_charges: 90, support_calls: 4 };

function call(
  port: number,
  path: string,
  body: unknown,
  agent: Agent,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; json: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // an error page
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, json });
        });
      },
    );
    req.on('error', () => resolve({ status: 0, headers: {}, json: {} }));
    req.end(JSON.stringify(body));
  });
}

describe('promoting the winner of an A/B test', { timeout: 1_200_000 }, () => {
  let unavailable = '';
  let target: SwarmTarget;
  let v1 = '';
  let v2 = '';
  let mlflow: Awaited<ReturnType<typeof startMlflowServer>> | undefined;
  let lake: Lake;
  const name = `promote-${Date.now().toString(36)}`;
  const folder = mkdtempSync(join(tmpdir(), 'mlops-promote-'));

  before(async () => {
    const noMlflow = mlflowUnavailableReason();
    if (noMlflow) return void (unavailable = `MLflow is not available: ${noMlflow}`);
    const built = await swarmWithModelImages();
    if (!built.ok) return void (unavailable = built.reason);
    ({ v1, v2 } = built);
    target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
    lake = openLake(join(folder, 'lake'));
    mlflow = await startMlflowServer({ backendStoreUri: `sqlite:///${join(folder, 'mlflow.db')}` });
    await registerModelVersions(mlflow.url, 'churn', 2);
    const response = await fetch(`${mlflow.url}/api/2.0/mlflow/registered-models/alias`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'churn', alias: 'champion', version: '1' }),
    });
    assert.ok(response.ok, await response.text());
  });

  after(async () => {
    await target?.remove(name).catch(() => undefined);
    await mlflow?.stop();
    await lake?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('outcomes reach the lake; a closed review gate refuses; an open one promotes, pins, ends the split and moves the alias', async (t) => {
    if (!needService(t, !unavailable, unavailable)) return;
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host', changeCause: 'the proven model' });
    await target.pinStable(name, 1);
    await target.split(name, {
      variants: [
        { name: 'production', weight: 50 },
        { name: 'candidate', image: v2, weight: 50 },
      ],
      stickyKey: 'header:X-User-Id',
    });

    // 120 users, each with one prediction and its real outcome sent back through the router, as
    // the user's app does: with the deployment's data token.
    const auth = { 'X-Mlops-Token': await target.dataToken(name) };
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const answered: { variant: string; requestId: string }[] = [];
    for (let user = 0; user < 120; user++) {
      const answer = await call(
        port,
        '/invocations',
        { dataframe_records: [{ ...ROW, tenure_months: user % 60 }] },
        agent,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      answered.push({ variant: answer.headers['x-mlops-variant']!, requestId: answer.headers['x-request-id']! });
      const outcome = await call(
        port,
        '/feedback',
        { request_id: answer.headers['x-request-id'], label: user % 3 === 0 ? 1 : 0 },
        agent,
        auth,
      );
      assert.equal(outcome.status, 202, JSON.stringify(outcome.json));
    }
    agent.destroy();
    assert.ok(new Set(answered.map((a) => a.variant)).size === 2, 'both variants answered');

    const workspace = folder;
    const targetId = targetKey(target);
    const state = await abState({ workspace, lake, target, targetId, name });
    const feedback = await lake.query(
      `SELECT count(DISTINCT request_id) FROM ${FEEDBACK_TABLE} WHERE deployment = '${name}'`,
    );
    assert.equal(Number(feedback.rows[0][0]), 120, 'every outcome is in the lake once');
    const byVariant = Object.fromEntries(state.report.variants.map((v) => [v.variant, v]));
    assert.equal(byVariant.production.requests + byVariant.candidate.requests, 120);
    assert.equal(
      byVariant.production.labelled + byVariant.candidate.labelled,
      120,
      'every answer is joined to its outcome',
    );
    assert.equal(byVariant.candidate.requests, answered.filter((a) => a.variant === 'candidate').length);
    assert.ok(state.report.comparisons[0]?.accuracy, 'the accuracies are compared');

    // The default gate (30 reviews, 90 % accepted) is closed: nothing changes on the cluster.
    const auditDir = monitoringDir(workspace, targetId, name);
    const candidateVersion = byVariant.candidate.versions[0]!;
    const productionVersion = byVariant.production.versions[0]!;
    const closed = candidateGate({ workspace, targetId, name }, state.report, 'candidate');
    assert.deepEqual(closed, {
      open: false,
      reason: 'review gate of candidate: 0 of 30 reviews; no reviews yet (needs 90%)',
    });
    const input = {
      target,
      targetId,
      deployment: name,
      variant: 'candidate',
      evidence: [{ source: 'ab-test' as const, summary: state.report.verdict.summary }],
      auditDir,
      by: 'test',
    };
    await assert.rejects(
      promote({ ...input, gate: closed }),
      (error: unknown) =>
        error instanceof MlopsError &&
        /cannot be promoted yet: review gate of candidate: 0 of 30 reviews/.test(error.message),
    );
    assert.equal((await target.status(name)).revision, 1, 'production still serves');
    assert.ok(await target.splitStatus(name), 'the split is still running');

    // 30 reviews, 28 for the candidate: the gate opens.
    const reviewed = answered.slice(0, 30);
    reviewed.forEach((a, i) =>
      appendDecision(
        { dir: auditDir, targetId, deployment: name },
        {
          requestId: a.requestId,
          verdict: i < 27 ? 'candidate' : i === 27 ? 'both' : 'production',
          reviewer: 'ana',
          ts: new Date().toISOString(),
          candidateVersion,
          productionVersion,
        },
      ),
    );
    const open = candidateGate({ workspace, targetId, name }, state.report, 'candidate');
    assert.equal(open.open, true, open.reason);

    const progress: string[] = [];
    const result = await promote({
      ...input,
      gate: open,
      evidence: [...input.evidence, { source: 'review', summary: open.reason }],
      mlflow: {
        server: { url: mlflow!.url },
        alias: 'champion',
        imageLabels: async (image) => ({
          ...(await docker.getImage(image).inspect()).Config.Labels,
          'mlops.mlflow.model_uri': 'models:/churn/2',
        }),
      },
      options: { onProgress: ({ message }) => progress.push(message) },
    });
    assert.equal(result.stableRevision, 2);
    assert.deepEqual(result.alias, { name: 'churn', version: '2', alias: 'champion', previous: '1' });
    const status = await target.status(name);
    assert.deepEqual([status.revision, status.image], [2, v2]);
    const history = await target.history(name);
    assert.deepEqual(
      history.filter((r) => r.stable).map((r) => r.revision),
      [2],
    );
    assert.match(
      history.find((r) => r.current)!.changeCause,
      /^promote candidate: ab-test: .*; review: review gate of candidate: 30 of 30 reviews; acceptance 93%/,
    );
    assert.equal(await target.splitStatus(name), null, 'the split ended');
    const variants = await docker.listServices({
      filters: { label: [`mlops.deployment=${name}`, 'mlops.role=variant'] },
    });
    assert.equal(variants.length, 0, 'the candidate service is gone');
    const after = await call(port, '/invocations', { dataframe_records: [ROW] }, new Agent());
    assert.equal(after.status, 200);
    const promotion = readAudit(auditDir).find((e) => e.kind === 'promotion');
    assert.match(
      promotion?.message ?? '',
      /candidate promoted as revision 2 .* MLflow: churn@champion now names version 2 \(was 1\)\./,
    );
    const alias = await (
      await fetch(`${mlflow!.url}/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion`)
    ).json();
    assert.equal((alias as { model_version: { version: string } }).model_version.version, '2');
    assert.ok(
      progress.some((m) => m.startsWith('Deploying candidate')),
      progress.join(' | '),
    );
  });
});
