// Which Gateway a split's HTTPRoute attaches to, and what an HTTPRoute's status (as a Gateway
// controller writes it) says: on objects shaped as the API server returns them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  admitsRoutesFrom,
  chooseGateway,
  gatewayUrls,
  parseGateways,
  parseGatewaySetting,
  routeStatus,
  type Gateway,
} from '../../src/deploy/targets/kubernetes/gatewayRoute';

function gateway(namespace: string, name: string, listeners: Record<string, unknown>[]): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace, uid: 'u', resourceVersion: '1', generation: 1 },
    spec: { gatewayClassName: 'eg', listeners },
    status: {},
  };
}

const http = { name: 'http', port: 80, protocol: 'HTTP' };
const [same, shared, labelled, tcp] = parseGateways({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayList',
  items: [
    gateway('ml', 'same', [http]),
    gateway('infra', 'shared', [{ ...http, allowedRoutes: { namespaces: { from: 'All' } } }]),
    gateway('infra', 'labelled', [
      {
        ...http,
        allowedRoutes: {
          namespaces: {
            from: 'Selector',
            selector: {
              matchLabels: { team: 'ml' },
              matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }],
            },
          },
        },
      },
    ]),
    gateway('ml', 'tcp', [{ name: 'tcp', port: 9000, protocol: 'TCP' }]),
    { metadata: { name: 'broken' }, spec: {} },
  ],
}) as [Gateway, Gateway, Gateway, Gateway];

test('parseGateways keeps the Gateways that parse, from a list or one object', () => {
  assert.deepEqual(
    parseGateways({ items: [gateway('a', 'b', [http]), { spec: 1 }] }).map((g) => g.metadata.name),
    ['b'],
  );
  assert.deepEqual(
    parseGateways(gateway('a', 'one', [http])).map((g) => g.metadata.name),
    ['one'],
  );
  assert.deepEqual(parseGateways(undefined), []);
});

test('a listener admits HTTPRoutes from the same namespace by default, from all, or by a namespace selector', () => {
  assert.equal(admitsRoutesFrom(same, 'ml', {}), true);
  assert.equal(admitsRoutesFrom(same, 'other', {}), false);
  assert.equal(admitsRoutesFrom(shared, 'anything', {}), true);
  assert.equal(admitsRoutesFrom(labelled, 'ml', { team: 'ml', env: 'prod' }), true);
  assert.equal(admitsRoutesFrom(labelled, 'ml', { team: 'ml', env: 'dev' }), false);
  assert.equal(admitsRoutesFrom(labelled, 'ml', { team: 'ml' }), false);
  assert.equal(admitsRoutesFrom(tcp, 'ml', {}), false, 'a TCP listener takes no HTTPRoute');
  const grpcOnly = parseGateways(
    gateway('ml', 'grpc', [{ ...http, allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } }]),
  )[0]!;
  assert.equal(admitsRoutesFrom(grpcOnly, 'ml', {}), false, 'kinds that leave HTTPRoute out');
});

test('chooseGateway: the named one, else the only one that admits the namespace, else none', () => {
  assert.deepEqual(chooseGateway({ gateways: [same, tcp], namespace: 'ml', namespaceLabels: {}, named: null }), {
    gateway: { namespace: 'ml', name: 'same' },
    urls: [],
  });
  assert.deepEqual(chooseGateway({ gateways: [], namespace: 'ml', namespaceLabels: {}, named: null }), {
    none: 'the cluster has no Gateway',
  });
  assert.deepEqual(chooseGateway({ gateways: [same, tcp], namespace: 'web', namespaceLabels: {}, named: null }), {
    none: 'no Gateway admits HTTPRoutes from the namespace web',
  });
  assert.throws(
    () => chooseGateway({ gateways: [same, shared], namespace: 'ml', namespaceLabels: {}, named: null }),
    /Several Gateways admit HTTPRoutes from ml: ml\/same, infra\/shared/,
  );
  assert.deepEqual(
    chooseGateway({
      gateways: [same, shared],
      namespace: 'ml',
      namespaceLabels: {},
      named: { namespace: 'infra', name: 'shared' },
    }),
    { gateway: { namespace: 'infra', name: 'shared' }, urls: [] },
  );
  assert.throws(
    () =>
      chooseGateway({ gateways: [same], namespace: 'ml', namespaceLabels: {}, named: { namespace: 'x', name: 'y' } }),
    /mlops\.kubernetes\.gateway names the Gateway x\/y, which does not exist/,
  );
  assert.throws(
    () =>
      chooseGateway({
        gateways: [same],
        namespace: 'web',
        namespaceLabels: {},
        named: { namespace: 'ml', name: 'same' },
      }),
    /The Gateway ml\/same \(mlops\.kubernetes\.gateway\) has no HTTP listener that admits HTTPRoutes from the namespace web/,
  );
});

test("gatewayUrls: the controller's addresses on each HTTP(S) listener that admits the namespace", () => {
  const assigned = parseGateways({
    ...gateway('infra', 'public', [
      { ...http, allowedRoutes: { namespaces: { from: 'All' } } },
      { name: 'https', port: 8443, protocol: 'HTTPS', allowedRoutes: { namespaces: { from: 'All' } } },
      { name: 'internal', port: 8080, protocol: 'HTTP' },
    ]),
    status: {
      addresses: [
        { type: 'IPAddress', value: '203.0.113.7' },
        { type: 'Hostname', value: 'gw.example.com' },
      ],
    },
  })[0]!;
  const urls = [
    'http://203.0.113.7',
    'https://203.0.113.7:8443',
    'http://gw.example.com',
    'https://gw.example.com:8443',
  ];
  assert.deepEqual(gatewayUrls(assigned, 'ml', {}), urls);
  assert.deepEqual(chooseGateway({ gateways: [assigned], namespace: 'ml', namespaceLabels: {}, named: null }), {
    gateway: { namespace: 'infra', name: 'public' },
    urls,
  });
  assert.deepEqual(gatewayUrls(same, 'ml', {}), [], 'no address before a controller assigns one');
});

test('parseGatewaySetting takes NAMESPACE/NAME or NAME and names the setting otherwise', () => {
  assert.equal(parseGatewaySetting('  ', 'ml'), null);
  assert.deepEqual(parseGatewaySetting('public', 'ml'), { namespace: 'ml', name: 'public' });
  assert.deepEqual(parseGatewaySetting('infra/public.gw', 'ml'), { namespace: 'infra', name: 'public.gw' });
  for (const bad of ['a/b/c', 'Infra/x', '/x', 'x/'])
    assert.throws(() => parseGatewaySetting(bad, 'ml'), /mlops\.kubernetes\.gateway is '.*', which is neither/);
});

/** An HTTPRoute as the API server returns it once a controller (here Envoy Gateway's) has reported on it. */
function route(conditions: Record<string, unknown>[] | null): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'fraud', namespace: 'ml', generation: 2, annotations: { 'mlops.dev/split': '{}' } },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' }],
      rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'fraud', port: 80, weight: 70 }] }],
    },
    status: {
      parents:
        conditions === null
          ? []
          : [
              {
                parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other', namespace: 'infra' },
                controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
                conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', message: 'x' }],
              },
              {
                parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' },
                controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
                conditions,
              },
            ],
    },
  };
}

const condition = (type: string, status: string, reason: string, message = '') => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 2,
  lastTransitionTime: '2026-12-07T22:00:00Z',
});

test("routeStatus reads the Accepted and ResolvedRefs conditions of the route's own Gateway", () => {
  assert.deepEqual(
    routeStatus(
      route([
        condition('Accepted', 'True', 'Accepted', 'Route is accepted'),
        condition('ResolvedRefs', 'True', 'ResolvedRefs'),
      ]),
      'ml',
    ),
    {
      gateway: 'infra/public',
      accepted: true,
      resolvedRefs: true,
      message: 'accepted by gateway.envoyproxy.io/gatewayclass-controller, its backends resolved',
    },
  );
  assert.deepEqual(
    routeStatus(
      route([
        condition('Accepted', 'True', 'Accepted'),
        condition('ResolvedRefs', 'False', 'BackendNotFound', 'Service ml/fraud--shadow not found'),
      ]),
      'ml',
    ),
    {
      gateway: 'infra/public',
      accepted: true,
      resolvedRefs: false,
      message:
        'gateway.envoyproxy.io/gatewayclass-controller reports ResolvedRefs False (BackendNotFound): Service ml/fraud--shadow not found',
    },
  );
  assert.deepEqual(routeStatus(route([condition('Accepted', 'Unknown', 'Pending')]), 'ml'), {
    gateway: 'infra/public',
    accepted: null,
    resolvedRefs: null,
    message: 'gateway.envoyproxy.io/gatewayclass-controller reports Accepted Unknown (Pending)',
  });
  assert.deepEqual(routeStatus(route(null), 'ml'), {
    gateway: 'infra/public',
    accepted: null,
    resolvedRefs: null,
    message: 'no controller of infra/public has reported on the route yet',
  });
  const noStatus = route(null);
  delete noStatus.status;
  assert.equal(routeStatus(noStatus, 'ml')?.accepted, null);
  assert.equal(routeStatus({ spec: { parentRefs: [] } }, 'ml'), undefined);
  assert.equal(routeStatus(undefined, 'ml'), undefined);
});
