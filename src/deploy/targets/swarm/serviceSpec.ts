// The Swarm service specs of a deployment. A model image from Containerise runs behind a proxy
// (proxyService.ts) that publishes the port and forwards to the model's tasks by DNS, so a rolling
// update (start-first) never leaves the port without a server, even when ports are published in
// host mode; the Python router (runtime/mlops_runtime/router.py) runs beside the proxy for what is
// not a prediction. Any other image is published directly.
import type Docker from 'dockerode';
import { PRODUCTION_VARIANT, type DeploySpec } from '../deployTarget';
import { variantEnv, variantWorkload } from '../splitPlan';
import { withDataToken, type SecretRef } from './dataTokenSecret';
import { LABEL, NETWORK, routerApiName } from './labels';

const SECOND = 1_000_000_000;
const PING =
  "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ping' % os.environ.get('PORT', '8080'), timeout=2)";
const ROUTER_PING = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/router/health', timeout=2)";

export interface SpecInput {
  spec: DeploySpec;
  /** The image reference the tasks run: a digest when pushed to a registry. */
  imageRef: string;
  revision: number;
  stableRevision: number | null;
  /** Whether the image is a model server from Containerise (it can run the router). */
  modelImage: boolean;
  networkId: string;
  /** The deployment's data token secret, which every service of it mounts. */
  dataToken: SecretRef;
}

export function modelServiceSpec(input: SpecInput): Docker.ServiceSpec {
  const { spec } = input;
  const port = spec.containerPort ?? 8080;
  const routed = input.modelImage && spec.publishMode !== 'ingress';
  const published = spec.publishedPort !== undefined;
  return withDataToken(
    {
      Name: spec.name,
      Labels: {
        [LABEL.deployment]: spec.name,
        [LABEL.role]: 'model',
        [LABEL.revision]: String(input.revision),
        ...(input.stableRevision !== null ? { [LABEL.stable]: String(input.stableRevision) } : {}),
        ...(published
          ? { [LABEL.publishedPort]: String(spec.publishedPort), [LABEL.publishMode]: spec.publishMode ?? 'host' }
          : {}),
      },
      TaskTemplate: {
        ContainerSpec: {
          Image: input.imageRef,
          Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
          // On the task template, so that every revision change rolls the tasks.
          Labels: { [LABEL.deployment]: spec.name, [LABEL.revision]: String(input.revision) },
          ...(input.modelImage
            ? {
                HealthCheck: {
                  Test: ['CMD', 'python3', '-c', PING],
                  Interval: 2 * SECOND,
                  Timeout: 2 * SECOND,
                  Retries: 3,
                  StartPeriod: 60 * SECOND,
                },
              }
            : {}),
          // Longer than the server's drain time, so in-flight requests finish.
          StopGracePeriod: 30 * SECOND,
        },
        Resources: {
          Limits: {
            ...(spec.limits?.cpus ? { NanoCPUs: Math.round(spec.limits.cpus * 1e9) } : {}),
            ...(spec.limits?.memoryMb ? { MemoryBytes: spec.limits.memoryMb * 1024 * 1024 } : {}),
          },
        },
        RestartPolicy: { Condition: 'any', Delay: 2 * SECOND },
        Networks: [{ Target: input.networkId, Aliases: [spec.name] }],
      },
      Mode: { Replicated: { Replicas: spec.replicas ?? 1 } },
      UpdateConfig: {
        Parallelism: 1,
        Delay: 1 * SECOND,
        // Two tasks cannot publish one host port: without the router the old task stops first.
        Order: routed || !published || spec.publishMode === 'ingress' ? 'start-first' : 'stop-first',
        FailureAction: 'rollback',
        Monitor: 10 * SECOND,
        MaxFailureRatio: 0,
      },
      RollbackConfig: {
        Parallelism: 1,
        Delay: 0,
        Order: routed || !published || spec.publishMode === 'ingress' ? 'start-first' : 'stop-first',
        FailureAction: 'pause',
        Monitor: 5 * SECOND,
        MaxFailureRatio: 0,
      },
      EndpointSpec:
        routed || !published
          ? { Mode: 'dnsrr' }
          : {
              Mode: 'vip',
              Ports: [
                {
                  Protocol: 'tcp',
                  TargetPort: port,
                  PublishedPort: spec.publishedPort,
                  PublishMode: spec.publishMode ?? 'host',
                },
              ],
            },
    },
    input.dataToken,
  );
}

/**
 * The Python router of a deployment, beside its proxy and off the request path: the proxy sends it
 * what is not a prediction (/router/*, /feedback, /requests), and it reads every task of each
 * group (MLOPS_ROUTER_BACKENDS) for them. No port of its own is published, so it updates start-first.
 */
export function routerApiServiceSpec(input: {
  name: string;
  image: string;
  containerPort: number;
  networkId: string;
  dataToken: SecretRef;
}): Docker.ServiceSpec {
  return withDataToken(
    {
      Name: routerApiName(input.name),
      Labels: { [LABEL.deployment]: input.name, [LABEL.role]: 'router-api' },
      TaskTemplate: {
        ContainerSpec: {
          Image: input.image,
          Command: ['python3', '-m', 'mlops_runtime.router'],
          Env: [`MLOPS_ROUTER_BACKENDS=${routerBackends(input.name, input.containerPort)}`, 'PORT=8080'],
          HealthCheck: {
            Test: ['CMD', 'python3', '-c', ROUTER_PING],
            Interval: 2 * SECOND,
            Timeout: 2 * SECOND,
            Retries: 3,
            StartPeriod: 30 * SECOND,
          },
          StopGracePeriod: 30 * SECOND,
        },
        RestartPolicy: { Condition: 'any', Delay: 1 * SECOND },
        Networks: [{ Target: input.networkId }],
      },
      Mode: { Replicated: { Replicas: 1 } },
      UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback', Monitor: 5 * SECOND },
      // Found by DNS (tasks.NAME-router-api), as the proxy finds every task: no virtual IP.
      EndpointSpec: { Mode: 'dnsrr' },
    },
    input.dataToken,
  );
}

/**
 * A variant of a split: the production service's task template (network, health check, env,
 * limits) with the variant's image, its own name as the DNS alias, and its own replicas.
 */
export function variantServiceSpec(
  production: Docker.ServiceSpec,
  input: { deployment: string; variant: string; image: string; replicas: number; shadow: boolean },
): Docker.ServiceSpec {
  const name = variantWorkload(input.deployment, input.variant);
  const template = production.TaskTemplate as Docker.ContainerTaskSpec;
  const env = [
    ...(template.ContainerSpec?.Env ?? []).filter((entry) => !/^MLOPS_(VARIANT|SHADOW)=/.test(entry)),
    ...variantEnv(input).map(({ name: key, value }) => `${key}=${value}`),
  ];
  return {
    Name: name,
    Labels: { [LABEL.deployment]: input.deployment, [LABEL.role]: 'variant', [LABEL.variant]: input.variant },
    TaskTemplate: {
      ...template,
      ContainerSpec: {
        ...template.ContainerSpec,
        Image: input.image,
        Env: env,
        Labels: { [LABEL.deployment]: input.deployment, [LABEL.variant]: input.variant },
      },
      Networks: (template.Networks ?? []).map((network) => ({ ...network, Aliases: [name] })),
    },
    Mode: { Replicated: { Replicas: input.replicas } },
    ...(production.UpdateConfig ? { UpdateConfig: production.UpdateConfig } : {}),
    ...(production.RollbackConfig ? { RollbackConfig: production.RollbackConfig } : {}),
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** The router's one group outside a split: production, so request logs name the variant the same way during a split and outside one. */
export function routerBackends(name: string, port: number): string {
  return JSON.stringify([{ name: PRODUCTION_VARIANT, addresses: [`tasks.${name}:${port}`], weight: 100 }]);
}

/** The router's spec with other backends, sticky key (none: null) and split label; an image when given. */
export function routerWithBackends(
  router: Docker.ServiceSpec,
  input: { backends: string; stickyKey: string | null; split: string | null; image?: string },
): Docker.ServiceSpec {
  const template = router.TaskTemplate as Docker.ContainerTaskSpec;
  const kept = (template.ContainerSpec?.Env ?? []).filter(
    (entry) => !/^MLOPS_ROUTER_(BACKENDS|STICKY_KEY)=/.test(entry),
  );
  const { [LABEL.split]: _previous, ...labels } = router.Labels ?? {};
  return {
    ...router,
    Labels: { ...labels, ...(input.split ? { [LABEL.split]: input.split } : {}) },
    TaskTemplate: {
      ...template,
      ContainerSpec: {
        ...template.ContainerSpec,
        ...(input.image ? { Image: input.image } : {}),
        Env: [
          `MLOPS_ROUTER_BACKENDS=${input.backends}`,
          ...(input.stickyKey ? [`MLOPS_ROUTER_STICKY_KEY=${input.stickyKey}`] : []),
          ...kept,
        ],
      },
    },
  };
}

export { NETWORK };
