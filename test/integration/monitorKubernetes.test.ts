// Monitoring on the real Kubernetes control plane: the pods' /metrics and request logs are read
// through the API server's pod proxy. kwok runs no containers, so the pod is given the address
// of a real model server container (the mlops.test/pod-ip annotation of the test cluster), and
// the API server proxies to it as it would to a kubelet's pod. The container runs with the token
// of a data token Secret made before the deploy (a user's own, which the deploy keeps), so the
// request log is read through the proxy with X-Mlops-Token, the header the proxy passes on.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { DOCKER_SOCKET } from '../../scripts/lib/docker.mjs';
import { apiRequest, POD_IP_ANNOTATION } from '../../scripts/lib/kubernetes.mjs';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { newDataToken } from '../../src/deploy/targets/dataToken';
import { openKubernetesTarget, type KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { dataTokenSecretManifest } from '../../src/deploy/targets/kubernetes/manifests';
import { observe } from '../../src/monitor/observe';
import { targetKey } from '../../src/monitor/targetKey';
import { dockerAvailable } from '../support/docker';
import { controlPlane, type ControlPlane } from '../support/kubernetes';
import { modelImages } from '../support/modelImages';
import { needService } from '../support/services';

let unavailable = '';
let plane: ControlPlane | undefined;
let target: KubernetesTarget;
let container: Dockerode.Container | undefined;
let address = '';
let image = '';
const token = newDataToken();

function post(body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: address,
        port: 8080,
        path: '/invocations',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const status = await new Promise<number>((resolve) => {
      request({ host: address, port: 8080, path: '/ping' }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
        .on('error', () => resolve(0))
        .end();
    });
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the model server at ${address}:8080 did not answer /ping`);
}

before(async () => {
  const engine = await dockerAvailable();
  if (!engine.ok) return void (unavailable = engine.reason);
  const images = await modelImages();
  if (!images.ok) return void (unavailable = images.reason);
  image = images.v1;
  const started = await controlPlane();
  if (!started.ok) return void (unavailable = started.reason);
  plane = started.plane;
  target = await openKubernetesTarget({ kubeconfig: plane.kubeconfig });
  const secret = await apiRequest(
    plane.server,
    plane.adminToken,
    'POST',
    '/api/v1/namespaces/default/secrets',
    dataTokenSecretManifest('watched', 'default', token),
  );
  assert.equal(secret.status, 201, secret.text);
  const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
  container = await docker.createContainer({
    Image: image,
    Env: [`MLOPS_DATA_TOKEN=${token}`],
    Labels: { 'mlops.test': 'monitor-kubernetes' },
  });
  await container.start();
  address = (await container.inspect()).NetworkSettings.Networks.bridge?.IPAddress ?? '';
  await waitForServer();
});

after(async () => {
  await container?.remove({ force: true }).catch(() => undefined);
  await plane?.stop();
});

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

describe('monitoring a deployment on a real control plane', { timeout: 300_000 }, () => {
  test('reads the pods through the API server: every request and error counted, the request log in the lake', async (t) => {
    if (!ready(t)) return;
    const deployed = await target.deploy({
      name: 'watched',
      image,
      replicas: 1,
      podAnnotations: { [POD_IP_ANNOTATION]: address },
    });
    assert.equal(deployed.status.health, 'healthy');
    const proxies = await target.podProxies('watched');
    assert.equal(proxies.length, 1);
    assert.equal(await target.dataToken('watched'), token, 'the deploy kept the Secret that was there');
    const env = (await target.exportManifests('watched'))[0] as {
      spec: { template: { spec: { containers: { env?: unknown[] }[] } } };
    };
    assert.deepEqual(env.spec.template.spec.containers[0]!.env, [
      { name: 'MLOPS_DATA_TOKEN', valueFrom: { secretKeyRef: { name: 'watched-mlops-data-token', key: 'token' } } },
    ]);
    // Through the API server's pod proxy: its own Authorization header never reaches the pod, X-Mlops-Token does.
    const without = await proxies[0]!.get('/requests');
    assert.equal(without.status, 401, without.body);
    assert.match(
      without.body,
      /needs the deployment's data token/,
      'the pod saw no token at all: the API server kept Authorization',
    );
    assert.equal((await proxies[0]!.get('/requests', { headers: { 'X-Mlops-Token': `${token}x` } })).status, 401);
    assert.equal((await proxies[0]!.get('/requests', { headers: { 'X-Mlops-Token': token } })).status, 200);

    const workspace = mkdtempSync(join(tmpdir(), 'mlops-monitor-kubernetes-'));
    const lake = openLake(join(workspace, '.mlops', 'lake'));
    const base = {
      workspace,
      targetId: targetKey(target),
      target,
      name: 'watched',
      sinceMs: 3_600_000,
      sinceText: '1h',
      thresholds: { errorRate: 0.05, minRequests: 10 },
      drift: { lake },
    };
    const first = await observe(base);
    for (let i = 0; i < 25; i++)
      assert.equal(
        await post(
          JSON.stringify({ dataframe_records: [{ tenure_months: i, monthly_charges: 50 + i, support_calls: i % 4 }] }),
        ),
        200,
      );
    for (let i = 0; i < 4; i++) assert.equal(await post('[broken'), 400);
    const { summary, record } = await observe(base);
    assert.deepEqual(
      record.instances.map((i) => i.instance),
      [proxies[0]!.pod],
      'the pod is the instance',
    );
    assert.equal(summary.requests - first.summary.requests, 29);
    assert.equal(summary.errors - first.summary.errors, 4);
    assert.deepEqual(
      summary.alerts.map((a) => a.rule),
      ['errorRate'],
      'four bad requests in 29 break a 5 % threshold',
    );
    const logged = await lake.query(
      "SELECT count(*), count(*) FILTER (WHERE status = 400), count(DISTINCT instance) FROM requests WHERE deployment = 'watched'",
    );
    assert.deepEqual(logged.rows[0].map(Number), [29, 4, 1]);
    assert.match(summary.driftNote ?? '', /No training data is known/);
    assert.match(
      summary.resourcesNote ?? '',
      /has no metrics API \(metrics\.k8s\.io\)/,
      'kwok runs no metrics-server, and the panel says so',
    );
    t.diagnostic(`read through ${target.apiCalls} API requests`);
    await lake.close();
  });
});
