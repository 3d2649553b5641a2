// The proxy of a Swarm deployment: its groups, its service (configs mounted where HAProxy reads
// them, the host port, stop-first with rollback), the Python router it replaces, and which
// changes restart its task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { PROXY_COMMAND, PROXY_CONFIG_DIR } from '../../src/serving/haproxyConfig';
import { routerApiName, routerName, checkServiceName } from '../../src/deploy/targets/swarm/labels';
import {
  isPythonRouter,
  proxyGroups,
  proxyServiceSpec,
  restartsTasks,
} from '../../src/deploy/targets/swarm/proxyService';
import { hasDataToken } from '../../src/deploy/targets/swarm/dataTokenSecret';
import { routerApiServiceSpec } from '../../src/deploy/targets/swarm/serviceSpec';
import { splitRecord } from '../../src/deploy/targets/splitPlan';

const configs: Docker.ConfigReference[] = ['haproxy.cfg', 'mirror.lua'].map((file, index) => ({
  ConfigID: `id${index}`,
  ConfigName: `mlops-churn-proxy-${file.replace('.', '-')}-abc`,
  File: { Name: `${PROXY_CONFIG_DIR}/${file}`, UID: '0', GID: '0', Mode: 0o444 },
}));
const token = { id: 's1', name: 'mlops-churn-data-token' };
const container = (spec: Docker.ServiceSpec) => (spec.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!;

test('the proxy routes production alone by tasks.NAME, or each variant of a split by its own service', () => {
  assert.deepEqual(proxyGroups('churn', null, 8080), [
    { name: 'production', weight: 100, shadow: false, server: { dns: 'tasks.churn', port: 8080 } },
  ]);
  const record = splitRecord(
    {
      variants: [
        { name: 'production', weight: 70 },
        { name: 'candidate', image: 'b', weight: 30 },
        { name: 'shadow', image: 'c', weight: 10, shadow: true },
      ],
      stickyKey: 'header:X-User-Id',
    },
    new Map(),
    'now',
  );
  assert.deepEqual(
    proxyGroups('churn', record, 9000).map((group) => [group.name, group.weight, group.shadow, group.server]),
    [
      ['production', 70, false, { dns: 'tasks.churn', port: 9000 }],
      ['candidate', 30, false, { dns: 'tasks.churn--candidate', port: 9000 }],
      ['shadow', 10, true, { dns: 'tasks.churn--shadow', port: 9000 }],
    ],
  );
});

test('the proxy service holds the host port, mounts its configs where HAProxy reads them, and replaces its task stop-first', () => {
  const spec = proxyServiceSpec({
    name: 'churn',
    image: 'haproxy:2.6',
    publishedPort: 9000,
    networkId: 'net1',
    configs,
    split: '{"s":1}',
    dataToken: token,
  });
  assert.equal(spec.Name, routerName('churn'));
  assert.deepEqual(spec.Labels, { 'mlops.deployment': 'churn', 'mlops.role': 'router', 'mlops.split': '{"s":1}' });
  assert.deepEqual(container(spec).Command, PROXY_COMMAND);
  assert.deepEqual(
    container(spec).Configs?.map((config) => config.File?.Name),
    [`${PROXY_CONFIG_DIR}/haproxy.cfg`, `${PROXY_CONFIG_DIR}/mirror.lua`],
  );
  assert.equal(container(spec).HealthCheck, undefined, 'the image has nothing to run a health check with');
  assert.ok(hasDataToken(spec), 'it signs the request ids it makes with the data token');
  assert.deepEqual(spec.EndpointSpec?.Ports, [
    { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 9000, PublishMode: 'host' },
  ]);
  assert.equal(spec.UpdateConfig?.Order, 'stop-first');
  assert.equal(spec.UpdateConfig?.FailureAction, 'rollback', 'a config that does not start leaves the previous one');
  assert.equal(
    proxyServiceSpec({
      name: 'churn',
      image: 'x',
      publishedPort: 1,
      networkId: 'n',
      configs,
      split: null,
      dataToken: token,
    }).Labels?.['mlops.split'],
    undefined,
  );
});

test('a router service running the Python router is recognised for replacement; a new config, image or port restarts the proxy, a label does not', () => {
  const api = routerApiServiceSpec({
    name: 'churn',
    image: 'churn:v1',
    containerPort: 8080,
    networkId: 'n',
    dataToken: token,
  });
  assert.equal(api.Name, routerApiName('churn'));
  assert.equal(api.EndpointSpec?.Ports, undefined, 'the router-api publishes no port');
  assert.equal(api.UpdateConfig?.Order, 'start-first');
  assert.ok(isPythonRouter({ ...api, Name: routerName('churn') }), 'the router of old deployments');
  const proxy = proxyServiceSpec({
    name: 'churn',
    image: 'haproxy:2.6',
    publishedPort: 9000,
    networkId: 'n',
    configs,
    split: null,
    dataToken: token,
  });
  assert.equal(isPythonRouter(proxy), false);
  assert.equal(restartsTasks(proxy, { ...proxy, Labels: { other: '1' } }), false);
  const otherConfig = proxyServiceSpec({
    name: 'churn',
    image: 'haproxy:2.6',
    publishedPort: 9000,
    networkId: 'n',
    configs: [{ ...configs[0]!, ConfigName: 'mlops-churn-proxy-haproxy-cfg-def' }, configs[1]!],
    split: null,
    dataToken: token,
  });
  assert.equal(restartsTasks(proxy, otherConfig), true);
  assert.equal(restartsTasks(proxy, { ...proxy, EndpointSpec: { Ports: [{ PublishedPort: 9001 }] } }), true);
  assert.equal(restartsTasks(api, proxy), true);
});

test('a deployment cannot be named like the router or router-api of another', () => {
  assert.match(checkServiceName('churn-router') ?? '', /ends with -router or -router-api/);
  assert.match(checkServiceName('churn-router-api') ?? '', /ends with -router or -router-api/);
  assert.equal(checkServiceName('churn'), undefined);
});
