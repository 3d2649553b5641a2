// DeployTarget on Kubernetes, through @kubernetes/client-node: server-side apply (field manager
// "mlops") of a Deployment, a Service and an optional autoscaler; rollouts followed by a watch,
// never a polling loop; history from the ReplicaSets; rollback as `kubectl rollout undo` does it;
// and an automatic rollback when a rollout passes its progress deadline, with the events that
// explain why.
import { hostname, userInfo } from 'node:os';
import { PassThrough } from 'node:stream';
import type {
  CoreV1Event,
  KubeConfig,
  KubernetesObject,
  V1Deployment,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';
import * as v from 'valibot';
import { describeError, MlopsError } from '../../../shared/errors';
import { httpGet, type HttpAnswer, type HttpGetOptions } from '../../../shared/httpGet';
import type { RegistryCredentials } from '../../../containerize/registry/registryAuth';
import {
  PRODUCTION_VARIANT,
  type DeploymentEvent,
  type DeployOptions,
  type DeployResult,
  type DeploySpec,
  type DeploymentStatus,
  type DeployTarget,
  type Endpoint,
  type Health,
  type ResourceUse,
  type Revision,
  type RouteStatus,
  type SplitStatus,
  type Task,
  type TrafficSplit,
} from '../deployTarget';
import { checkedDataToken, newDataToken } from '../dataToken';
import {
  candidates,
  checkSplit,
  parseSplitRecord,
  splitBackends,
  splitRecord,
  variantWorkload,
  type SplitRecord,
} from '../splitPlan';
import { kubernetesClient, kubernetesError, statusCode, type KubernetesClient } from './client';
import { openCluster, type Cluster, type ClusterChoice } from './kubeconfig';
import {
  ANNOTATION,
  autoscalerManifest,
  cleanForExport,
  DATA_TOKEN_KEY,
  dataTokenSecretManifest,
  dataTokenSecretName,
  deploymentManifest,
  FIELD_MANAGER,
  LABEL,
  pullSecretManifest,
  pullSecretName,
  selectorLabels,
  serviceManifest,
} from './manifests';
import { planUndo, revisionOf, revisionsFromReplicaSets, templateHashOf, toIso } from './rolloutHistory';
import { deadlineConditionTime, rolloutState, type RolloutState } from './rolloutStatus';
import {
  chooseGateway,
  GATEWAY_GROUP,
  GATEWAY_SETTING,
  gatewayText,
  needsNamespaceLabels,
  parseGateways,
  parseGatewaySetting,
  routeStatus,
  type Gateway,
  type GatewayRef,
} from './gatewayRoute';
import {
  httpRouteManifest,
  routerApiDeploymentManifest,
  serviceAddress,
  splitServiceManifest,
  variantDeploymentManifest,
} from './splitManifests';
import {
  productionDirectService,
  proxyConfigMapManifest,
  proxyDeploymentManifest,
  proxyFiles,
  routerApiWorkload,
  routerWorkload,
} from './proxyManifests';
import { DEFAULT_PROXY_IMAGE } from '../../../serving/proxyImage';

export interface KubernetesTargetOptions extends ClusterChoice {
  /** The Docker Engine that holds locally built images (to read their labels and push them). */
  dockerHost?: string;
  /** Registry credentials, from SecretStorage or the Docker config; never logged. */
  credentials?(registry: string): Promise<RegistryCredentials | undefined>;
  /**
   * The Gateway a split's HTTPRoute attaches to (mlops.kubernetes.gateway): `NAMESPACE/NAME` or
   * `NAME` in the target's namespace. Empty: the only Gateway that admits the namespace's routes.
   */
  gateway?: string;
  /** The HAProxy image of a split's in-cluster proxy (mlops.proxyImage); the official one by default. */
  proxyImage?: string;
}

export interface AppliedObject {
  kind: string;
  name: string;
  namespace: string;
  /** The live object before, cleaned for a diff; null when it does not exist yet. */
  before: KubernetesObject | null;
  /** What the server says the object becomes (a dry run), cleaned the same way. */
  after: KubernetesObject;
}

export async function openKubernetesTarget(options: KubernetesTargetOptions = {}): Promise<KubernetesTarget> {
  const [k8s, cluster] = await Promise.all([kubernetesClient(), openCluster(options)]);
  return new KubernetesTarget(k8s, cluster, options);
}

/** Names a Service accepts (DNS-1035 labels), which Deployments accept too. */
export function checkDeploymentName(name: string): string | undefined {
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
    return `'${name}' is not a valid Kubernetes name: use 1–63 lower-case letters, digits and dashes, starting with a letter and not ending with a dash.`;
  if (name.includes('--'))
    return `'${name}' has two dashes in a row, which name the variants of a split (NAME--VARIANT).`;
  if (name.endsWith('-router') || name.endsWith('-router-api'))
    return `'${name}' ends with -router or -router-api, which name the proxy and the router of a split.`;
  return undefined;
}

const MANAGED = `${LABEL.managedBy}=${FIELD_MANAGER}`;
/** Deployments and Services of ours that are not a split's variants, proxy or router-api. */
const DEPLOYMENTS = `${MANAGED},!${LABEL.splitOf}`;
const HTTPROUTES = { group: GATEWAY_GROUP, version: 'v1', plural: 'httproutes' } as const;
const GATEWAYS = { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways' } as const;
/** An APIResourceList of API discovery. */
const ResourceList = v.object({ resources: v.array(v.object({ name: v.string() })) });

export class KubernetesTarget implements DeployTarget {
  readonly kind = 'kubernetes';
  readonly location: string;
  readonly namespace: string;
  /** API requests made (watches count once each), for the benchmark. */
  apiCalls = 0;
  private readonly apps;
  private readonly core;
  private readonly autoscaling;
  private readonly objects;
  private readonly custom;

  constructor(
    private readonly k8s: KubernetesClient,
    readonly cluster: Cluster,
    private readonly options: KubernetesTargetOptions,
    namespace?: string,
  ) {
    this.namespace = namespace ?? cluster.namespace;
    this.location = `${cluster.context} · ${this.namespace}`;
    this.apps = cluster.config.makeApiClient(k8s.AppsV1Api);
    this.core = cluster.config.makeApiClient(k8s.CoreV1Api);
    this.autoscaling = cluster.config.makeApiClient(k8s.AutoscalingV2Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(cluster.config);
    this.custom = cluster.config.makeApiClient(k8s.CustomObjectsApi);
  }

  private get proxyImage(): string {
    return this.options.proxyImage || DEFAULT_PROXY_IMAGE;
  }

  get kubeConfig(): KubeConfig {
    return this.cluster.config;
  }

  /** The same cluster and credentials, looking at another namespace. */
  inNamespace(namespace: string): KubernetesTarget {
    return namespace === this.namespace ? this : new KubernetesTarget(this.k8s, this.cluster, this.options, namespace);
  }

  /** The namespaces the user may list; only this target's when RBAC does not allow listing them. */
  async namespaces(): Promise<string[]> {
    try {
      const list = await this.call('list namespaces', () => this.core.listNamespace());
      const names = list.items.map((item) => item.metadata?.name ?? '').filter(Boolean);
      return names.includes(this.namespace) ? names : [this.namespace, ...names];
    } catch (error) {
      if (statusCode((error as { cause?: unknown }).cause) === 403) return [this.namespace];
      throw error;
    }
  }

  async deploy(spec: DeploySpec, options: DeployOptions = {}): Promise<DeployResult> {
    const invalid = checkDeploymentName(spec.name);
    if (invalid) throw new MlopsError(invalid);
    if (spec.publishedPort !== undefined && (spec.publishedPort < 30000 || spec.publishedPort > 32767)) {
      throw new MlopsError(
        `Port ${spec.publishedPort} cannot be a NodePort: Kubernetes publishes ports 30000–32767.`,
        'Pick a port in that range, or none for a ClusterIP Service.',
      );
    }
    const facts = await this.imageFacts(spec.image, options);
    const imageRef = await this.publishImage(spec, options);
    const pullSecret = await this.ensurePullSecret(spec.registry);
    await this.ensureDataToken(spec.name);
    const before = await this.readDeployment(spec.name);
    const manifests = this.manifests(spec, {
      imageRef,
      modelImage: facts.modelImage,
      labels: facts.labels,
      pullSecret,
    });
    options.onProgress?.({ message: `Applying ${spec.name} to ${this.location} (${spec.image})` });
    const applied = (await this.apply(manifests.deployment)) as V1Deployment;
    await this.apply(manifests.service);
    if (manifests.autoscaler) await this.apply(manifests.autoscaler);
    else if (before?.metadata?.annotations?.[ANNOTATION.autoscaled]) {
      await this.deleteIfPresent('delete the autoscaler', () =>
        this.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ name: spec.name, namespace: this.namespace }),
      );
    }
    const outcome = await this.waitForRollout(applied, spec.name, options);
    if (outcome.kind !== 'deadlineExceeded') return this.result(spec.name, false, null);
    const why = await this.explainFailure(
      spec.name,
      `no progress within its progress deadline of ${applied.spec?.progressDeadlineSeconds ?? 600} s: ${outcome.message}`,
    );
    const failed = revisionOf(await this.requireDeployment(spec.name));
    if (!before || revisionOf(before) === 0) {
      throw new MlopsError(
        `${spec.name} did not become ready on ${this.location}: ${why}`,
        'Nothing served before, so there is nothing to roll back to: fix the image and deploy again.',
      );
    }
    options.onProgress?.({ message: `Revision ${failed} passed its progress deadline: rolling back` });
    await this.undo(spec.name, undefined, options);
    return this.result(spec.name, true, `revision ${failed} failed (${why})`, failed);
  }

  async rollback(name: string, toRevision?: number, options: DeployOptions = {}): Promise<DeployResult> {
    await this.undo(name, toRevision, options);
    return this.result(name, false, null);
  }

  async pinStable(name: string, revision: number): Promise<void> {
    const deployment = await this.requireDeployment(name);
    const hash = templateHashOf(deployment, await this.replicaSets(name), revision);
    if (!hash) throw new MlopsError(`${name} has no revision ${revision}.`);
    const body = { metadata: { annotations: { [ANNOTATION.stableTemplate]: hash } } };
    await this.call(`annotate deployment ${name}`, () =>
      this.apps.patchNamespacedDeployment(
        { name, namespace: this.namespace, body },
        this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
      ),
    );
  }

  async scale(name: string, replicas: number, options: DeployOptions = {}): Promise<DeploymentStatus> {
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new MlopsError(`Replicas must be a whole number, not ${replicas}.`);
    await this.requireDeployment(name);
    await this.call(`scale deployment ${name}`, () =>
      this.apps.patchNamespacedDeploymentScale(
        { name, namespace: this.namespace, body: { spec: { replicas } } },
        this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
      ),
    );
    await this.waitForRollout(await this.requireDeployment(name), name, options);
    return this.status(name);
  }

  async list(): Promise<DeploymentStatus[]> {
    const deployments = await this.call(`list deployments in ${this.namespace}`, () =>
      this.apps.listNamespacedDeployment({ namespace: this.namespace, labelSelector: DEPLOYMENTS }),
    );
    const services = await this.call(`list services in ${this.namespace}`, () =>
      this.core.listNamespacedService({ namespace: this.namespace, labelSelector: DEPLOYMENTS }),
    );
    const nodeAddress = services.items.some((service) => service.spec?.type === 'NodePort')
      ? await this.nodeAddress()
      : '';
    return deployments.items.map((deployment) =>
      statusOf(
        deployment,
        services.items.find((s) => s.metadata?.name === deployment.metadata?.name),
        nodeAddress,
      ),
    );
  }

  async status(name: string): Promise<DeploymentStatus> {
    const deployment = await this.requireDeployment(name);
    const service = await this.readService(name);
    return statusOf(deployment, service, service?.spec?.type === 'NodePort' ? await this.nodeAddress() : '');
  }

  async history(name: string): Promise<Revision[]> {
    const deployment = await this.requireDeployment(name);
    return revisionsFromReplicaSets(deployment, await this.replicaSets(name));
  }

  async tasks(name: string): Promise<Task[]> {
    const [pods, replicaSets] = await Promise.all([this.pods(name), this.replicaSets(name)]);
    const revisions = new Map(replicaSets.map((rs) => [rs.metadata?.name ?? '', revisionOf(rs)]));
    return pods.map((pod) => podTask(pod, revisions)).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /**
   * The running pods of a deployment, each with a GET through the API server's pod proxy: how
   * monitoring reads a model server's /metrics and /requests from outside the cluster. The API
   * server takes the Authorization header for itself, so the data token goes as X-Mlops-Token.
   */
  async podProxies(
    name: string,
  ): Promise<
    { pod: string; get(path: string, options?: Pick<HttpGetOptions, 'signal' | 'headers'>): Promise<HttpAnswer> }[]
  > {
    // The model servers of a split's variants too (not its router, which keeps no request log).
    const variants = await this.call(`list pods of the variants of ${name}`, () =>
      this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `${LABEL.splitOf}=${name},${LABEL.variant}`,
      }),
    );
    const pods = [...(await this.pods(name)), ...variants.items].filter(
      (pod) => pod.status?.phase === 'Running' && pod.status.podIP && !pod.metadata?.deletionTimestamp,
    );
    const server = this.cluster.config.getCurrentCluster()?.server ?? '';
    return pods.map((pod) => {
      const podName = pod.metadata?.name ?? '';
      const port = pod.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? 8080;
      const base = `${server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(`${podName}:${port}`)}/proxy`;
      return {
        pod: podName,
        get: async (path: string, options: Pick<HttpGetOptions, 'signal' | 'headers'> = {}) => {
          const requestOptions: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = {};
          await this.cluster.config.applyToHTTPSOptions(requestOptions);
          this.apiCalls++;
          try {
            return await httpGet(`${base}${path}`, {
              ...options,
              requestOptions: requestOptions as Record<string, unknown>,
            });
          } catch (error) {
            throw kubernetesError(error, `reach pod ${podName} through the API server`, this.cluster);
          }
        },
      };
    });
  }

  /** CPU and memory of the pods from the metrics API (metrics-server); an error when the cluster has none. */
  async resources(name: string): Promise<ResourceUse[]> {
    const metrics = this.cluster.config.makeApiClient(this.k8s.CustomObjectsApi);
    const list = (await this.unlessMissing('read pod metrics (metrics.k8s.io)', () =>
      metrics.listNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace: this.namespace,
        plural: 'pods',
        labelSelector: `${LABEL.deployment}=${name}`,
      }),
    )) as
      | { items?: { metadata?: { name?: string }; containers?: { usage?: { cpu?: string; memory?: string } }[] }[] }
      | undefined;
    if (!list)
      throw new MlopsError(
        `${this.cluster.context} has no metrics API (metrics.k8s.io), so pods' CPU and memory are unknown.`,
        'Install metrics-server in the cluster to see them.',
      );
    return (list.items ?? []).map((pod) => {
      const usage = pod.containers?.[0]?.usage ?? {};
      return {
        instance: pod.metadata?.name ?? '',
        cpuPercent: usage.cpu ? cpuCores(usage.cpu) * 100 : null,
        memoryMb: usage.memory ? bytesOf(usage.memory) / 1024 / 1024 : null,
      };
    });
  }

  /** The events of the deployment, its ReplicaSets and its pods, newest last. */
  async events(name: string): Promise<DeploymentEvent[]> {
    const list = await this.call(`list events in ${this.namespace}`, () =>
      this.core.listNamespacedEvent({ namespace: this.namespace }),
    );
    const ours = (event: CoreV1Event) => {
      const object = event.involvedObject?.name ?? '';
      return object === name || object.startsWith(`${name}-`);
    };
    return list.items
      .filter(ours)
      .map((event) => ({
        time: toIso(
          event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp,
        ),
        type: event.type ?? 'Normal',
        reason: event.reason ?? '',
        object: `${event.involvedObject?.kind ?? ''}/${event.involvedObject?.name ?? ''}`,
        message: (event.message ?? '').trim(),
        count: event.count ?? 1,
      }))
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  async logs(
    name: string,
    options: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine(line: string): void },
  ): Promise<void> {
    const pods = (await this.pods(name)).filter((pod) => !pod.metadata?.deletionTimestamp);
    if (!pods.length) return void options.onLine(`— ${name} has no pods —`);
    const log = new this.k8s.Log(this.cluster.config);
    await Promise.all(
      pods.map(async (pod) => {
        const podName = pod.metadata?.name ?? '';
        const prefix = pods.length > 1 ? `[${podName}] ` : '';
        const out = new PassThrough();
        let rest = '';
        out.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) options.onLine(prefix + line);
        });
        const ended = new Promise<void>((resolve) => {
          out.on('end', resolve);
          out.on('finish', resolve);
          options.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        try {
          this.apiCalls++;
          const request = await log.log(this.namespace, podName, 'model', out, {
            follow: options.follow ?? false,
            tailLines: options.tail ?? 200,
            timestamps: true,
          });
          options.signal?.addEventListener('abort', () => request.abort(), { once: true });
          await ended;
          if (rest) options.onLine(prefix + rest);
        } catch (error) {
          const problem = kubernetesError(error, `read the logs of pod ${podName}`, this.cluster);
          options.onLine(
            `${prefix}— no logs from ${podName}: ${problem.message} (a node whose runtime keeps no logs, as kwok's, gives none) —`,
          );
        }
      }),
    );
  }

  async remove(name: string): Promise<void> {
    await this.removeSplitObjects(name);
    const secret = dataTokenSecretName(name);
    const removed = await Promise.all([
      this.deleteIfPresent(`delete secret ${secret}`, () =>
        this.core.deleteNamespacedSecret({ name: secret, namespace: this.namespace }),
      ),
      this.deleteIfPresent(`delete deployment ${name}`, () =>
        this.apps.deleteNamespacedDeployment({ name, namespace: this.namespace, propagationPolicy: 'Background' }),
      ),
      this.deleteIfPresent(`delete service ${name}`, () =>
        this.core.deleteNamespacedService({ name, namespace: this.namespace }),
      ),
      this.deleteIfPresent(`delete autoscaler ${name}`, () =>
        this.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ name, namespace: this.namespace }),
      ),
    ]);
    if (!removed.some(Boolean)) throw new MlopsError(`No deployment named ${name} in ${this.location}.`);
  }

  /**
   * Starts or changes a split. Each variant runs as a Deployment and Service NAME--VARIANT, and the
   * Python router as the Deployment and Service NAME-router-api. Once they are ready, an HTTPRoute
   * NAME on a Gateway shares the traffic (clients reach the split through the Gateway, and the
   * router-api only takes /feedback) when the cluster serves the Gateway API, a Gateway admits the
   * namespace's routes and the split is not sticky. Otherwise HAProxy does, as on Swarm: the
   * Deployment and Service NAME-router with its config in a ConfigMap, which the deployment's own
   * Service selects once it is ready (clients keep its address), the router-api as its api. A
   * change from one to the other removes the route, or the proxy and its ConfigMaps. A variant,
   * router-api or proxy that does not become ready fails the split with production, or the
   * previous split, serving as before.
   */
  async split(name: string, split: TrafficSplit, options: DeployOptions = {}): Promise<SplitStatus> {
    checkSplit(name, split, 63);
    const production = await this.requireDeployment(name);
    const existing = await this.variantDeployments(name);
    const images = new Map([[PRODUCTION_VARIANT, deploymentImage(production)]]);
    for (const variant of candidates(split)) {
      const current = existing.get(variant.name);
      const image = variant.image ?? (current ? deploymentImage(current) : undefined);
      if (!image)
        throw new MlopsError(`The variant '${variant.name}' of ${name} has no image.`, 'Give the image it runs.');
      images.set(variant.name, image);
    }
    const servesHttpRoutes = await this.servesHttpRoutes();
    const path = await this.routeGateway(split, servesHttpRoutes);
    const previous = await this.splitRecord(name, servesHttpRoutes);

    const started: string[] = [];
    try {
      for (const variant of candidates(split)) {
        const workload = variantWorkload(name, variant.name);
        const replicas = variant.replicas ?? 1;
        options.onProgress?.({
          message: `Applying variant ${variant.name} of ${name} (${images.get(variant.name)}, ${replicas} replica${replicas === 1 ? '' : 's'})`,
        });
        const applied = (await this.apply(
          variantDeploymentManifest(production, {
            deployment: name,
            variant: variant.name,
            image: images.get(variant.name)!,
            replicas,
            shadow: Boolean(variant.shadow),
            namespace: this.namespace,
          }),
        )) as V1Deployment;
        if (!existing.has(variant.name)) started.push(workload);
        await this.apply(
          splitServiceManifest({ deployment: name, workload, variant: variant.name, namespace: this.namespace }),
        );
        const outcome = await this.waitForRollout(applied, workload, options);
        if (outcome.kind === 'deadlineExceeded')
          throw new MlopsError(
            `${workload} did not become ready: ${await this.explainFailure(workload, outcome.message)}`,
          );
      }
    } catch (error) {
      await this.removeWorkloads(started);
      throw new MlopsError(
        `The split of ${name} did not start, and production serves all its traffic as before: ${describeError(error)}`,
        "Look at the variant's events and logs, fix its image and split again.",
        { cause: error },
      );
    }

    const record = splitRecord(split, images, previous?.record.startedAt ?? new Date().toISOString());
    const proxy = routerWorkload(name);
    const api = routerApiWorkload(name);
    const deadline = production.spec?.progressDeadlineSeconds;
    const manifests = this.routerManifests(name, record, deadline);
    options.onProgress?.({
      message:
        'gateway' in path
          ? `Applying the router ${api}, which takes /feedback beside the HTTPRoute`
          : `${upperFirst(path.none)}: applying the router ${api} and the proxy ${proxy} (${this.proxyImage})`,
    });
    await this.apply(
      splitServiceManifest({
        deployment: name,
        workload: productionDirectService(name),
        variant: PRODUCTION_VARIANT,
        selects: name,
        namespace: this.namespace,
      }),
    );
    try {
      // The router-api first (the groups it reads, the newest router code), then the proxy.
      await this.rollOut(name, manifests.api, options);
      if (!('gateway' in path)) {
        await this.apply(manifests.configMap);
        await this.rollOut(name, manifests.proxy, options);
        await this.removeProxyConfigs(name, manifests.configMap.metadata!.name!);
      }
    } catch (error) {
      await this.removeWorkloads(started);
      await this.restoreSplit(name, previous, deadline);
      throw new MlopsError(
        `The router of ${name} did not start with the split: ${describeError(error)}`,
        previous ? 'The split runs as before.' : 'Production serves through its own Service as before.',
        { cause: error },
      );
    }
    if ('gateway' in path) {
      const gateway = gatewayText(path.gateway);
      options.onProgress?.({ message: `Applying HTTPRoute ${name} (parent Gateway ${gateway})` });
      const route: unknown = await this.apply(
        httpRouteManifest({ deployment: name, namespace: this.namespace, gateway: path.gateway, record }),
      );
      options.onProgress?.({
        message: `HTTPRoute ${name}: ${routeStatus(route, this.namespace)?.message ?? 'applied'}; clients reach the split through the Gateway ${gateway} (${path.urls.length ? path.urls.join(', ') : 'no address yet: its controller assigns one'})`,
      });
      // A split the proxy ran before: production takes its Service back, and the proxy goes.
      if ((await this.readService(name))?.spec?.selector?.[LABEL.deployment] === proxy)
        await this.selectPods(name, name);
      await this.removeProxy(name);
    } else {
      options.onProgress?.({ message: `Sending the traffic of Service ${name} through ${proxy}` });
      await this.selectPods(name, proxy);
      // A split an HTTPRoute ran before: the proxy has the traffic now.
      if (previous?.via === 'httproute')
        await this.deleteIfPresent(`delete HTTPRoute ${name}`, () =>
          this.custom.deleteNamespacedCustomObject({ ...HTTPROUTES, namespace: this.namespace, name }),
        );
    }
    const kept = new Set(candidates(split).map((variant) => variant.name));
    await this.removeWorkloads(
      [...existing.keys()].filter((variant) => !kept.has(variant)).map((variant) => variantWorkload(name, variant)),
    );
    return (await this.splitStatus(name))!;
  }

  /**
   * The router-api's Deployment for a split (its groups at the variants' Services, the newest
   * variant's image, which has the current router code), and the proxy's ConfigMap and Deployment.
   */
  private routerManifests(
    name: string,
    record: SplitRecord,
    progressDeadlineSeconds: number | undefined,
    proxyImage = this.proxyImage,
  ) {
    const common = { deployment: name, namespace: this.namespace, record, progressDeadlineSeconds };
    const direct = productionDirectService(name);
    const backends = splitBackends(name, record, (w) => serviceAddress(w === name ? direct : w, this.namespace));
    const image = record.variants.filter((variant) => variant.name !== PRODUCTION_VARIANT).at(-1)?.image ?? '';
    const configMap = proxyConfigMapManifest(name, this.namespace, proxyFiles(name, this.namespace, record));
    const configName = configMap.metadata!.name!;
    return {
      api: routerApiDeploymentManifest({ ...common, image, backends }),
      configMap,
      proxy: proxyDeploymentManifest({ ...common, image: proxyImage, configMap: configName }),
    };
  }

  /** Applies a Deployment and its Service, and waits for its rollout; one that passes its deadline fails, saying why. */
  private async rollOut(name: string, manifest: V1Deployment, options: DeployOptions): Promise<void> {
    const workload = manifest.metadata!.name!;
    await this.apply(splitServiceManifest({ deployment: name, workload, namespace: this.namespace }));
    const outcome = await this.waitForRollout((await this.apply(manifest)) as V1Deployment, workload, options);
    if (outcome.kind === 'deadlineExceeded')
      throw new MlopsError(`${workload} did not become ready: ${await this.explainFailure(workload, outcome.message)}`);
  }

  /**
   * After a router-api or proxy that did not become ready: both as the previous split had them (a
   * template seen before rolls back at once), or gone when there was none. The deployment's
   * Service moves only once the proxy is ready, so it still selects what it did.
   */
  private async restoreSplit(
    name: string,
    previous: { record: SplitRecord; via: SplitStatus['via']; proxyImage?: string } | null,
    progressDeadlineSeconds: number | undefined,
  ): Promise<void> {
    if (!previous) {
      await this.removeWorkloads([routerWorkload(name), routerApiWorkload(name), productionDirectService(name)]);
      return void (await this.removeProxyConfigs(name, null));
    }
    const manifests = this.routerManifests(name, previous.record, progressDeadlineSeconds, previous.proxyImage);
    await this.apply(manifests.api);
    if (previous.via === 'httproute') return this.removeProxy(name);
    await this.apply(manifests.configMap);
    await this.apply(manifests.proxy);
    await this.removeProxyConfigs(name, manifests.configMap.metadata!.name!);
  }

  /** The proxy's Deployment, Service and ConfigMaps, when an HTTPRoute runs the split. */
  private async removeProxy(name: string): Promise<void> {
    await this.removeWorkloads([routerWorkload(name)]);
    await this.removeProxyConfigs(name, null);
  }

  /** Deletes the proxy's ConfigMaps but `keep`. */
  private async removeProxyConfigs(name: string, keep: string | null): Promise<boolean> {
    const list = await this.call(`list the proxy configs of ${name}`, () =>
      this.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: `${LABEL.deployment}=${routerWorkload(name)},${LABEL.splitOf}=${name}`,
      }),
    );
    const removed = await Promise.all(
      list.items
        .map((configMap) => configMap.metadata?.name ?? '')
        .filter((configName) => configName && configName !== keep)
        .map((configName) =>
          this.deleteIfPresent(`delete configmap ${configName}`, () =>
            this.core.deleteNamespacedConfigMap({ name: configName, namespace: this.namespace }),
          ),
        ),
    );
    return removed.some(Boolean);
  }

  /** The split, read back from the HTTPRoute's or the proxy's annotation. */
  async splitStatus(name: string): Promise<SplitStatus | null> {
    await this.requireDeployment(name);
    const found = await this.splitRecord(name, await this.servesHttpRoutes());
    if (!found) return null;
    const variants = await Promise.all(
      found.record.variants.map(async (variant) => {
        const workload = variantWorkload(name, variant.name);
        const deployment = await this.readDeployment(workload);
        return {
          name: variant.name,
          image: deployment ? deploymentImage(deployment) : variant.image,
          weight: variant.weight,
          shadow: variant.shadow,
          workload,
          replicas: { running: deployment?.status?.availableReplicas ?? 0, desired: deployment?.spec?.replicas ?? 0 },
        };
      }),
    );
    return {
      deployment: name,
      variants,
      stickyKey: found.record.stickyKey,
      via: found.via,
      startedAt: found.record.startedAt,
      ...(found.route ? { route: found.route } : {}),
    };
  }

  /** Removes the HTTPRoute or proxy first, so production's Service takes all traffic, then the variants. */
  async endSplit(name: string, options: DeployOptions = {}): Promise<void> {
    await this.requireDeployment(name);
    options.onProgress?.({ message: `Routing all traffic of ${name} to production and removing its variants` });
    if (!(await this.removeSplitObjects(name))) throw new MlopsError(`${name} has no traffic split to end.`);
  }

  /** From the deployment's Secret (reading it takes the right to get Secrets in the namespace). */
  async dataToken(name: string): Promise<string> {
    const secretName = dataTokenSecretName(name);
    const secret = await this.unlessMissing(`read secret ${secretName}`, () =>
      this.core.readNamespacedSecret({ name: secretName, namespace: this.namespace }),
    );
    if (!secret)
      throw new MlopsError(
        `${name} in ${this.location} has no data token: there is no Secret ${secretName}.`,
        'Deploy it again: deploys make one.',
      );
    const data = secret.data?.[DATA_TOKEN_KEY];
    if (!data)
      throw new MlopsError(
        `Secret ${secretName} in ${this.location} has no key ${DATA_TOKEN_KEY}.`,
        `Put the token under ${DATA_TOKEN_KEY}, or delete the Secret and deploy again to make a new one.`,
      );
    return checkedDataToken(
      Buffer.from(data, 'base64').toString('utf8'),
      `Secret ${secretName} (key ${DATA_TOKEN_KEY})`,
    );
  }

  async endpoints(name: string): Promise<Endpoint[]> {
    const service = await this.readService(name);
    return service ? serviceEndpoints(service, service.spec?.type === 'NodePort' ? await this.nodeAddress() : '') : [];
  }

  /** The live manifests of a deployment, cleaned of what the server adds, for GitOps. */
  async exportManifests(name: string): Promise<KubernetesObject[]> {
    const deployment = await this.requireDeployment(name);
    const service = await this.readService(name);
    const autoscaler = await this.autoscaling
      .readNamespacedHorizontalPodAutoscaler({ name, namespace: this.namespace })
      .catch(() => undefined);
    this.apiCalls += 1;
    return [deployment, service, autoscaler]
      .filter((object): object is NonNullable<typeof object> => Boolean(object))
      .map((object, index) =>
        cleanForExport({
          ...object,
          apiVersion: ['apps/v1', 'v1', 'autoscaling/v2'][index],
          kind: ['Deployment', 'Service', 'HorizontalPodAutoscaler'][index],
        } as KubernetesObject & { status?: unknown }),
      );
  }

  /**
   * Server-side applies objects from a YAML file (field manager mlops). With `dryRun` nothing
   * changes: each object comes back as it is and as it would be, for a diff before the real apply.
   */
  async applyObjects(objects: KubernetesObject[], dryRun: boolean): Promise<AppliedObject[]> {
    const results: AppliedObject[] = [];
    for (const object of objects) {
      const kind = object.kind ?? '';
      const name = object.metadata?.name ?? '';
      if (!kind || !object.apiVersion || !name)
        throw new MlopsError(
          `A document in the YAML has no ${!object.apiVersion ? 'apiVersion' : !kind ? 'kind' : 'metadata.name'}.`,
          'Every object needs apiVersion, kind and metadata.name.',
        );
      const namespaced = {
        ...object,
        metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? this.namespace },
      };
      const namespace = namespaced.metadata.namespace;
      const live = await this.unlessMissing(`read ${kind} ${name}`, () =>
        this.objects.read({ apiVersion: object.apiVersion!, kind, metadata: { name, namespace } }),
      );
      const before = live ? cleanForExport(live as KubernetesObject & { status?: unknown }) : null;
      const after = await this.apply(namespaced, dryRun);
      results.push({
        kind,
        name,
        namespace,
        before,
        after: cleanForExport(after as KubernetesObject & { status?: unknown }),
      });
    }
    return results;
  }

  /** Calls `onChange` (debounced) when a managed deployment, ReplicaSet or pod of the namespace changes. */
  async watch(onChange: () => void, signal: AbortSignal): Promise<boolean> {
    const watcher = new this.k8s.Watch(this.cluster.config);
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, 300);
    };
    const paths = [
      `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
      `/apis/apps/v1/namespaces/${this.namespace}/replicasets`,
      `/api/v1/namespaces/${this.namespace}/pods`,
    ];
    const follow = async (path: string, attempt: number): Promise<void> => {
      if (signal.aborted) return;
      this.apiCalls++;
      const request = await watcher.watch(
        path,
        { labelSelector: MANAGED, allowWatchBookmarks: true },
        (phase) => phase !== 'BOOKMARK' && changed(),
        () => {
          // A watch ends when the server closes it (every few minutes) or the cluster goes away.
          if (!signal.aborted)
            setTimeout(
              () => void follow(path, attempt + 1).catch(() => undefined),
              Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)),
            );
        },
      );
      signal.addEventListener('abort', () => request.abort(), { once: true });
    };
    try {
      await Promise.all(paths.map((path) => follow(path, 0)));
    } catch {
      return false;
    }
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    return true;
  }

  // --- the parts ---------------------------------------------------------------------------

  private manifests(
    spec: DeploySpec,
    input: { imageRef: string; modelImage: boolean; labels: Record<string, string>; pullSecret: string | null },
  ) {
    const deployment = deploymentManifest({
      spec,
      namespace: this.namespace,
      imageRef: input.imageRef,
      modelImage: input.modelImage,
      gitCommit: input.labels['mlops.git.commit'] || null,
      mlflowRunId: input.labels['mlops.mlflow.run_id'] || null,
      deployedBy: `${userInfo().username}@${hostname()}`,
      deployedAt: new Date().toISOString(),
      pullSecret: input.pullSecret,
    });
    return {
      deployment,
      service: serviceManifest(spec, this.namespace),
      autoscaler: autoscalerManifest(spec, this.namespace),
    };
  }

  private async apply(object: KubernetesObject, dryRun = false): Promise<KubernetesObject> {
    const what = `${dryRun ? 'dry-run apply' : 'apply'} ${object.kind} ${object.metadata?.name}`;
    return this.call(what, () =>
      this.objects.patch(
        object,
        undefined,
        dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        this.k8s.PatchStrategy.ServerSideApply,
      ),
    );
  }

  /** Applies `kubectl rollout undo` to `name` and waits for the rollout. */
  private async undo(name: string, toRevision: number | undefined, options: DeployOptions): Promise<void> {
    const deployment = await this.requireDeployment(name);
    const plan = planUndo(deployment, await this.replicaSets(name), toRevision);
    if (plan.kind !== 'patch') throw new MlopsError(plan.message);
    options.onProgress?.({
      message: `Rolling ${name} back from revision ${plan.from} to the template of revision ${plan.to}`,
    });
    const patched = await this.call(`roll back deployment ${name}`, () =>
      this.apps.patchNamespacedDeployment(
        { name, namespace: this.namespace, body: plan.patch },
        this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.JsonPatch),
      ),
    );
    const outcome = await this.waitForRollout(patched, name, options);
    if (outcome.kind === 'deadlineExceeded')
      throw new MlopsError(
        `The rollback of ${name} to revision ${plan.to} did not become ready: ${await this.explainFailure(name, outcome.message)}`,
      );
  }

  /**
   * Follows the Deployment with a watch until its rollout completes or passes its deadline. The
   * watch starts at the resource version the change returned, so no update is missed.
   */
  private async waitForRollout(start: V1Deployment, name: string, options: DeployOptions): Promise<RolloutState> {
    const deadlineSeconds = start.spec?.progressDeadlineSeconds ?? 600;
    const timeoutMs = options.timeoutMs ?? (deadlineSeconds + 60) * 1000;
    // The object a change returns still has the old status: a deadline there is a past rollout's.
    const stale = deadlineConditionTime(start);
    let state = rolloutState(start, stale);
    if (state.kind !== 'progressing') return state;
    options.onProgress?.({ message: state.message, fraction: state.fraction });
    let resourceVersion = start.metadata?.resourceVersion;
    const watcher = new this.k8s.Watch(this.cluster.config);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop.abort(), timeoutMs);
    try {
      while (!stop.signal.aborted) {
        state = await new Promise<RolloutState>((resolve, reject) => {
          this.apiCalls++;
          let settled = false;
          const settle = (value: RolloutState | Error) => {
            if (settled) return;
            settled = true;
            if (value instanceof Error) reject(value);
            else resolve(value);
          };
          watcher
            .watch(
              `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
              {
                fieldSelector: `metadata.name=${name}`,
                ...(resourceVersion ? { resourceVersion } : {}),
                allowWatchBookmarks: true,
              },
              (phase, object: V1Deployment) => {
                if (object?.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
                if (phase === 'BOOKMARK') return;
                if (phase === 'DELETED') return settle(new MlopsError(`${name} was deleted during its rollout.`));
                const next = rolloutState(object, stale);
                if (next.kind === 'progressing')
                  options.onProgress?.({ message: next.message, fraction: next.fraction });
                else settle(next);
              },
              // The server ends watches now and then: the loop starts another from the last version seen.
              (error: unknown) =>
                statusCode(error) === 410
                  ? ((resourceVersion = undefined), settle(state))
                  : error
                    ? settle(kubernetesError(error, `watch deployment ${name}`, this.cluster))
                    : settle(state),
            )
            .then(
              (request) => {
                if (stop.signal.aborted) request.abort();
                else stop.signal.addEventListener('abort', () => (request.abort(), settle(state)), { once: true });
              },
              (error: unknown) => settle(kubernetesError(error, `watch deployment ${name}`, this.cluster)),
            );
        });
        if (state.kind !== 'progressing') return state;
        if (!resourceVersion) state = rolloutState(await this.requireDeployment(name), stale);
        if (state.kind !== 'progressing') return state;
      }
      if (options.signal?.aborted) throw new MlopsError(`Stopped waiting for ${name}'s rollout: ${state.message}.`);
      throw new MlopsError(
        `${name}'s rollout did not finish within ${Math.round(timeoutMs / 1000)} s: ${state.message}.`,
        'It may still finish: watch it in the Deployments view.',
      );
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  /** The deadline message, what the new pods wait for, and the latest warning events. */
  private async explainFailure(name: string, deadlineMessage: string): Promise<string> {
    const [events, tasks] = await Promise.all([this.events(name).catch(() => []), this.tasks(name).catch(() => [])]);
    const warnings = events
      .filter((event) => event.type === 'Warning')
      .slice(-3)
      .map((event) => `${event.object}: ${event.reason}: ${event.message}`);
    const waiting = [...new Set(tasks.filter((task) => task.error).map((task) => task.error!))].slice(0, 2);
    return [deadlineMessage, ...waiting, ...warnings].join('; ');
  }

  /** The status, and the revision deployed: the current one, or `failedRevision` after an automatic rollback. */
  private async result(
    name: string,
    rolledBack: boolean,
    message: string | null,
    failedRevision?: number,
  ): Promise<DeployResult> {
    // One read of each object, not one per question: deploys stay at a handful of requests.
    const deployment = await this.requireDeployment(name);
    const [service, replicaSets] = await Promise.all([this.readService(name), this.replicaSets(name)]);
    const status = statusOf(deployment, service, service?.spec?.type === 'NodePort' ? await this.nodeAddress() : '');
    const history = revisionsFromReplicaSets(deployment, replicaSets);
    const revision =
      history.find((r) => (failedRevision === undefined ? r.current : r.revision === failedRevision)) ?? history.at(-1);
    if (!revision) throw new MlopsError(`${name} has no revision on ${this.location} yet.`);
    return { status: { ...status, message: message ?? status.message }, revision, rolledBack };
  }

  private async imageFacts(
    image: string,
    options: DeployOptions,
  ): Promise<{ labels: Record<string, string>; modelImage: boolean }> {
    try {
      const { connectDocker } = await import('../../../containerize/docker/dockerClient');
      const docker = await connectDocker(this.options.dockerHost);
      const labels = (await docker.getImage(image).inspect()).Config.Labels ?? {};
      return { labels, modelImage: Boolean(labels['mlops.context.hash']) };
    } catch {
      options.onProgress?.({
        message: `${image} is not in a local Docker Engine: taking it for a model server from Containerise (probes on /health and /ping)`,
      });
      return { labels: {}, modelImage: true };
    }
  }

  private async publishImage(spec: DeploySpec, options: DeployOptions): Promise<string> {
    if (!spec.registry) return spec.image;
    const [{ connectDocker }, { pushImage }] = await Promise.all([
      import('../../../containerize/docker/dockerClient'),
      import('../../../containerize/registry/pushImage'),
    ]);
    const credentials = await this.options.credentials?.(spec.registry);
    const pushed = await pushImage(await connectDocker(this.options.dockerHost), spec.image, spec.registry, {
      ...(credentials ? { credentials } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (message, fraction) =>
        options.onProgress?.({ message, ...(fraction === undefined ? {} : { fraction }) }),
    });
    return pushed.digest;
  }

  /** The deployment's data token Secret, made the first time; one already there (the user's own) is kept. */
  private async ensureDataToken(name: string): Promise<void> {
    const secretName = dataTokenSecretName(name);
    const existing = await this.unlessMissing(`read secret ${secretName}`, () =>
      this.core.readNamespacedSecret({ name: secretName, namespace: this.namespace }),
    );
    if (existing) {
      if (!existing.data?.[DATA_TOKEN_KEY])
        throw new MlopsError(
          `Secret ${secretName} in ${this.location} has no key ${DATA_TOKEN_KEY}, so the pods of ${name} could not start.`,
          `Put the token under ${DATA_TOKEN_KEY}, or delete the Secret to have a new one made.`,
        );
      return;
    }
    this.apiCalls++;
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: dataTokenSecretManifest(name, this.namespace, newDataToken()),
      });
    } catch (error) {
      if (statusCode(error) !== 409) throw kubernetesError(error, `create secret ${secretName}`, this.cluster); // 409: made meanwhile by another deploy
    }
  }

  /** A dockerconfigjson secret from the stored credentials, when the registry has any. */
  private async ensurePullSecret(registry: string | undefined): Promise<string | null> {
    if (!registry) return null;
    const credentials = await this.options.credentials?.(registry);
    if (!credentials) return null;
    const name = pullSecretName(registry);
    await this.apply(pullSecretManifest(name, this.namespace, registry, credentials));
    return name;
  }

  /** Whether the cluster serves HTTPRoutes: API discovery of gateway.networking.k8s.io/v1. */
  private async servesHttpRoutes(): Promise<boolean> {
    const path = `/apis/${GATEWAY_GROUP}/v1`;
    const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = {};
    await this.cluster.config.applyToHTTPSOptions(options);
    this.apiCalls++;
    let answer: HttpAnswer;
    try {
      answer = await httpGet(`${this.cluster.server.replace(/\/$/, '')}${path}`, {
        requestOptions: options as Record<string, unknown>,
        headers: { Accept: 'application/json' },
        timeoutMs: this.cluster.timeoutMs,
      });
    } catch (error) {
      throw kubernetesError(error, `discover ${path}`, this.cluster);
    }
    if (answer.status === 404) return false;
    if (answer.status !== 200)
      throw kubernetesError({ code: answer.status, body: answer.body }, `discover ${path}`, this.cluster);
    try {
      const list = v.safeParse(ResourceList, JSON.parse(answer.body));
      return list.success && list.output.resources.some((resource) => resource.name === 'httproutes');
    } catch {
      return false;
    }
  }

  /**
   * The Gateway a split's HTTPRoute attaches to, or why the in-cluster proxy runs the split: the
   * cluster does not serve the Gateway API, has no Gateway admitting the namespace's routes, or the
   * split is sticky, which an HTTPRoute cannot express.
   */
  private async routeGateway(
    split: TrafficSplit,
    servesHttpRoutes: boolean,
  ): Promise<{ gateway: GatewayRef; urls: string[] } | { none: string }> {
    const named = parseGatewaySetting(this.options.gateway ?? '', this.namespace);
    if (!servesHttpRoutes) {
      if (named)
        throw new MlopsError(
          `${GATEWAY_SETTING} names the Gateway ${gatewayText(named)}, but ${this.location} does not serve the Gateway API (HTTPRoute, ${GATEWAY_GROUP}/v1).`,
          'Install the Gateway API and a controller for it, or clear the setting to split through the in-cluster proxy.',
        );
      return { none: 'the cluster does not serve the Gateway API' };
    }
    const gateways = await this.gateways(named);
    const choice = chooseGateway({
      gateways,
      namespace: this.namespace,
      namespaceLabels: needsNamespaceLabels(gateways) ? await this.namespaceLabels() : {},
      named,
    });
    if ('gateway' in choice && split.stickyKey)
      return {
        none: `an HTTPRoute cannot keep a client on one variant by ${split.stickyKey} (sessionPersistence pins clients by a token the gateway issues, not by a hash of their own key), so the in-cluster proxy runs this sticky split`,
      };
    return choice;
  }

  /**
   * The Gateways of the cluster (of the namespace when listing them all is forbidden), and the
   * named one, which may be readable where its namespace cannot be listed.
   */
  private async gateways(named: GatewayRef | null): Promise<Gateway[]> {
    let listed: Gateway[];
    try {
      listed = parseGateways(await this.call('list Gateways', () => this.custom.listClusterCustomObject(GATEWAYS)));
    } catch (error) {
      if (statusCode((error as { cause?: unknown }).cause) !== 403) throw error;
      listed = parseGateways(
        await this.call(`list Gateways in ${this.namespace}`, () =>
          this.custom.listNamespacedCustomObject({ ...GATEWAYS, namespace: this.namespace }),
        ),
      );
    }
    if (!named || listed.some((g) => g.metadata.namespace === named.namespace && g.metadata.name === named.name))
      return listed;
    const read = await this.unlessMissing(`read Gateway ${gatewayText(named)}`, () =>
      this.custom.getNamespacedCustomObject({ ...GATEWAYS, namespace: named.namespace, name: named.name }),
    );
    return [...listed, ...parseGateways(read)];
  }

  /** The namespace's labels, for listeners that admit routes by a selector; none when it cannot be read. */
  private async namespaceLabels(): Promise<Record<string, string>> {
    try {
      const namespace = await this.call(`read namespace ${this.namespace}`, () =>
        this.core.readNamespace({ name: this.namespace }),
      );
      return namespace.metadata?.labels ?? {};
    } catch {
      return {};
    }
  }

  /** The split's record and what runs it: the HTTPRoute NAME (with its status), or else the proxy's Deployment. */
  private async splitRecord(
    name: string,
    servesHttpRoutes: boolean,
  ): Promise<{ record: SplitRecord; via: SplitStatus['via']; route?: RouteStatus; proxyImage?: string } | null> {
    if (servesHttpRoutes) {
      const route: unknown = await this.unlessMissing(`read HTTPRoute ${name}`, () =>
        this.custom.getNamespacedCustomObject({ ...HTTPROUTES, namespace: this.namespace, name }),
      );
      const record = parseSplitRecord(splitAnnotation(route));
      const status = routeStatus(route, this.namespace);
      if (record) return { record, via: 'httproute', ...(status ? { route: status } : {}) };
    }
    const router = await this.readDeployment(routerWorkload(name));
    const record = parseSplitRecord(router?.metadata?.annotations?.[ANNOTATION.split]);
    // The proxy's image, to restore it as it ran (a Python router from before the proxy has none).
    const proxyImage = router?.spec?.template.spec?.containers.find((c) => c.name === 'proxy')?.image;
    return record ? { record, via: 'router', ...(proxyImage ? { proxyImage } : {}) } : null;
  }

  /** The variants' Deployments by variant name. */
  private async variantDeployments(name: string): Promise<Map<string, V1Deployment>> {
    const list = await this.call(`list the variants of ${name}`, () =>
      this.apps.listNamespacedDeployment({
        namespace: this.namespace,
        labelSelector: `${LABEL.splitOf}=${name},${LABEL.variant}`,
      }),
    );
    return new Map(list.items.map((deployment) => [deployment.metadata?.labels?.[LABEL.variant] ?? '', deployment]));
  }

  /** Deletes the HTTPRoute, the proxy, the router-api and the variants of a split; false when there were none. */
  private async removeSplitObjects(name: string): Promise<boolean> {
    const route = await this.deleteIfPresent(`delete HTTPRoute ${name}`, () =>
      this.custom.deleteNamespacedCustomObject({ ...HTTPROUTES, namespace: this.namespace, name }),
    );
    // The deployment's Service selects production's pods again before the proxy goes.
    if ((await this.readService(name))?.spec?.selector?.[LABEL.deployment] === routerWorkload(name))
      await this.selectPods(name, name);
    const variants = [...(await this.variantDeployments(name)).keys()].map((variant) => variantWorkload(name, variant));
    const workloads = await this.removeWorkloads([
      routerWorkload(name),
      routerApiWorkload(name),
      productionDirectService(name),
      ...variants,
    ]);
    const configs = await this.removeProxyConfigs(name, null);
    return route || workloads || configs;
  }

  /** Points the deployment's Service at the pods of `workload` (its own, or the proxy's). */
  private async selectPods(name: string, workload: string): Promise<void> {
    await this.call(`point service ${name} at ${workload}`, () =>
      this.core.patchNamespacedService(
        { name, namespace: this.namespace, body: { spec: { selector: selectorLabels(workload) } } },
        this.k8s.setHeaderOptions('Content-Type', this.k8s.PatchStrategy.MergePatch),
      ),
    );
  }

  /** Deletes the Deployments and Services of these names; true when something was deleted. */
  private async removeWorkloads(names: string[]): Promise<boolean> {
    const removed = await Promise.all(
      names.flatMap((name) => [
        this.deleteIfPresent(`delete deployment ${name}`, () =>
          this.apps.deleteNamespacedDeployment({ name, namespace: this.namespace, propagationPolicy: 'Background' }),
        ),
        this.deleteIfPresent(`delete service ${name}`, () =>
          this.core.deleteNamespacedService({ name, namespace: this.namespace }),
        ),
      ]),
    );
    return removed.some(Boolean);
  }

  private readDeployment(name: string): Promise<V1Deployment | undefined> {
    return this.unlessMissing(`read deployment ${name} in ${this.namespace}`, () =>
      this.apps.readNamespacedDeployment({ name, namespace: this.namespace }),
    );
  }

  private async requireDeployment(name: string): Promise<V1Deployment> {
    const deployment = await this.readDeployment(name);
    if (!deployment)
      throw new MlopsError(
        `No deployment named ${name} in ${this.location}.`,
        'Deploy it first, or pick one from the Deployments view.',
      );
    return deployment;
  }

  private readService(name: string): Promise<V1Service | undefined> {
    return this.unlessMissing(`read service ${name} in ${this.namespace}`, () =>
      this.core.readNamespacedService({ name, namespace: this.namespace }),
    );
  }

  private async replicaSets(name: string): Promise<V1ReplicaSet[]> {
    const list = await this.call(`list replicasets of ${name}`, () =>
      this.apps.listNamespacedReplicaSet({ namespace: this.namespace, labelSelector: `${LABEL.deployment}=${name}` }),
    );
    return list.items;
  }

  private async pods(name: string): Promise<V1Pod[]> {
    const list = await this.call(`list pods of ${name}`, () =>
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${LABEL.deployment}=${name}` }),
    );
    return list.items;
  }

  /** An address of a node for NodePort URLs: its InternalIP, else the API server's host. */
  private async nodeAddress(): Promise<string> {
    try {
      const nodes = await this.call('list nodes', () => this.core.listNode());
      const address = nodes.items
        .flatMap((node) => node.status?.addresses ?? [])
        .find((a) => a.type === 'InternalIP' || a.type === 'ExternalIP');
      if (address) return address.address;
    } catch {
      // Listing nodes needs a ClusterRole many users lack.
    }
    return new URL(this.cluster.server).hostname;
  }

  /** True when something was deleted, false when there was nothing to delete. */
  private async deleteIfPresent(what: string, remove: () => Promise<unknown>): Promise<boolean> {
    return (await this.unlessMissing(what, async () => (await remove(), true))) ?? false;
  }

  /** A request whose 404 means "there is none": undefined then, any other failure explained. */
  private async unlessMissing<T>(what: string, request: () => Promise<T>): Promise<T | undefined> {
    this.apiCalls++;
    try {
      return await request();
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw kubernetesError(error, what, this.cluster);
    }
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    this.apiCalls++;
    try {
      return await request();
    } catch (error) {
      throw kubernetesError(error, what, this.cluster);
    }
  }
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The split record annotation of an object the API server returned. */
function splitAnnotation(object: unknown): string | undefined {
  const parsed = v.safeParse(
    v.object({ metadata: v.object({ annotations: v.record(v.string(), v.string()) }) }),
    object,
  );
  return parsed.success ? parsed.output.metadata.annotations[ANNOTATION.split] : undefined;
}

function deploymentImage(deployment: V1Deployment): string {
  return (
    deployment.metadata?.annotations?.[ANNOTATION.image] ??
    deployment.spec?.template?.spec?.containers?.[0]?.image ??
    ''
  );
}

function serviceEndpoints(service: V1Service, nodeAddress: string): Endpoint[] {
  const port = service.spec?.ports?.[0];
  if (!port) return [];
  if (service.spec?.type === 'NodePort' && port.nodePort)
    return [{ url: `http://${nodeAddress}:${port.nodePort}`, publishMode: 'nodePort' }];
  return [
    {
      url: `http://${service.metadata?.name}.${service.metadata?.namespace}.svc.cluster.local${port.port === 80 ? '' : `:${port.port}`}`,
      publishMode: 'cluster',
    },
  ];
}

function statusOf(deployment: V1Deployment, service: V1Service | undefined, nodeAddress: string): DeploymentStatus {
  const name = deployment.metadata?.name ?? '';
  const desired = deployment.spec?.replicas ?? 1;
  const available = deployment.status?.availableReplicas ?? 0;
  const state = rolloutState(deployment);
  const availableCondition = deployment.status?.conditions?.find((c) => c.type === 'Available');
  const health: Health =
    state.kind === 'deadlineExceeded'
      ? 'failed'
      : state.kind === 'progressing'
        ? 'converging'
        : available >= desired
          ? 'healthy'
          : available > 0
            ? 'degraded'
            : 'failed';
  return {
    name,
    image: deploymentImage(deployment),
    revision: revisionOf(deployment),
    replicas: { running: available, desired },
    health,
    message:
      state.kind === 'complete'
        ? availableCondition?.status === 'False'
          ? (availableCondition.message ?? null)
          : null
        : state.message,
    endpoints: service ? serviceEndpoints(service, nodeAddress) : [],
  };
}

/** A pod as a task: its phase (or why it waits), node, image, revision and error. */
function podTask(pod: V1Pod, revisions: Map<string, number>): Task {
  const container = pod.status?.containerStatuses?.[0];
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const waiting = container?.state?.waiting;
  const terminated = container?.state?.terminated;
  const phase = pod.status?.phase ?? 'Pending';
  const state = pod.metadata?.deletionTimestamp
    ? 'shutdown'
    : phase === 'Running'
      ? ready?.status === 'True'
        ? 'running'
        : 'starting'
      : phase === 'Succeeded'
        ? 'complete'
        : phase.toLowerCase();
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name ?? '';
  const error =
    waiting?.reason && waiting.reason !== 'ContainerCreating'
      ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`
      : terminated && terminated.exitCode
        ? `${terminated.reason ?? 'exited'} (exit ${terminated.exitCode})`
        : ready?.status === 'False' && ready.message
          ? ready.message
          : null;
  const times = (pod.status?.conditions ?? [])
    .map((c) => toIso(c.lastTransitionTime))
    .filter(Boolean)
    .sort();
  return {
    id: pod.metadata?.name ?? '',
    kind: 'pod',
    state,
    desiredState: pod.metadata?.deletionTimestamp ? 'shutdown' : 'running',
    node: pod.spec?.nodeName ?? '',
    image: pod.spec?.containers?.[0]?.image ?? '',
    revision: revisions.get(owner) ?? null,
    error,
    updatedAt: times.at(-1) ?? toIso(pod.metadata?.creationTimestamp),
  };
}

const CPU_UNITS: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1 };
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A CPU quantity in cores: "250m" is 0.25, "1234567n" 0.0012. */
export function cpuCores(quantity: string): number {
  const match = /^([0-9.]+)([num]?)$/.exec(quantity);
  return match ? Number(match[1]) * CPU_UNITS[match[2]] : Number.NaN;
}

/** A memory quantity in bytes: "64Mi", "12345Ki", "1G". */
export function bytesOf(quantity: string): number {
  const match = /^([0-9.]+)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  return match ? Number(match[1]) * BYTE_UNITS[match[2] ?? ''] : Number.NaN;
}
