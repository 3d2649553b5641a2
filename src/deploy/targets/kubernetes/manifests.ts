// The objects a Kubernetes deployment is made of, as plain manifests: a Deployment (probes on
// the model server, resources, maxUnavailable 0, the change cause, git commit, MLflow run and
// image digest as annotations), a Service, optionally a HorizontalPodAutoscaler, and a pull
// secret for a registry that needs credentials, and the Secret of the deployment's data token. Pure, so the manifests are unit-tested and the
// same ones are applied, exported as YAML and diffed.
import type { V1Deployment, V1EnvVar, V1Secret, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { DeploySpec } from '../deployTarget';

export const FIELD_MANAGER = 'mlops';

export const LABEL = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  deployment: 'mlops.dev/deployment',
  podTemplateHash: 'pod-template-hash',
  /** On a split's variants and router: the deployment whose traffic they share. */
  splitOf: 'mlops.dev/split-of',
  variant: 'mlops.dev/variant',
} as const;

export const ANNOTATION = {
  changeCause: 'kubernetes.io/change-cause',
  revision: 'deployment.kubernetes.io/revision',
  gitCommit: 'mlops.dev/git-commit',
  mlflowRunId: 'mlops.dev/mlflow-run-id',
  image: 'mlops.dev/image',
  imageDigest: 'mlops.dev/image-digest',
  deployedBy: 'mlops.dev/deployed-by',
  deployedAt: 'mlops.dev/deployed-at',
  /** The pod-template-hash of the stable revision: numbers change on rollback, the template does not. */
  stableTemplate: 'mlops.dev/stable-template-hash',
  /** Set while an autoscaler belongs to the deployment, so a deploy without one knows to remove it. */
  autoscaled: 'mlops.dev/autoscaled',
  /** On the HTTPRoute or the router of a split: the split, as a SplitRecord in JSON. */
  split: 'mlops.dev/split',
} as const;

/** The default time a rollout may make no progress before it counts as failed (kubectl's is 600 s). */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 180;

export interface ManifestInput {
  spec: DeploySpec;
  namespace: string;
  /** What the pods run: the digest (repo@sha256:…) when the image was pushed. */
  imageRef: string;
  /** Whether the image is a model server from Containerise (it answers /ping and /health). */
  modelImage: boolean;
  gitCommit: string | null;
  mlflowRunId: string | null;
  deployedBy: string;
  deployedAt: string;
  pullSecret: string | null;
}

export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL.deployment]: name };
}

export function commonLabels(name: string): Record<string, string> {
  return { [LABEL.name]: name, [LABEL.managedBy]: FIELD_MANAGER, [LABEL.deployment]: name };
}

export function deploymentManifest(input: ManifestInput): V1Deployment {
  const { spec } = input;
  const port = spec.containerPort ?? 8080;
  const annotations: Record<string, string> = {
    [ANNOTATION.changeCause]: spec.changeCause ?? `deploy ${spec.image}`,
    [ANNOTATION.image]: spec.image,
    [ANNOTATION.deployedBy]: input.deployedBy,
    [ANNOTATION.deployedAt]: input.deployedAt,
    ...(input.imageRef.includes('@sha256:') ? { [ANNOTATION.imageDigest]: input.imageRef } : {}),
    ...(input.gitCommit ? { [ANNOTATION.gitCommit]: input.gitCommit } : {}),
    ...(input.mlflowRunId ? { [ANNOTATION.mlflowRunId]: input.mlflowRunId } : {}),
    ...(spec.autoscale ? { [ANNOTATION.autoscaled]: 'true' } : {}),
  };
  const probe = (path: string, period: number, failures: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: period,
    timeoutSeconds: 2,
    failureThreshold: failures,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace: input.namespace, labels: commonLabels(spec.name), annotations },
    spec: {
      replicas: spec.replicas ?? 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
      selector: { matchLabels: selectorLabels(spec.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: commonLabels(spec.name),
          // A model server's metrics, for Prometheus' pod discovery (mlops export prometheus --mode annotations).
          ...(input.modelImage || spec.podAnnotations
            ? {
                annotations: {
                  ...(input.modelImage
                    ? {
                        'prometheus.io/scrape': 'true',
                        'prometheus.io/port': String(port),
                        'prometheus.io/path': '/metrics',
                      }
                    : {}),
                  ...spec.podAnnotations,
                },
              }
            : {}),
        },
        spec: {
          ...(input.pullSecret ? { imagePullSecrets: [{ name: input.pullSecret }] } : {}),
          // Longer than the model server's drain on SIGTERM, so requests in flight finish.
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'model',
              image: input.imageRef,
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env: [
                ...Object.entries(spec.env ?? {})
                  .filter(([name]) => name !== DATA_TOKEN_ENV)
                  .map(([name, value]) => ({ name, value })),
                dataTokenEnv(spec.name),
              ],
              resources: {
                requests: { cpu: '100m', memory: '256Mi' },
                limits: {
                  memory: `${spec.limits?.memoryMb ?? 1024}Mi`,
                  ...(spec.limits?.cpus ? { cpu: String(spec.limits.cpus) } : {}),
                },
              },
              ...(input.modelImage
                ? {
                    // /health answers 503 while the server drains, so the pod leaves the Service first.
                    readinessProbe: probe('/health', 2, 3),
                    livenessProbe: { ...probe('/ping', 10, 3), initialDelaySeconds: 30 },
                    startupProbe: probe('/ping', 2, 60),
                  }
                : {}),
            },
          ],
        },
      },
    },
  };
}

/** The Secret of a deployment's data token, under the key `token`. */
export function dataTokenSecretName(name: string): string {
  return `${name}-mlops-data-token`;
}

export const DATA_TOKEN_KEY = 'token';
const DATA_TOKEN_ENV = 'MLOPS_DATA_TOKEN';

export function dataTokenSecretManifest(name: string, namespace: string, token: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: dataTokenSecretName(name), namespace, labels: commonLabels(name) },
    data: { [DATA_TOKEN_KEY]: Buffer.from(token).toString('base64') },
  };
}

/** MLOPS_DATA_TOKEN from the deployment's Secret, for the model server and the router. */
export function dataTokenEnv(name: string): V1EnvVar {
  return {
    name: DATA_TOKEN_ENV,
    valueFrom: { secretKeyRef: { name: dataTokenSecretName(name), key: DATA_TOKEN_KEY } },
  };
}

/** ClusterIP on port 80, or NodePort when a published port (30000–32767) is asked for. */
export function serviceManifest(spec: DeploySpec, namespace: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace, labels: commonLabels(spec.name) },
    spec: {
      type: spec.publishedPort !== undefined ? 'NodePort' : 'ClusterIP',
      selector: selectorLabels(spec.name),
      ports: [
        {
          name: 'http',
          port: 80,
          targetPort: 'http',
          protocol: 'TCP',
          ...(spec.publishedPort !== undefined ? { nodePort: spec.publishedPort } : {}),
        },
      ],
    },
  };
}

export function autoscalerManifest(spec: DeploySpec, namespace: string): V2HorizontalPodAutoscaler | null {
  if (!spec.autoscale) return null;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: spec.name, namespace, labels: commonLabels(spec.name) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name },
      minReplicas: spec.autoscale.minReplicas,
      maxReplicas: spec.autoscale.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: spec.autoscale.cpuPercent ?? 70 },
          },
        },
      ],
    },
  };
}

/** The secret name for a registry host: `mlops-registry-` and the host in DNS-label form. */
export function pullSecretName(registry: string): string {
  return `mlops-registry-${registry
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`
    .slice(0, 63)
    .replace(/-$/, '');
}

export function pullSecretManifest(
  name: string,
  namespace: string,
  registry: string,
  credentials: { username: string; password: string },
): V1Secret {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  const dockerConfig = {
    auths: { [registry]: { username: credentials.username, password: credentials.password, auth } },
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: { name, namespace, labels: { [LABEL.managedBy]: FIELD_MANAGER } },
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerConfig)).toString('base64') },
  };
}

/** Strips what the server adds (status, uid, managedFields, …), for YAML export and diffs. */
export function cleanForExport<T extends { metadata?: object; status?: unknown }>(object: T): T {
  const copy = JSON.parse(JSON.stringify(object)) as T & { metadata?: Record<string, unknown>; status?: unknown };
  delete copy.status;
  if (copy.metadata) {
    for (const key of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink'])
      delete copy.metadata[key];
    const annotations = copy.metadata.annotations as Record<string, string> | undefined;
    if (annotations) {
      delete annotations[ANNOTATION.revision];
      delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
      if (!Object.keys(annotations).length) delete copy.metadata.annotations;
    }
  }
  const spec = (copy as { kind?: string; spec?: Record<string, unknown> }).spec;
  if ((copy as { kind?: string }).kind === 'Service' && spec) {
    for (const key of [
      'clusterIP',
      'clusterIPs',
      'ipFamilies',
      'ipFamilyPolicy',
      'internalTrafficPolicy',
      'sessionAffinity',
    ])
      delete spec[key];
  }
  return copy;
}
