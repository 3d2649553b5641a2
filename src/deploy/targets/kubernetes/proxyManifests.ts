// The in-cluster proxy of a split on a cluster without a Gateway for it: HAProxy as the Deployment
// NAME-router, its haproxy.cfg and mirror.lua in a ConfigMap named by their content (a new config
// rolls the proxy, and each ReplicaSet keeps the files it started with), routing predictions to
// the variants' Services and everything else to the Python router NAME-router-api beside it.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { PRODUCTION_VARIANT } from '../deployTarget';
import { haproxyConfig, PROXY_COMMAND, PROXY_CONFIG_DIR, type ProxyFiles } from '../../../serving/haproxyConfig';
import { variantWorkload, type SplitRecord } from '../splitPlan';
import { ANNOTATION, commonLabels, dataTokenEnv, LABEL, selectorLabels } from './manifests';

/** Where the Services of a deployment, its variants and its router-api listen. */
export const SERVICE_PORT = 80;
/** The port HAProxy and the router-api listen on in their pods: above 1024, as the official image runs as a user. */
export const PROXY_PORT = 8080;
/** Kubernetes' default cluster domain. */
const CLUSTER_DOMAIN = 'cluster.local';
const FILES = { config: 'haproxy.cfg', lua: 'mirror.lua' } as const;

/** The proxy on the request path (HAProxy), as on Swarm. */
export function routerWorkload(deployment: string): string {
  return `${deployment}-router`;
}

/** The Python router beside the proxy or the HTTPRoute: /router/*, /feedback, /requests, field: sticky keys. */
export function routerApiWorkload(deployment: string): string {
  return `${deployment}-router-api`;
}

/**
 * While a split runs, the deployment's own Service (and its NodePort) selects the proxy's pods,
 * so clients keep their address; the proxy and the router-api reach production's pods through
 * this Service instead.
 */
export function productionDirectService(deployment: string): string {
  return `${deployment}--production`;
}

/** Labels of what belongs to a split (its variants, proxy, router-api and their config). */
export function splitLabels(workload: string, deployment: string, variant?: string): Record<string, string> {
  return { ...commonLabels(workload), [LABEL.splitOf]: deployment, ...(variant ? { [LABEL.variant]: variant } : {}) };
}

/** HAProxy's files for a split: a group per variant at its Service (production's direct one), the router-api as the api. */
export function proxyFiles(deployment: string, namespace: string, record: SplitRecord): ProxyFiles {
  // The full name: HAProxy's resolver takes names as they are, without resolv.conf's search list.
  const server = (workload: string) => ({ dns: `${workload}.${namespace}.svc.${CLUSTER_DOMAIN}`, port: SERVICE_PORT });
  const production = productionDirectService(deployment);
  const groups = record.variants.map((variant) => ({
    ...variant,
    server: server(variant.name === PRODUCTION_VARIANT ? production : variantWorkload(deployment, variant.name)),
  }));
  return haproxyConfig({
    groups,
    stickyKey: record.stickyKey,
    api: server(routerApiWorkload(deployment)),
    port: PROXY_PORT,
    // A Service name resolves to its one virtual IP; kube-proxy spreads the connections over its pods.
    maxTasks: 1,
    // The deployment's Secret, as the model pods read it: HAProxy signs the request ids it makes.
    dataToken: { env: dataTokenEnv(deployment).name },
  });
}

/** The ConfigMap of the proxy's files, named by their content. */
export function proxyConfigMapManifest(deployment: string, namespace: string, files: ProxyFiles): V1ConfigMap {
  const hash = createHash('sha256').update(files.config).update('\0').update(files.lua).digest('hex').slice(0, 10);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${deployment}-proxy-${hash}`,
      namespace,
      labels: splitLabels(routerWorkload(deployment), deployment),
    },
    data: { [FILES.config]: files.config, [FILES.lua]: files.lua },
  };
}

/** HAProxy as a Deployment, its ConfigMap mounted where it reads its files, and the split as an annotation. */
export function proxyDeploymentManifest(input: {
  deployment: string;
  namespace: string;
  image: string;
  record: SplitRecord;
  configMap: string;
  /** The production Deployment's, so a proxy that never gets ready fails as soon. */
  progressDeadlineSeconds?: number | undefined;
}): V1Deployment {
  const workload = routerWorkload(input.deployment);
  return oneReplicaDeployment({
    workload,
    namespace: input.namespace,
    labels: splitLabels(workload, input.deployment),
    annotations: { [ANNOTATION.split]: JSON.stringify(input.record), [ANNOTATION.image]: input.image },
    progressDeadlineSeconds: input.progressDeadlineSeconds,
    pod: {
      // Longer than the preStop wait and HAProxy's longest request (30 s), so requests in flight finish.
      terminationGracePeriodSeconds: 45,
      containers: [
        {
          name: 'proxy',
          image: input.image,
          command: PROXY_COMMAND,
          ports: [{ name: 'http', containerPort: PROXY_PORT, protocol: 'TCP' }],
          env: [dataTokenEnv(input.deployment)],
          volumeMounts: [{ name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true }],
          resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '256Mi' } },
          // The image has nothing to run an HTTP check with; HAProxy listening is what counts.
          readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 3 },
          // The pod first leaves the Service's endpoints; then the container runtime stops it with
          // the image's STOPSIGNAL, SIGUSR1 in the official image: HAProxy's soft stop, which
          // finishes the requests in flight.
          lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
        },
      ],
      volumes: [{ name: 'config', configMap: { name: input.configMap } }],
    },
  });
}

/** A Deployment of one replica beside a split's variants (its proxy, its router-api): a new pod is
 * ready before the old one goes, so one always answers. */
export function oneReplicaDeployment(input: {
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  progressDeadlineSeconds?: number | undefined;
  pod: V1PodSpec;
}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: input.workload,
      namespace: input.namespace,
      labels: input.labels,
      annotations: input.annotations,
    },
    spec: {
      replicas: 1,
      ...(input.progressDeadlineSeconds ? { progressDeadlineSeconds: input.progressDeadlineSeconds } : {}),
      selector: { matchLabels: selectorLabels(input.workload) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels: input.labels }, spec: input.pod },
    },
  };
}
