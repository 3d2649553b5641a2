// Traffic splits on a real Kubernetes control plane (kwok as the kubelet): without the Gateway
// API, HAProxy as a Deployment in front of the variants, its config in a ConfigMap named by its
// content (checked with the host's haproxy -c), and the Python router beside it with the split's
// groups; with the real Gateway API CRDs (standard channel, from the Go module proxy) and a
// Gateway, an HTTPRoute with weighted backendRefs and a mirror filter; weights changed, the split
// read back, ended, and a variant or a proxy that never gets ready. Every Deployment of a split
// (production, variants, proxy, router-api) reads the deployment's data token from its Secret,
// which the first deploy makes, a redeploy keeps and removal deletes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Secret, V1Service } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ensureGatewayApiCrds } from '../../scripts/lib/gatewayApi.mjs';
import { ensureHaproxy } from '../../scripts/lib/haproxy.mjs';
import { PROXY_COMMAND, PROXY_CONFIG_DIR } from '../../src/serving/haproxyConfig';
import { DEFAULT_PROXY_IMAGE } from '../../src/serving/proxyImage';
import { apiRequest, UNPULLABLE_IMAGE } from '../../scripts/lib/kubernetes.mjs';
import { MlopsError } from '../../src/shared/errors';
import { openKubernetesTarget, type KubernetesTarget } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { controlPlane, type ControlPlane } from '../support/kubernetes';
import { needService } from '../support/services';

const gatewayApi = ensureGatewayApiCrds();
const haproxy = ensureHaproxy();
const CRDS = gatewayApi.ok
  ? gatewayApi.files.map((file) => parse(readFileSync(file, 'utf8')) as { metadata: { name: string } })
  : [];
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
let plane: ControlPlane | undefined;
let unavailable = '';
let target: KubernetesTarget;

before(async () => {
  const started = await controlPlane();
  if (!started.ok) return void (unavailable = started.reason);
  plane = started.plane;
  target = await openKubernetesTarget({ kubeconfig: plane.kubeconfig });
});

after(async () => {
  await plane?.stop();
});

function ready(t: TestContext): boolean {
  return needService(t, Boolean(plane), unavailable);
}

function haproxyReady(t: TestContext): boolean {
  return ready(t) && needService(t, haproxy.ok, haproxy.ok ? '' : haproxy.reason);
}

function gatewayApiReady(t: TestContext): boolean {
  return ready(t) && needService(t, gatewayApi.ok, gatewayApi.ok ? '' : gatewayApi.reason);
}

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const answer = await apiRequest(plane!.server, plane!.adminToken, 'GET', path);
  return { status: answer.status, body: (answer.status === 200 ? JSON.parse(answer.text) : undefined) as T };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Creates the Gateway API CRDs and waits until HTTPRoutes are served. */
async function installGatewayApi(): Promise<void> {
  for (const crd of CRDS) {
    const created = await apiRequest(plane!.server, plane!.adminToken, 'POST', CRD_PATH, crd);
    assert.equal(created.status, 201, created.text);
  }
  await until(
    'HTTPRoutes to be served',
    async () => (await get('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes')).status === 200,
  );
}

async function removeGatewayApi(): Promise<void> {
  for (const crd of CRDS)
    await apiRequest(plane!.server, plane!.adminToken, 'DELETE', `${CRD_PATH}/${crd.metadata.name}`);
  await until(
    'HTTPRoutes to be gone',
    async () => (await get('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes')).status === 404,
  );
}

const deployment = (namespace: string, name: string) =>
  get<V1Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
const service = (namespace: string, name: string) => get<V1Service>(`/api/v1/namespaces/${namespace}/services/${name}`);
const secret = (namespace: string, name: string) => get<V1Secret>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
/** The names of the proxy's ConfigMaps of a deployment. */
async function proxyConfigMaps(namespace: string, name: string): Promise<string[]> {
  const selector = encodeURIComponent(`mlops.dev/split-of=${name}`);
  const list = await get<{ items: V1ConfigMap[] }>(
    `/api/v1/namespaces/${namespace}/configmaps?labelSelector=${selector}`,
  );
  return list.body.items.map((item) => item.metadata!.name!).sort();
}

/**
 * The proxy's ConfigMap as its pod template mounts it, checked with the host's HAProxy (`haproxy
 * -c`, the token in the environment as the Secret gives it; Service names that do not resolve
 * here wait for DNS, as init-addr none lets them).
 */
async function checkedProxyConfig(namespace: string, name: string, token: string): Promise<string> {
  const pod = (await deployment(namespace, `${name}-router`)).body.spec!.template.spec!;
  assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true }]);
  const configName = pod.volumes!.find((volume) => volume.name === 'config')!.configMap!.name!;
  const configMap = await get<V1ConfigMap>(`/api/v1/namespaces/${namespace}/configmaps/${configName}`);
  assert.equal(configMap.status, 200, `the ConfigMap ${configName} the proxy mounts`);
  const files = configMap.body.data!;
  assert.deepEqual(Object.keys(files).sort(), ['haproxy.cfg', 'mirror.lua']);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-k8s-proxy-'));
  try {
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(config, files['haproxy.cfg']!.replaceAll(PROXY_CONFIG_DIR, dir));
    writeFileSync(join(dir, 'mirror.lua'), files['mirror.lua']!);
    const checked = spawnSync(haproxy.ok ? haproxy.bin : 'haproxy', ['-c', '-f', config], {
      encoding: 'utf8',
      env: { ...process.env, MLOPS_DATA_TOKEN: token },
    });
    const output = `${checked.stdout}${checked.stderr}`;
    assert.equal(checked.status, 0, output);
    assert.doesNotMatch(output, /\[WARNING\]|\[ALERT\]/, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return files['haproxy.cfg']!;
}
const TOKEN_ENV = {
  name: 'MLOPS_DATA_TOKEN',
  valueFrom: { secretKeyRef: { name: 'churn-mlops-data-token', key: 'token' } },
};

describe('traffic splits on a real control plane', { timeout: 300_000 }, () => {
  test("without the Gateway API: HAProxy runs the split with the variants' Services, the router beside it", async (t) => {
    if (!haproxyReady(t)) return;
    await target.deploy({ name: 'churn', image: 'mlops-test/churn:1' });
    const status = await target.split('churn', {
      variants: [
        { name: 'production', weight: 70 },
        { name: 'candidate', image: 'mlops-test/churn:2', weight: 30 },
      ],
      stickyKey: 'field:user_id',
    });
    assert.equal(status.via, 'router');
    assert.deepEqual(
      status.variants.map((v) => [v.name, v.image, v.weight, v.workload, v.replicas.running]),
      [
        ['production', 'mlops-test/churn:1', 70, 'churn', 1],
        ['candidate', 'mlops-test/churn:2', 30, 'churn--candidate', 1],
      ],
    );

    const router = (await deployment('default', 'churn-router-api')).body;
    const container = router.spec!.template.spec!.containers[0]!;
    assert.equal(container.image, 'mlops-test/churn:2', 'the router-api runs the newest variant image');
    assert.deepEqual(container.command, ['python3', '-m', 'mlops_runtime.router']);
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    assert.deepEqual(JSON.parse(env.MLOPS_ROUTER_BACKENDS!), [
      { name: 'production', addresses: ['churn--production.default.svc:80'], weight: 70 },
      { name: 'candidate', addresses: ['churn--candidate.default.svc:80'], weight: 30 },
    ]);
    assert.equal(env.MLOPS_ROUTER_STICKY_KEY, 'field:user_id');

    // The data token: one Secret of the deployment, which production, the candidate and the router read.
    const stored = (await secret('default', 'churn-mlops-data-token')).body;
    assert.deepEqual(
      [
        stored.type,
        stored.metadata?.labels?.['mlops.dev/deployment'],
        stored.metadata?.labels?.['app.kubernetes.io/managed-by'],
      ],
      ['Opaque', 'churn', 'mlops'],
    );
    const token = await target.dataToken('churn');
    assert.equal(Buffer.from(stored.data!.token!, 'base64').toString(), token);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    for (const name of ['churn', 'churn--candidate', 'churn-router', 'churn-router-api']) {
      const containers = (await deployment('default', name)).body.spec!.template.spec!.containers;
      assert.deepEqual(
        containers[0]!.env?.filter((e) => e.name === 'MLOPS_DATA_TOKEN'),
        [TOKEN_ENV],
        name,
      );
    }

    // HAProxy on the request path: the proxy image, its config from a ConfigMap, ready when it listens.
    const proxy = (await deployment('default', 'churn-router')).body;
    const proxyContainer = proxy.spec!.template.spec!.containers[0]!;
    assert.deepEqual(
      [proxyContainer.image, proxyContainer.command, proxyContainer.ports, proxyContainer.readinessProbe?.tcpSocket],
      [DEFAULT_PROXY_IMAGE, PROXY_COMMAND, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], { port: 'http' }],
    );
    const [firstConfig] = await proxyConfigMaps('default', 'churn');
    assert.match(firstConfig ?? '', /^churn-proxy-[0-9a-f]{10}$/);
    const fieldConfig = await checkedProxyConfig('default', 'churn', token);
    assert.match(fieldConfig, /server-template task 1-1 churn-router-api\.default\.svc\.cluster\.local:80 /);
    assert.match(fieldConfig, /default_backend api/, 'a body field as sticky key: the router-api routes every request');
    for (const name of ['churn-router', 'churn-router-api', 'churn--candidate'])
      assert.deepEqual((await service('default', name)).body.spec?.selector, { 'mlops.dev/deployment': name }, name);
    // Clients keep the deployment's address: its Service selects the proxy, which reaches production directly.
    assert.deepEqual((await service('default', 'churn')).body.spec?.selector, {
      'mlops.dev/deployment': 'churn-router',
    });
    assert.deepEqual((await service('default', 'churn--production')).body.spec?.selector, {
      'mlops.dev/deployment': 'churn',
    });
    assert.deepEqual(
      (await target.list()).map((d) => d.name),
      ['churn'],
      'variants, the proxy and the router-api are not deployments',
    );
    assert.deepEqual(await target.splitStatus('churn'), status);

    // A sticky header and a shadow: HAProxy splits and mirrors itself, from a new ConfigMap; the old one goes.
    const resplit = await target.split('churn', {
      variants: [
        { name: 'production', weight: 90 },
        { name: 'candidate', weight: 10 },
        { name: 'shadow', image: 'mlops-test/churn:3', weight: 20, shadow: true },
      ],
      stickyKey: 'header:X-User-Id',
    });
    assert.equal(resplit.startedAt, status.startedAt);
    const configs = await proxyConfigMaps('default', 'churn');
    assert.equal(configs.length, 1, configs.join(', '));
    assert.notEqual(configs[0], firstConfig, 'a new config is a new ConfigMap, which rolls the proxy');
    const headerConfig = await checkedProxyConfig('default', 'churn', token);
    for (const workload of ['churn--production', 'churn--candidate', 'churn--shadow'])
      assert.match(
        headerConfig,
        new RegExp(`server-template task 1-1 ${workload}\\.default\\.svc\\.cluster\\.local:80 `),
      );
    assert.match(headerConfig, /req\.fhdr\(X-User-Id,1\)/);
    assert.match(headerConfig, /lua\.mlops_mirror shadow /);
    assert.equal(
      (await deployment('default', 'churn-router-api')).body.spec!.template.spec!.containers[0]!.image,
      'mlops-test/churn:3',
      'the router-api runs the newest variant image',
    );
    // A Gateway named in the setting on a cluster without the Gateway API is an error, not a silent router.
    const named = await openKubernetesTarget({ kubeconfig: plane!.kubeconfig, gateway: 'public' });
    await assert.rejects(
      named.split('churn', {
        variants: [
          { name: 'production', weight: 1 },
          { name: 'candidate', weight: 1 },
        ],
      }),
      /mlops\.kubernetes\.gateway names the Gateway default\/public, but .* does not serve the Gateway API \(HTTPRoute, gateway\.networking\.k8s\.io\/v1\)/,
    );

    await target.endSplit('churn');
    assert.equal(await target.splitStatus('churn'), null);
    assert.deepEqual(
      (await service('default', 'churn')).body.spec?.selector,
      { 'mlops.dev/deployment': 'churn' },
      'production takes its Service back',
    );
    for (const name of ['churn-router', 'churn-router-api', 'churn--candidate', 'churn--shadow', 'churn--production']) {
      assert.equal((await service('default', name)).status, 404, name);
      await until(`${name} to be deleted`, async () => (await deployment('default', name)).status === 404);
    }
    assert.deepEqual(await proxyConfigMaps('default', 'churn'), [], "the proxy's ConfigMap goes too");
    await target.deploy({ name: 'churn', image: 'mlops-test/churn:2' });
    assert.equal(await target.dataToken('churn'), token, 'a redeploy keeps the token');
    await target.remove('churn');
    assert.equal((await secret('default', 'churn-mlops-data-token')).status, 404, 'removal deletes the Secret');
    await assert.rejects(
      target.dataToken('churn'),
      /churn in .* has no data token: there is no Secret churn-mlops-data-token/,
    );
  });

  test('with the Gateway API: the proxy until a Gateway admits the namespace, then an HTTPRoute that weighs and mirrors; weights change; a sticky split goes back to the proxy; the split ends', async (t) => {
    if (!gatewayApiReady(t)) return;
    await installGatewayApi();
    t.after(removeGatewayApi);
    await target.deploy({ name: 'fraud', image: 'mlops-test/fraud:1' });

    // The CRDs alone: no Gateway, so the in-cluster proxy runs the split.
    const progress: string[] = [];
    const first = await target.split(
      'fraud',
      {
        variants: [
          { name: 'production', weight: 70 },
          { name: 'candidate', image: 'mlops-test/fraud:2', weight: 30 },
        ],
      },
      { onProgress: (event) => progress.push(event.message) },
    );
    assert.equal(first.via, 'router');
    assert.ok(
      progress.includes(
        `The cluster has no Gateway: applying the router fraud-router-api and the proxy fraud-router (${DEFAULT_PROXY_IMAGE})`,
      ),
      progress.join('\n'),
    );
    assert.equal((await service('default', 'fraud')).body.spec?.selector?.['mlops.dev/deployment'], 'fraud-router');
    assert.equal((await proxyConfigMaps('default', 'fraud')).length, 1);

    // A Gateway of another namespace that admits routes from namespaces labelled as default is.
    const created = await apiRequest(plane!.server, plane!.adminToken, 'POST', '/api/v1/namespaces', {
      metadata: { name: 'infra' },
    });
    assert.equal(created.status, 201, created.text);
    await target.applyObjects(
      [
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'GatewayClass',
          metadata: { name: 'test' },
          spec: { controllerName: 'mlops.dev/no-controller' },
        } as KubernetesObject,
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'public', namespace: 'infra' },
          spec: {
            gatewayClassName: 'test',
            listeners: [
              {
                name: 'http',
                port: 80,
                protocol: 'HTTP',
                allowedRoutes: {
                  namespaces: {
                    from: 'Selector',
                    selector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } },
                  },
                },
              },
            ],
          },
        } as KubernetesObject,
      ],
      false,
    );

    const split = {
      variants: [
        { name: 'production', weight: 70 },
        { name: 'candidate', image: 'mlops-test/fraud:2', weight: 30 },
        { name: 'shadow', image: 'mlops-test/fraud:3', weight: 25, shadow: true },
      ],
    };
    progress.length = 0;
    const status = await target.split('fraud', split, { onProgress: (event) => progress.push(event.message) });
    assert.equal(status.via, 'httproute');
    assert.ok(
      progress.includes(
        'HTTPRoute fraud: no controller of infra/public has reported on the route yet; clients reach the split through the Gateway infra/public (no address yet: its controller assigns one)',
      ),
      progress.join('\n'),
    );
    assert.equal(status.startedAt, first.startedAt, 'the same split, run by the route now');
    // No controller runs in the test cluster (there is no data plane), so nobody sets the route's
    // Accepted and ResolvedRefs conditions: a controller's status is parsed in test/unit/gatewayRoute.test.ts.
    assert.deepEqual(status.route, {
      gateway: 'infra/public',
      accepted: null,
      resolvedRefs: null,
      message: 'no controller of infra/public has reported on the route yet',
    });
    assert.deepEqual(
      status.variants.map((v) => [v.name, v.image, v.weight, v.shadow, v.replicas.running]),
      [
        ['production', 'mlops-test/fraud:1', 70, false, 1],
        ['candidate', 'mlops-test/fraud:2', 30, false, 1],
        ['shadow', 'mlops-test/fraud:3', 25, true, 1],
      ],
    );
    const route = (
      await get<{ spec: { parentRefs: unknown; rules: Record<string, unknown>[] } }>(
        '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/fraud',
      )
    ).body;
    assert.deepEqual(route.spec.parentRefs, [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' },
    ]);
    // As the API server keeps it: the CRD's defaults (group, kind, weight) filled in. /feedback
    // goes to the router-api, which finds the variant that logged the request id.
    const service_ = (name: string) => ({ group: '', kind: 'Service', name, port: 80 });
    assert.deepEqual(route.spec.rules, [
      {
        matches: [{ path: { type: 'Exact', value: '/feedback' } }],
        backendRefs: [{ ...service_('fraud-router-api'), weight: 1 }],
      },
      {
        matches: [
          { path: { type: 'Exact', value: '/invocations' } },
          { path: { type: 'PathPrefix', value: '/v2/models' } },
        ],
        backendRefs: [
          { ...service_('fraud'), weight: 70 },
          { ...service_('fraud--candidate'), weight: 30 },
        ],
        filters: [{ type: 'RequestMirror', requestMirror: { backendRef: service_('fraud--shadow'), percent: 25 } }],
      },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [
          { ...service_('fraud'), weight: 70 },
          { ...service_('fraud--candidate'), weight: 30 },
        ],
      },
    ]);
    for (const variant of ['candidate', 'shadow']) {
      const variantDeployment = (await deployment('default', `fraud--${variant}`)).body;
      assert.equal(variantDeployment.metadata?.labels?.['mlops.dev/variant'], variant);
      assert.equal(
        variantDeployment.spec?.template.spec?.containers[0]?.image,
        `mlops-test/fraud:${variant === 'candidate' ? 2 : 3}`,
      );
      assert.equal((await service('default', `fraud--${variant}`)).status, 200);
    }
    assert.deepEqual(
      (await service('default', 'fraud')).body.spec?.selector,
      { 'mlops.dev/deployment': 'fraud' },
      'production takes its Service back from the proxy',
    );
    assert.equal((await service('default', 'fraud-router')).status, 404, 'the proxy goes, the HTTPRoute in its place');
    await until('the proxy to be deleted', async () => (await deployment('default', 'fraud-router')).status === 404);
    assert.deepEqual(await proxyConfigMaps('default', 'fraud'), []);
    const routerEnv =
      (await deployment('default', 'fraud-router-api')).body.spec!.template.spec!.containers[0]!.env ?? [];
    assert.deepEqual(
      JSON.parse(routerEnv.find((e) => e.name === 'MLOPS_ROUTER_BACKENDS')!.value!).map(
        (group: { name: string; weight: number }) => [group.name, group.weight],
      ),
      [
        ['production', 70],
        ['candidate', 30],
        ['shadow', 25],
      ],
      'the router-api beside the route has the same groups, for /feedback',
    );
    assert.deepEqual(await target.splitStatus('fraud'), status);

    // New weights and no shadow: the route changes, the shadow's objects go, the start time stays.
    const changed = await target.split('fraud', {
      variants: [
        { name: 'production', weight: 50 },
        { name: 'candidate', weight: 50 },
      ],
    });
    assert.deepEqual(
      changed.variants.map((v) => [v.name, v.image, v.weight]),
      [
        ['production', 'mlops-test/fraud:1', 50],
        ['candidate', 'mlops-test/fraud:2', 50],
      ],
    );
    assert.equal(changed.startedAt, status.startedAt);
    const rules = (
      await get<{ spec: { rules: Record<string, unknown>[] } }>(
        '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/fraud',
      )
    ).body.spec.rules;
    assert.equal(rules.length, 2, 'server-side apply dropped the mirroring prediction rule it no longer asks for');
    const rule = rules[1]!;
    assert.deepEqual(rule.matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
    assert.deepEqual(rule.backendRefs, [
      { ...service_('fraud'), weight: 50 },
      { ...service_('fraud--candidate'), weight: 50 },
    ]);
    assert.equal(rule.filters, undefined);
    assert.equal((await service('default', 'fraud--shadow')).status, 404);

    // A sticky split has no HTTPRoute form: the proxy runs it and the route goes.
    progress.length = 0;
    const sticky = await target.split(
      'fraud',
      {
        variants: [
          { name: 'production', weight: 50 },
          { name: 'candidate', weight: 50 },
        ],
        stickyKey: 'header:X-User-Id',
      },
      { onProgress: (event) => progress.push(event.message) },
    );
    assert.equal(sticky.via, 'router');
    assert.ok(
      progress.some((message) => /^An HTTPRoute cannot keep a client on one variant by header:X-User-Id/.test(message)),
      progress.join('\n'),
    );
    assert.equal((await get('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/fraud')).status, 404);
    assert.equal((await service('default', 'fraud')).body.spec?.selector?.['mlops.dev/deployment'], 'fraud-router');
    assert.match(
      await checkedProxyConfig('default', 'fraud', await target.dataToken('fraud')),
      /req\.fhdr\(X-User-Id,1\)/,
    );

    // Not sticky again: the HTTPRoute again, and production takes its Service back.
    const again = await target.split('fraud', {
      variants: [
        { name: 'production', weight: 60 },
        { name: 'candidate', weight: 40 },
      ],
    });
    assert.equal(again.via, 'httproute');
    assert.equal((await service('default', 'fraud')).body.spec?.selector?.['mlops.dev/deployment'], 'fraud');
    await until('the proxy to be deleted', async () => (await deployment('default', 'fraud-router')).status === 404);
    assert.deepEqual(await proxyConfigMaps('default', 'fraud'), []);

    // A Gateway named in the setting that does not exist is an error, before anything changes.
    const named = await openKubernetesTarget({ kubeconfig: plane!.kubeconfig, gateway: 'infra/private' });
    await assert.rejects(
      named.split('fraud', {
        variants: [
          { name: 'production', weight: 1 },
          { name: 'candidate', weight: 1 },
        ],
      }),
      (error: MlopsError) =>
        /mlops\.kubernetes\.gateway names the Gateway infra\/private, which does not exist/.test(error.message) &&
        error.remedy === 'Gateways that admit routes from default: infra/public.',
    );

    // Ending the split removes the HTTPRoute and the variants.
    await target.endSplit('fraud');
    assert.equal((await get('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/fraud')).status, 404);
    assert.equal(await target.splitStatus('fraud'), null);
    assert.deepEqual((await service('default', 'fraud')).body.spec?.selector, { 'mlops.dev/deployment': 'fraud' });
    for (const name of ['fraud--candidate', 'fraud-router-api', 'fraud--production']) {
      assert.equal((await service('default', name)).status, 404, name);
      await until(`${name} to be deleted`, async () => (await deployment('default', name)).status === 404);
    }
    await assert.rejects(target.endSplit('fraud'), /has no traffic split to end/);
    await target.remove('fraud');
  });

  test('a proxy that never gets ready fails the split: production keeps its Service, or the previous split runs on', async (t) => {
    if (!ready(t)) return;
    await target.deploy({ name: 'slow', image: 'mlops-test/churn:1', progressDeadlineSeconds: 5 });
    const broken = await openKubernetesTarget({ kubeconfig: plane!.kubeconfig, proxyImage: UNPULLABLE_IMAGE });
    const split = (weight: number) => ({
      variants: [
        { name: 'production', weight: 100 - weight },
        { name: 'candidate', image: 'mlops-test/churn:2', weight },
      ],
    });
    await assert.rejects(
      broken.split('slow', split(10)),
      (error: MlopsError) =>
        /The router of slow did not start with the split: slow-router did not become ready: .*ImagePullBackOff/s.test(
          error.message,
        ) && error.remedy === 'Production serves through its own Service as before.',
    );
    assert.equal(await target.splitStatus('slow'), null);
    assert.deepEqual((await service('default', 'slow')).body.spec?.selector, { 'mlops.dev/deployment': 'slow' });
    for (const name of ['slow-router', 'slow-router-api', 'slow--candidate', 'slow--production'])
      assert.equal((await service('default', name)).status, 404, name);
    assert.deepEqual(await proxyConfigMaps('default', 'slow'), []);

    // With a split running, a proxy image that does not start leaves that split as it was.
    const running = await target.split('slow', split(10));
    const [config] = await proxyConfigMaps('default', 'slow');
    await assert.rejects(
      broken.split('slow', split(40)),
      (error: MlopsError) =>
        /slow-router did not become ready/.test(error.message) && error.remedy === 'The split runs as before.',
    );
    assert.deepEqual(await target.splitStatus('slow'), running);
    const proxy = (await deployment('default', 'slow-router')).body.spec!.template.spec!;
    assert.equal(proxy.containers[0]!.image, DEFAULT_PROXY_IMAGE);
    assert.equal(proxy.volumes![0]!.configMap!.name, config);
    assert.deepEqual(await proxyConfigMaps('default', 'slow'), [config]);
    assert.equal((await service('default', 'slow')).body.spec?.selector?.['mlops.dev/deployment'], 'slow-router');
    await target.remove('slow');
    assert.deepEqual(await proxyConfigMaps('default', 'slow'), [], 'removal deletes the ConfigMaps too');
  });

  test('a variant that never gets ready fails the split and leaves production alone', async (t) => {
    if (!ready(t)) return;
    await target.deploy({ name: 'late', image: 'mlops-test/churn:1', progressDeadlineSeconds: 5 });
    await assert.rejects(
      target.split('late', {
        variants: [
          { name: 'production', weight: 50 },
          { name: 'bad', image: UNPULLABLE_IMAGE, weight: 50 },
        ],
      }),
      /The split of late did not start, and production serves all its traffic as before: late--bad did not become ready: .*ImagePullBackOff/s,
    );
    assert.equal(await target.splitStatus('late'), null);
    assert.equal((await service('default', 'late--bad')).status, 404);
    assert.equal((await deployment('default', 'late-router')).status, 404);
    assert.equal((await deployment('default', 'late-router-api')).status, 404);
    assert.equal((await target.status('late')).health, 'healthy');
    await assert.rejects(
      target.split('missing', {
        variants: [
          { name: 'production', weight: 1 },
          { name: 'b', image: 'x', weight: 1 },
        ],
      }),
      /No deployment named missing/,
    );
    await target.remove('late');
  });
});
