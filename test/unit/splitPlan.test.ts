// Traffic splits before they reach a cluster: the checks, the router's groups, the record kept on
// the cluster, and the Swarm specs and Kubernetes manifests of the variants, router-api and HTTPRoute
// (the Kubernetes proxy's are in kubernetesProxy.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Docker from 'dockerode';
import type { TrafficSplit } from '../../src/deploy/targets/deployTarget';
import { checkDeploymentName } from '../../src/deploy/targets/kubernetes/kubernetesTarget';
import { deploymentManifest } from '../../src/deploy/targets/kubernetes/manifests';
import {
  httpRouteManifest,
  routerApiDeploymentManifest,
  splitServiceManifest,
  variantDeploymentManifest,
} from '../../src/deploy/targets/kubernetes/splitManifests';
import {
  checkSplit,
  parseSplitRecord,
  splitBackends,
  splitRecord,
  variantWorkload,
} from '../../src/deploy/targets/splitPlan';
import { checkServiceName, LABEL } from '../../src/deploy/targets/swarm/labels';
import { hasDataToken, withDataToken } from '../../src/deploy/targets/swarm/dataTokenSecret';
import {
  modelServiceSpec,
  routerApiServiceSpec,
  routerWithBackends,
  variantServiceSpec,
} from '../../src/deploy/targets/swarm/serviceSpec';

const AB: TrafficSplit = {
  variants: [
    { name: 'production', weight: 70 },
    { name: 'candidate', image: 'churn:v2', weight: 30 },
    { name: 'shadow', image: 'churn:v3', weight: 20, shadow: true },
  ],
  stickyKey: 'header:X-User-Id',
};
const record = splitRecord(
  AB,
  new Map([
    ['production', 'churn:v1'],
    ['candidate', 'churn:v2'],
    ['shadow', 'churn:v3'],
  ]),
  '2026-12-07T02:00:00.000Z',
);

test('checkSplit accepts an A/B test with a shadow and names what is wrong otherwise', () => {
  checkSplit('churn', AB, 63);
  const fails = (split: TrafficSplit, pattern: RegExp) => assert.throws(() => checkSplit('churn', split, 63), pattern);
  fails({ variants: [{ name: 'candidate', image: 'x', weight: 1 }] }, /has no 'production' variant/);
  fails({ variants: [{ name: 'production', weight: 1 }] }, /no variant besides 'production'/);
  fails(
    {
      variants: [
        { name: 'production', weight: 1, shadow: true },
        { name: 'b', weight: 1 },
      ],
    },
    /cannot be a shadow/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 1 },
        { name: 'b', weight: 1 },
        { name: 'b', weight: 2 },
      ],
    },
    /names the variant 'b' twice/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 1 },
        { name: 'B_2', weight: 1 },
      ],
    },
    /'B_2' is not a valid variant name/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 1 },
        { name: 'b', weight: -1 },
      ],
    },
    /weight of variant 'b' must be a number, 0 or more, not -1/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 1 },
        { name: 'b', weight: 150, shadow: true },
      ],
    },
    /shadow variant 'b'.*at most 100, not 150/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 0 },
        { name: 'b', weight: 10, shadow: true },
      ],
    },
    /sends no live traffic/,
  );
  fails(
    {
      variants: [
        { name: 'production', weight: 1 },
        { name: 'b', weight: 1, replicas: 0 },
      ],
    },
    /replicas of variant 'b'/,
  );
  fails({ ...AB, stickyKey: 'cookie:id' }, /'cookie:id' is neither header:NAME nor field:NAME/);
  assert.throws(
    () =>
      checkSplit(
        'a'.repeat(48),
        {
          variants: [
            { name: 'production', weight: 1 },
            { name: 'candidate-long', weight: 1 },
          ],
        },
        63,
      ),
    /longer than 63 characters/,
  );
});

test('deployment names with two dashes in a row are refused on both targets, as they name variants', () => {
  assert.equal(variantWorkload('churn', 'candidate'), 'churn--candidate');
  assert.equal(variantWorkload('churn', 'production'), 'churn');
  assert.match(checkServiceName('churn--b') ?? '', /two dashes in a row/);
  assert.match(checkDeploymentName('churn--b') ?? '', /two dashes in a row/);
  assert.equal(checkServiceName('churn-b'), undefined);
});

test('the router gets one group per variant, shadows flagged, and the record reads back', () => {
  const groups = JSON.parse(splitBackends('churn', record, (workload) => `tasks.${workload}:8080`)) as unknown;
  assert.deepEqual(groups, [
    { name: 'production', addresses: ['tasks.churn:8080'], weight: 70 },
    { name: 'candidate', addresses: ['tasks.churn--candidate:8080'], weight: 30 },
    { name: 'shadow', addresses: ['tasks.churn--shadow:8080'], weight: 20, shadow: true },
  ]);
  assert.deepEqual(parseSplitRecord(JSON.stringify(record)), record);
  assert.equal(parseSplitRecord('{"variants": 3}'), null);
  assert.equal(parseSplitRecord('not json'), null);
  assert.equal(parseSplitRecord(undefined), null);
});

const dataToken = { id: 's1', name: 'mlops-churn-data-token' };
const TOKEN_FILE = 'MLOPS_DATA_TOKEN_FILE=/run/secrets/mlops-data-token';

test('a Swarm variant runs the production task template under its own name and image; the router env changes and comes back', () => {
  const production = modelServiceSpec({
    spec: { name: 'churn', image: 'churn:v1', env: { A: '1' }, limits: { cpus: 1 }, publishedPort: 9000 },
    imageRef: 'churn:v1',
    revision: 3,
    stableRevision: null,
    modelImage: true,
    networkId: 'net1',
    dataToken,
  });
  const variant = variantServiceSpec(production, {
    deployment: 'churn',
    variant: 'candidate',
    image: 'churn:v2',
    replicas: 2,
    shadow: true,
  });
  const container = (variant.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!;
  assert.equal(variant.Name, 'churn--candidate');
  assert.deepEqual(
    container.Env,
    ['A=1', TOKEN_FILE, 'MLOPS_VARIANT=candidate', 'MLOPS_SHADOW=1'],
    'the variant logs its name and shadow flag without the router too',
  );
  assert.deepEqual(
    container.Secrets,
    [
      {
        SecretID: 's1',
        SecretName: 'mlops-churn-data-token',
        File: { Name: 'mlops-data-token', UID: '0', GID: '0', Mode: 0o444 },
      },
    ],
    "the variant reads the deployment's data token",
  );
  assert.deepEqual(variant.Labels, {
    [LABEL.deployment]: 'churn',
    [LABEL.role]: 'variant',
    [LABEL.variant]: 'candidate',
  });
  assert.equal(container.Image, 'churn:v2');
  assert.ok(container.HealthCheck, 'the model health check is kept');
  assert.deepEqual((variant.TaskTemplate as Docker.ContainerTaskSpec).Networks, [
    { Target: 'net1', Aliases: ['churn--candidate'] },
  ]);
  assert.equal((variant.TaskTemplate as Docker.ContainerTaskSpec).Resources?.Limits?.NanoCPUs, 1e9);
  assert.deepEqual(variant.Mode, { Replicated: { Replicas: 2 } });
  assert.deepEqual(variant.EndpointSpec, { Mode: 'dnsrr' });

  const router = routerApiServiceSpec({
    name: 'churn',
    image: 'churn:v1',
    containerPort: 8080,
    networkId: 'net1',
    dataToken,
  });
  assert.ok(hasDataToken(router) && hasDataToken(production));
  assert.equal(
    hasDataToken(withDataToken(router, dataToken)) &&
      (withDataToken(router, dataToken).TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!.Secrets!.length,
    1,
    'adding it again changes nothing',
  );
  const routed = routerWithBackends(router, {
    backends: '[1]',
    stickyKey: 'header:X-User-Id',
    split: '{"s":1}',
    image: 'churn:v2',
  });
  const env = (spec: Docker.ServiceSpec) => (spec.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!.Env;
  assert.deepEqual(env(routed), [
    'MLOPS_ROUTER_BACKENDS=[1]',
    'MLOPS_ROUTER_STICKY_KEY=header:X-User-Id',
    'PORT=8080',
    TOKEN_FILE,
  ]);
  assert.equal((routed.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!.Image, 'churn:v2');
  assert.equal(routed.Labels?.[LABEL.split], '{"s":1}');
  const back = routerWithBackends(routed, { backends: '[2]', stickyKey: null, split: null });
  assert.deepEqual(env(back), ['MLOPS_ROUTER_BACKENDS=[2]', 'PORT=8080', TOKEN_FILE]);
  assert.equal(back.Labels?.[LABEL.split], undefined);
  assert.equal(
    (back.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!.Image,
    'churn:v2',
    'the router keeps its newer image',
  );
});

test('Kubernetes: a variant Deployment and Service select only the variant; the HTTPRoute weighs and mirrors, and sends /feedback to the router-api; the router-api gets the groups', () => {
  const production = deploymentManifest({
    spec: { name: 'churn', image: 'churn:v1', env: { A: '1' }, progressDeadlineSeconds: 30 },
    namespace: 'ml',
    imageRef: 'churn:v1',
    modelImage: true,
    gitCommit: null,
    mlflowRunId: null,
    deployedBy: 'a@b',
    deployedAt: 'now',
    pullSecret: 'secret',
  });
  const variant = variantDeploymentManifest(production, {
    deployment: 'churn',
    variant: 'candidate',
    image: 'churn:v2',
    replicas: 2,
    shadow: false,
    namespace: 'ml',
  });
  assert.equal(variant.metadata?.name, 'churn--candidate');
  assert.deepEqual(variant.spec?.selector.matchLabels, { 'mlops.dev/deployment': 'churn--candidate' });
  assert.equal(
    variant.spec?.template.metadata?.labels?.['mlops.dev/deployment'],
    'churn--candidate',
    'the production Service (mlops.dev/deployment=churn) never selects a variant pod',
  );
  assert.equal(variant.metadata?.labels?.['mlops.dev/split-of'], 'churn');
  assert.equal(variant.metadata?.labels?.['mlops.dev/variant'], 'candidate');
  const container = variant.spec?.template.spec?.containers[0];
  assert.equal(container?.image, 'churn:v2');
  assert.deepEqual(container?.env, [
    { name: 'A', value: '1' },
    { name: 'MLOPS_DATA_TOKEN', valueFrom: { secretKeyRef: { name: 'churn-mlops-data-token', key: 'token' } } },
    { name: 'MLOPS_VARIANT', value: 'candidate' },
  ]);
  assert.ok(container?.readinessProbe && container.startupProbe);
  assert.deepEqual(variant.spec?.template.spec?.imagePullSecrets, [{ name: 'secret' }]);
  assert.equal(variant.spec?.progressDeadlineSeconds, 30);
  assert.equal(variant.spec?.replicas, 2);
  assert.deepEqual(
    splitServiceManifest({ deployment: 'churn', workload: 'churn--candidate', variant: 'candidate', namespace: 'ml' })
      .spec?.selector,
    { 'mlops.dev/deployment': 'churn--candidate' },
  );

  const route = httpRouteManifest({
    deployment: 'churn',
    namespace: 'ml',
    gateway: { namespace: 'ml', name: 'mlops' },
    record,
  }) as { spec: { parentRefs: unknown; rules: Record<string, unknown>[] } };
  assert.deepEqual(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlops' }]);
  assert.deepEqual(route.spec.rules[0], {
    matches: [{ path: { type: 'Exact', value: '/feedback' } }],
    backendRefs: [{ name: 'churn-router-api', port: 80 }],
  });
  assert.deepEqual(route.spec.rules[1], {
    matches: [
      { path: { type: 'Exact', value: '/invocations' } },
      { path: { type: 'PathPrefix', value: '/v2/models' } },
    ],
    backendRefs: [
      { name: 'churn', port: 80, weight: 70 },
      { name: 'churn--candidate', port: 80, weight: 30 },
    ],
    filters: [
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'churn--shadow', port: 80 }, percent: 20 } },
    ],
  });
  // A Gateway of another namespace; weights and a mirror share with fractions, which the API takes as whole numbers.
  const fractional = httpRouteManifest({
    deployment: 'churn',
    namespace: 'ml',
    gateway: { namespace: 'infra', name: 'public' },
    record: {
      ...record,
      variants: record.variants.map((variant) => ({
        ...variant,
        weight: { production: 66.7, candidate: 33.3, shadow: 12.5 }[variant.name]!,
      })),
    },
  }) as { spec: { parentRefs: unknown; rules: Record<string, unknown>[] } };
  assert.deepEqual(fractional.spec.parentRefs, [
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' },
  ]);
  assert.deepEqual(route.spec.rules[2], {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    backendRefs: [
      { name: 'churn', port: 80, weight: 70 },
      { name: 'churn--candidate', port: 80, weight: 30 },
    ],
  });
  assert.deepEqual(fractional.spec.rules[1], {
    matches: [
      { path: { type: 'Exact', value: '/invocations' } },
      { path: { type: 'PathPrefix', value: '/v2/models' } },
    ],
    backendRefs: [
      { name: 'churn', port: 80, weight: 6670 },
      { name: 'churn--candidate', port: 80, weight: 3330 },
    ],
    filters: [
      {
        type: 'RequestMirror',
        requestMirror: {
          backendRef: { name: 'churn--shadow', port: 80 },
          fraction: { numerator: 1250, denominator: 10_000 },
        },
      },
    ],
  });

  const router = routerApiDeploymentManifest({
    deployment: 'churn',
    namespace: 'ml',
    image: 'churn:v2',
    record,
    backends: '[]',
    progressDeadlineSeconds: 30,
  });
  assert.equal(router.metadata?.name, 'churn-router-api');
  assert.deepEqual(router.spec?.selector.matchLabels, { 'mlops.dev/deployment': 'churn-router-api' });
  assert.equal(router.spec?.progressDeadlineSeconds, 30, "production's deadline");
  assert.deepEqual(router.spec?.template.spec?.containers[0]?.command, ['python3', '-m', 'mlops_runtime.router']);
  assert.deepEqual(router.spec?.template.spec?.containers[0]?.env, [
    { name: 'MLOPS_ROUTER_BACKENDS', value: '[]' },
    { name: 'MLOPS_ROUTER_STICKY_KEY', value: 'header:X-User-Id' },
    { name: 'PORT', value: '8080' },
    { name: 'MLOPS_DATA_TOKEN', valueFrom: { secretKeyRef: { name: 'churn-mlops-data-token', key: 'token' } } },
  ]);
  assert.equal(
    router.metadata?.annotations?.['mlops.dev/split'],
    undefined,
    'the split lives on the HTTPRoute or the proxy, whichever runs it',
  );
});
