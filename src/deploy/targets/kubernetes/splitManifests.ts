// The objects of a traffic split on Kubernetes, as plain manifests: a Deployment and a Service
// per variant (NAME--VARIANT, their own selector, so the production Service never reaches them),
// the Python router beside the request path (NAME-router-api), and either a Gateway API HTTPRoute
// with weighted backendRefs and RequestMirror filters, or HAProxy (proxyManifests.ts) when the
// cluster has no Gateway for it.
import type { KubernetesObject, V1Container, V1Deployment, V1Service } from '@kubernetes/client-node';
import { variantEnv, variantWorkload, type SplitRecord } from '../splitPlan';
import { GATEWAY_GROUP, type GatewayRef } from './gatewayRoute';
import { ANNOTATION, dataTokenEnv, selectorLabels } from './manifests';
import { oneReplicaDeployment, PROXY_PORT, routerApiWorkload, SERVICE_PORT, splitLabels } from './proxyManifests';

/**
 * A variant's Deployment: the production pod template (ports, env, resources, probes, pull secret)
 * with the variant's image and replicas, selected by its own name.
 */
export function variantDeploymentManifest(
  production: V1Deployment,
  input: { deployment: string; variant: string; image: string; replicas: number; shadow: boolean; namespace: string },
): V1Deployment {
  const workload = variantWorkload(input.deployment, input.variant);
  const template = production.spec?.template;
  const model = template?.spec?.containers?.[0];
  const container: V1Container = {
    name: 'model',
    image: input.image,
    ...(model?.ports ? { ports: model.ports } : {}),
    env: [
      ...(model?.env ?? []).filter((e) => e.name !== 'MLOPS_VARIANT' && e.name !== 'MLOPS_SHADOW'),
      ...variantEnv(input),
    ],
    ...(model?.resources ? { resources: model.resources } : {}),
    ...(model?.readinessProbe ? { readinessProbe: model.readinessProbe } : {}),
    ...(model?.livenessProbe ? { livenessProbe: model.livenessProbe } : {}),
    ...(model?.startupProbe ? { startupProbe: model.startupProbe } : {}),
  };
  const labels = splitLabels(workload, input.deployment, input.variant);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: workload,
      namespace: input.namespace,
      labels,
      annotations: {
        [ANNOTATION.image]: input.image,
        [ANNOTATION.changeCause]: `variant ${input.variant} of ${input.deployment}`,
      },
    },
    spec: {
      replicas: input.replicas,
      ...(production.spec?.progressDeadlineSeconds
        ? { progressDeadlineSeconds: production.spec.progressDeadlineSeconds }
        : {}),
      selector: { matchLabels: selectorLabels(workload) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          ...(template?.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        },
        spec: {
          ...(template?.spec?.imagePullSecrets ? { imagePullSecrets: template.spec.imagePullSecrets } : {}),
          terminationGracePeriodSeconds: template?.spec?.terminationGracePeriodSeconds ?? 30,
          containers: [container],
        },
      },
    },
  };
}

/** A ClusterIP Service on port 80 for a variant, the proxy or the router-api. */
export function splitServiceManifest(input: {
  deployment: string;
  workload: string;
  variant?: string;
  namespace: string;
  selects?: string;
}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: input.workload,
      namespace: input.namespace,
      labels: splitLabels(input.workload, input.deployment, input.variant),
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(input.selects ?? input.workload),
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** Gateway API weights are whole numbers: weights with a fraction are scaled by 100 first. */
function routeWeights(weights: number[]): number[] {
  const scale = weights.every(Number.isInteger) ? 1 : 100;
  return weights.map((weight) => Math.round(weight * scale));
}

/** A shadow's share of requests: a whole percentage, or a fraction of 10,000 for one like 12.5. */
function mirrorShare(percent: number): { percent: number } | { fraction: { numerator: number; denominator: number } } {
  return Number.isInteger(percent)
    ? { percent }
    : { fraction: { numerator: Math.round(percent * 100), denominator: 10_000 } };
}

/**
 * The paths of predictions, the only requests mirrored to shadows: MLflow's /invocations and the
 * Open Inference Protocol's /v2/models/NAME/infer (path matches are core Gateway API; methods are
 * not, so the protocol's model metadata reads are mirrored too).
 */
const PREDICTION_MATCHES = [
  { path: { type: 'Exact', value: '/invocations' } },
  { path: { type: 'PathPrefix', value: '/v2/models' } },
];

/**
 * The HTTPRoute of a split, attached to `gateway`: live variants as weighted backendRefs to their
 * Services, each shadow as a RequestMirror filter with its share on the prediction paths (both in
 * the standard channel since Gateway API v1.3). `POST /feedback` goes to the router-api's Service
 * instead (an Exact path match wins over a prefix): a variant refuses feedback for a client's own
 * request id it did not log (ids the servers issue are signed, and any variant takes those), and
 * the router asks the others. A sticky key has no HTTPRoute form (sessionPersistence, experimental,
 * pins a client to a backend by a cookie or header the gateway issues, not by a hash of the
 * client's own header), so sticky splits go through the proxy instead.
 */
export function httpRouteManifest(input: {
  deployment: string;
  namespace: string;
  gateway: GatewayRef;
  record: SplitRecord;
}): KubernetesObject & { spec: unknown } {
  const { deployment, record } = input;
  const ref = (variant: string) => ({ name: variantWorkload(deployment, variant), port: SERVICE_PORT });
  const live = record.variants.filter((variant) => !variant.shadow);
  const weights = routeWeights(live.map((variant) => variant.weight));
  const backendRefs = live.map((variant, index) => ({ ...ref(variant.name), weight: weights[index]! }));
  const mirrors = record.variants
    .filter((variant) => variant.shadow)
    .map((variant) => ({
      type: 'RequestMirror',
      requestMirror: { backendRef: ref(variant.name), ...mirrorShare(variant.weight) },
    }));
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: {
      name: deployment,
      namespace: input.namespace,
      labels: splitLabels(deployment, deployment),
      annotations: { [ANNOTATION.split]: JSON.stringify(record) },
    },
    spec: {
      parentRefs: [
        {
          group: GATEWAY_GROUP,
          kind: 'Gateway',
          name: input.gateway.name,
          ...(input.gateway.namespace === input.namespace ? {} : { namespace: input.gateway.namespace }),
        },
      ],
      rules: [
        {
          matches: [{ path: { type: 'Exact', value: '/feedback' } }],
          backendRefs: [{ name: routerApiWorkload(deployment), port: SERVICE_PORT }],
        },
        ...(mirrors.length ? [{ matches: PREDICTION_MATCHES, backendRefs, filters: mirrors }] : []),
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs },
      ],
    },
  };
}

/**
 * The Python router as a Deployment, with the split's groups at the variants' Services: the
 * proxy's api (everything but predictions, and every request of a field: sticky key), or what
 * takes /feedback beside an HTTPRoute. Off the request path of predictions either way.
 */
export function routerApiDeploymentManifest(input: {
  deployment: string;
  namespace: string;
  image: string;
  record: SplitRecord;
  backends: string;
  /** The production Deployment's, so a router that never gets ready fails as soon. */
  progressDeadlineSeconds?: number | undefined;
}): V1Deployment {
  const workload = routerApiWorkload(input.deployment);
  const labels = splitLabels(workload, input.deployment);
  const env = [
    { name: 'MLOPS_ROUTER_BACKENDS', value: input.backends },
    ...(input.record.stickyKey ? [{ name: 'MLOPS_ROUTER_STICKY_KEY', value: input.record.stickyKey }] : []),
    { name: 'PORT', value: String(PROXY_PORT) },
    dataTokenEnv(input.deployment),
  ];
  return oneReplicaDeployment({
    workload,
    namespace: input.namespace,
    labels,
    annotations: { [ANNOTATION.image]: input.image },
    progressDeadlineSeconds: input.progressDeadlineSeconds,
    pod: {
      // Longer than the router's longest request (retries and timeout), so requests in flight finish.
      terminationGracePeriodSeconds: 45,
      containers: [
        {
          name: 'router',
          image: input.image,
          command: ['python3', '-m', 'mlops_runtime.router'],
          ports: [{ name: 'http', containerPort: PROXY_PORT, protocol: 'TCP' }],
          env,
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: {
            httpGet: { path: '/router/health', port: 'http' },
            periodSeconds: 2,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
        },
      ],
    },
  });
}

/** The router-api's address for a workload's Service in the namespace. */
export function serviceAddress(workload: string, namespace: string): string {
  return `${workload}.${namespace}.svc:${SERVICE_PORT}`;
}
