// The in-cluster proxy of a Kubernetes split: HAProxy's files for the variants' Services (resolved
// by the pod's resolv.conf, the router-api as its api, the data token from the Secret), the
// ConfigMap named by their content, and the Deployment that mounts it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_COMMAND, PROXY_CONFIG_DIR } from '../../src/serving/haproxyConfig';
import { checkDeploymentName } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import {
  proxyConfigMapManifest,
  proxyDeploymentManifest,
  proxyFiles,
  routerApiWorkload,
  routerWorkload,
} from '../../src/deploy/targets/kubernetes/proxyManifests';
import { parseSplitRecord, splitRecord } from '../../src/deploy/targets/splitPlan';

const record = splitRecord(
  {
    variants: [
      { name: 'production', weight: 70 },
      { name: 'candidate', image: 'churn:v2', weight: 30 },
      { name: 'shadow', image: 'churn:v3', weight: 20, shadow: true },
    ],
    stickyKey: 'header:X-User-Id',
  },
  new Map([
    ['production', 'churn:v1'],
    ['candidate', 'churn:v2'],
    ['shadow', 'churn:v3'],
  ]),
  '2026-12-08T00:00:00Z',
);

test("the proxy routes each variant to its Service by its full name, the rest to the router-api, and signs ids with the Secret's token", () => {
  const { config, lua } = proxyFiles('churn', 'ml', record);
  const servers = config.split('\n').filter((line) => line.trim().startsWith('server-template'));
  assert.deepEqual(
    servers.map((line) => line.trim().split(/\s+/).slice(1, 4)),
    [
      ['task', '1-1', 'churn-router-api.ml.svc.cluster.local:80'],
      ['task', '1-1', 'churn--production.ml.svc.cluster.local:80'],
      ['task', '1-1', 'churn--candidate.ml.svc.cluster.local:80'],
      ['task', '1-1', 'churn--shadow.ml.svc.cluster.local:80'],
    ],
    "production through its direct Service, as the deployment's own Service selects the proxy",
  );
  assert.match(config, /^ {4}parse-resolv-conf$/m, "the pod's nameserver (the cluster's DNS)");
  assert.match(config, /^ {4}bind :8080$/m, 'a port a user may bind');
  assert.match(config, /req\.fhdr\(X-User-Id,1\)/, 'sticky on the header');
  assert.match(config, /use_backend group_candidate/);
  assert.match(config, /http-request lua\.mlops_mirror shadow /, 'the shadow is mirrored');
  assert.match(lua, /os\.getenv\("MLOPS_DATA_TOKEN"\)/, 'the token the model pods read, from the same Secret');

  // A body field as sticky key: HAProxy cannot read it, so the router-api routes every request.
  const byField = proxyFiles('churn', 'ml', { ...record, stickyKey: 'field:user_id' }).config;
  assert.match(byField, /default_backend api/);
  assert.doesNotMatch(byField, /use_backend|backend group_/);
});

test('the ConfigMap is named by its content, so a new config rolls the proxy and the previous one stays for its pods', () => {
  const files = proxyFiles('churn', 'ml', record);
  const configMap = proxyConfigMapManifest('churn', 'ml', files);
  assert.match(configMap.metadata?.name ?? '', /^churn-proxy-[0-9a-f]{10}$/);
  assert.deepEqual(configMap.data, { 'haproxy.cfg': files.config, 'mirror.lua': files.lua });
  assert.equal(configMap.metadata?.namespace, 'ml');
  assert.equal(configMap.metadata?.labels?.['mlops.dev/deployment'], 'churn-router');
  assert.equal(configMap.metadata?.labels?.['mlops.dev/split-of'], 'churn');
  assert.equal(
    proxyConfigMapManifest('churn', 'ml', proxyFiles('churn', 'ml', record)).metadata?.name,
    configMap.metadata?.name,
  );
  const reweighed = proxyFiles('churn', 'ml', {
    ...record,
    variants: record.variants.map((variant) => ({ ...variant, weight: 50 })),
  });
  assert.notEqual(proxyConfigMapManifest('churn', 'ml', reweighed).metadata?.name, configMap.metadata?.name);
});

test('the proxy Deployment runs HAProxy with its ConfigMap where it reads it, the data token, a TCP readiness probe and a soft stop', () => {
  const deployment = proxyDeploymentManifest({
    deployment: 'churn',
    namespace: 'ml',
    image: 'haproxy:2.6',
    record,
    configMap: 'churn-proxy-0123456789',
    progressDeadlineSeconds: 30,
  });
  assert.equal(deployment.metadata?.name, routerWorkload('churn'));
  assert.equal(deployment.metadata?.name, 'churn-router');
  assert.deepEqual(parseSplitRecord(deployment.metadata?.annotations?.['mlops.dev/split']), record);
  assert.deepEqual(deployment.spec?.selector.matchLabels, { 'mlops.dev/deployment': 'churn-router' });
  assert.equal(deployment.spec?.template.metadata?.labels?.['mlops.dev/split-of'], 'churn');
  assert.equal(deployment.spec?.progressDeadlineSeconds, 30);
  assert.deepEqual(deployment.spec?.strategy?.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  const pod = deployment.spec!.template.spec!;
  const [container] = pod.containers;
  assert.equal(container?.image, 'haproxy:2.6');
  assert.deepEqual(container?.command, PROXY_COMMAND);
  assert.deepEqual(container?.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(container?.env, [
    { name: 'MLOPS_DATA_TOKEN', valueFrom: { secretKeyRef: { name: 'churn-mlops-data-token', key: 'token' } } },
  ]);
  assert.deepEqual(container?.volumeMounts, [{ name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true }]);
  assert.deepEqual(pod.volumes, [{ name: 'config', configMap: { name: 'churn-proxy-0123456789' } }]);
  assert.deepEqual(container?.readinessProbe?.tcpSocket, { port: 'http' });
  assert.deepEqual(
    container?.lifecycle?.preStop?.exec?.command,
    ['sleep', '5'],
    "no shell: the stop signal is the image's",
  );
  assert.ok((pod.terminationGracePeriodSeconds ?? 0) > 35, 'longer than the wait and the longest request');
});

test('a deployment cannot be named like the proxy or the router-api of another', () => {
  assert.equal(routerApiWorkload('churn'), 'churn-router-api');
  assert.match(checkDeploymentName('churn-router') ?? '', /ends with -router or -router-api/);
  assert.match(checkDeploymentName('churn-router-api') ?? '', /ends with -router or -router-api/);
  assert.equal(checkDeploymentName('churn-routers'), undefined);
});
