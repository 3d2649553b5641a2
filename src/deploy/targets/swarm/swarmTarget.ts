// DeployTarget on Docker Swarm, through dockerode: the local engine, or a remote manager through
// DOCKER_HOST (tcp with TLS, or ssh). Rolling updates are start-first with automatic rollback;
// every revision is kept as a Swarm config beside the service.
import { hostname, userInfo } from 'node:os';
import type Docker from 'dockerode';
import type { BadLineReporter } from '../../../shared/badLines';
import { describeError, MlopsError } from '../../../shared/errors';
import { connectDocker, dockerOptions } from '../../../containerize/docker/dockerClient';
import { frameText } from '../../../containerize/docker/logFrames';
import type { RegistryCredentials } from '../../../containerize/registry/registryAuth';
import {
  PRODUCTION_VARIANT,
  type DeployOptions,
  type DeployResult,
  type DeploySpec,
  type DeploymentStatus,
  type DeployTarget,
  type Endpoint,
  type Health,
  type ResourceUse,
  type Revision,
  type SplitStatus,
  type Task,
  type TrafficSplit,
} from '../deployTarget';
import { candidates, checkSplit, parseSplitRecord, splitBackends, splitRecord, variantWorkload } from '../splitPlan';
import { listTasks, waitForConvergence } from './convergence';
import { ensureDataTokenSecret, readDataToken, removeDataTokenSecret, type SecretRef } from './dataTokenSecret';
import { checkServiceName, LABEL, NETWORK, routerApiName, routerName } from './labels';
import {
  ensureProxyConfigs,
  isPythonRouter,
  proxyServiceSpec,
  removeUnusedProxyConfigs,
  restartsTasks,
} from './proxyService';
import { listRevisions, removeRevisions, saveRevision, type RevisionRecord } from './revisionStore';
import {
  modelServiceSpec,
  routerApiServiceSpec,
  routerBackends,
  routerWithBackends,
  variantServiceSpec,
} from './serviceSpec';
import { DEFAULT_PROXY_IMAGE } from '../../../serving/proxyImage';

/** The longest service name Swarm accepts. */
const MAX_SERVICE_NAME = 63;
/** How long a data token read from a task is used before it is read again (a redeploy elsewhere may change it). */
const TOKEN_CACHE_MS = 60_000;

export interface SwarmTargetOptions {
  dockerHost?: string;
  /** Registry credentials, from SecretStorage or the Docker config; never logged. */
  credentials?(registry: string): Promise<RegistryCredentials | undefined>;
  /** Told of each revision config that does not parse (it is skipped). */
  onBadRecord?: BadLineReporter;
  /** The HAProxy image of the deployments' proxies (mlops.proxyImage); the official one by default. */
  proxyImage?: string;
}

export async function openSwarmTarget(options: SwarmTargetOptions = {}): Promise<SwarmTarget> {
  return new SwarmTarget(await connectDocker(options.dockerHost), options);
}

export class SwarmTarget implements DeployTarget {
  readonly kind = 'swarm';
  readonly location: string;
  private readonly proxyImage: string;
  private readonly tokens = new Map<string, { token: string; at: number }>();

  constructor(
    readonly docker: Docker,
    private readonly options: SwarmTargetOptions,
  ) {
    const target = dockerOptions(options.dockerHost);
    this.location = target.socketPath ?? `${target.protocol}://${target.host}:${target.port}`;
    this.proxyImage = options.proxyImage || DEFAULT_PROXY_IMAGE;
  }

  /** The revision records of a deployment, oldest first; one that does not parse goes to `onBadRecord`. */
  private revisions(name: string): Promise<RevisionRecord[]> {
    return listRevisions(this.docker, name, this.options.onBadRecord);
  }

  /** Fails with what to do unless this engine manages a swarm. */
  async requireSwarm(): Promise<void> {
    const info = (await this.docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    const state = info.Swarm?.LocalNodeState ?? 'inactive';
    if (state !== 'active') {
      throw new MlopsError(
        `The Docker Engine at ${this.location} is not part of a swarm (swarm: ${state}).`,
        'Run MLOps: Initialise Swarm, or docker swarm init --advertise-addr 127.0.0.1.',
      );
    }
    if (!info.Swarm?.ControlAvailable)
      throw new MlopsError(
        `The Docker Engine at ${this.location} is a swarm worker; deploy through a manager.`,
        'Point mlops.dockerHost at a manager node.',
      );
  }

  async initSwarm(): Promise<void> {
    await this.docker.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '127.0.0.1' });
  }

  async deploy(spec: DeploySpec, options: DeployOptions = {}): Promise<DeployResult> {
    const invalid = checkServiceName(spec.name);
    if (invalid) throw new MlopsError(invalid);
    await this.requireSwarm();
    const image = await this.imageFacts(spec.image);
    const imageRef = await this.publishImage(spec, options);
    const existing = await this.service(spec.name);
    const revisions = await this.revisions(spec.name);
    const revision = Math.max(0, ...revisions.map((r) => r.revision)) + 1;
    const record: RevisionRecord = {
      revision,
      image: spec.image,
      imageRef,
      digest: imageRef.includes('@sha256:') ? imageRef : null,
      createdAt: new Date().toISOString(),
      changeCause: spec.changeCause ?? (existing ? `deploy ${spec.image}` : `first deploy of ${spec.image}`),
      deployedBy: `${userInfo().username}@${hostname()}`,
      gitCommit: image.labels['mlops.git.commit'] || null,
      mlflowRunId: image.labels['mlops.mlflow.run_id'] || null,
      modelImage: image.modelImage,
      spec,
    };
    await saveRevision(this.docker, record);
    return this.apply(record, existing, options);
  }

  async rollback(name: string, toRevision?: number, options: DeployOptions = {}): Promise<DeployResult> {
    await this.requireSwarm();
    const service = await this.requireService(name);
    const current = Number(service.Spec?.Labels?.[LABEL.revision] ?? 0);
    const revisions = await this.revisions(name);
    const target = toRevision ?? revisions.filter((r) => r.revision < current).at(-1)?.revision;
    const record = revisions.find((r) => r.revision === target);
    if (!record) {
      const known = revisions.map((r) => r.revision).join(', ') || 'none';
      throw new MlopsError(
        target === undefined
          ? `${name} has no revision before ${current} to roll back to.`
          : `${name} has no revision ${target} (revisions: ${known}).`,
      );
    }
    if (record.revision === current) throw new MlopsError(`${name} already runs revision ${current}.`);
    return this.apply(record, service, options);
  }

  async pinStable(name: string, revision: number): Promise<void> {
    const service = await this.requireService(name);
    if (!(await this.revisions(name)).some((r) => r.revision === revision))
      throw new MlopsError(`${name} has no revision ${revision}.`);
    const spec = service.Spec!;
    await this.docker.getService(service.ID).update({
      ...spec,
      Labels: { ...spec.Labels, [LABEL.stable]: String(revision) },
      version: service.Version?.Index,
    });
  }

  async scale(name: string, replicas: number, options: DeployOptions = {}): Promise<DeploymentStatus> {
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new MlopsError(`Replicas must be a whole number, not ${replicas}.`);
    const service = await this.requireService(name);
    await this.docker
      .getService(service.ID)
      .update({ ...service.Spec, Mode: { Replicated: { Replicas: replicas } }, version: service.Version?.Index });
    // A new replica count is no rolling update (the task template is the same): wait for the tasks.
    await waitForConvergence(this.docker, name, options);
    return this.status(name);
  }

  async list(): Promise<DeploymentStatus[]> {
    await this.requireSwarm();
    const services = await this.docker.listServices({ filters: { label: [`${LABEL.role}=model`] } });
    return Promise.all(services.map((service) => this.statusOf(service as Docker.Service)));
  }

  async status(name: string): Promise<DeploymentStatus> {
    return this.statusOf(await this.requireService(name));
  }

  async history(name: string): Promise<Revision[]> {
    const service = await this.service(name);
    const revisions = await this.revisions(name);
    if (!service && revisions.length === 0) throw new MlopsError(`No deployment named ${name} on ${this.location}.`);
    const current = Number(service?.Spec?.Labels?.[LABEL.revision] ?? NaN);
    const stable = Number(service?.Spec?.Labels?.[LABEL.stable] ?? NaN);
    return revisions.map((r) => ({
      revision: r.revision,
      image: r.image,
      digest: r.digest,
      createdAt: r.createdAt,
      changeCause: r.changeCause,
      deployedBy: r.deployedBy,
      gitCommit: r.gitCommit,
      mlflowRunId: r.mlflowRunId,
      current: r.revision === current,
      stable: r.revision === stable,
    }));
  }

  async tasks(name: string): Promise<Task[]> {
    const [tasks, nodes] = await Promise.all([listTasks(this.docker, { service: [name] }), this.docker.listNodes()]);
    const nodeNames = new Map(nodes.map((node) => [node.ID, node.Description?.Hostname ?? node.ID]));
    return tasks
      .map((task) => {
        const spec = task.Spec;
        return {
          id: task.ID ?? '',
          state: task.Status?.State ?? 'unknown',
          desiredState: task.DesiredState ?? 'unknown',
          node: nodeNames.get(task.NodeID ?? '') ?? task.NodeID ?? '',
          image: spec?.ContainerSpec?.Image ?? '',
          revision: spec?.ContainerSpec?.Labels?.[LABEL.revision]
            ? Number(spec.ContainerSpec.Labels[LABEL.revision])
            : null,
          error: task.Status?.Err ?? null,
          updatedAt: task.UpdatedAt ?? '',
        };
      })
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /** Docker's stats of the running tasks' containers on this engine (tasks on other nodes are left out). */
  async resources(name: string): Promise<ResourceUse[]> {
    const running = (await listTasks(this.docker, { service: [name], 'desired-state': ['running'] })).filter(
      (task) => task.Status?.State === 'running',
    );
    const uses = await Promise.all(
      running.map(async (task): Promise<ResourceUse | undefined> => {
        const id = task.Status?.ContainerStatus?.ContainerID;
        if (!id) return undefined;
        const stats = (await this.docker
          .getContainer(id)
          .stats({ stream: false })
          .catch(() => undefined)) as ContainerStats | undefined;
        return stats ? { instance: task.ID ?? id, ...resourceUse(stats) } : undefined;
      }),
    );
    return uses.filter((use): use is ResourceUse => use !== undefined);
  }

  async logs(
    name: string,
    options: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine(line: string): void },
  ): Promise<void> {
    await this.requireService(name);
    const output = (await this.docker.getService(name).logs({
      stdout: true,
      stderr: true,
      follow: options.follow ?? false,
      tail: options.tail ?? 200,
      timestamps: true,
    } as never)) as unknown;
    // Without follow the engine's answer arrives whole, as a buffer; with follow, as a stream.
    if (Buffer.isBuffer(output)) {
      for (const line of frameText(output).split('\n')) if (line) options.onLine(line);
      return;
    }
    const stream = output as NodeJS.ReadableStream;
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    // Service logs are multiplexed (stdout and stderr frames) unless the service has a TTY.
    this.docker.modem.demuxStream(stream, out, out);
    let rest = '';
    out.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    });
    await new Promise<void>((resolve) => {
      const stop = () => {
        (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
        resolve();
      };
      options.signal?.addEventListener('abort', stop, { once: true });
      stream.on('end', () => {
        if (rest) options.onLine(rest);
        resolve();
      });
      stream.on('error', () => resolve());
    });
  }

  async remove(name: string): Promise<void> {
    const service = await this.service(name);
    const router = await this.service(routerName(name));
    const api = await this.service(routerApiName(name));
    const variants = await this.variantServices(name);
    if (!service && !router && !variants.length && (await this.revisions(name)).length === 0)
      throw new MlopsError(`No deployment named ${name} on ${this.location}.`);
    if (router) await this.docker.getService(router.ID).remove();
    if (api) await this.docker.getService(api.ID).remove();
    for (const variant of variants) await this.docker.getService(variant.ID).remove();
    if (service) await this.docker.getService(service.ID).remove();
    this.tokens.delete(name);
    // Configs and secrets stay in use until the tasks are gone; a few retries cover that.
    for (let attempt = 0; ; attempt++) {
      try {
        await removeRevisions(this.docker, name);
        await removeDataTokenSecret(this.docker, name);
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /**
   * Starts or changes a split. The variants' services start first, and only once they serve do
   * the router-api (with the newest variant image, so that it runs the current router code) and
   * the proxy get the new groups. A variant that cannot start, or a proxy that does not come up
   * with the split, fails it with production serving as before. The proxy holds a host-mode port,
   * so a new config restarts it stop-first: the port does not answer for a second or two.
   */
  async split(name: string, split: TrafficSplit, options: DeployOptions = {}): Promise<SplitStatus> {
    checkSplit(name, split, MAX_SERVICE_NAME);
    await this.requireSwarm();
    const production = await this.requireService(name);
    await this.requireRouter(name);
    const port = await this.containerPort(name, production);
    const existing = new Map(
      (await this.variantServices(name)).map((service) => [service.Spec?.Labels?.[LABEL.variant] ?? '', service]),
    );
    const images = new Map([[PRODUCTION_VARIANT, serviceImage(production)]]);
    let newest = { image: '', created: '' };
    for (const variant of candidates(split)) {
      const current = existing.get(variant.name);
      const image = variant.image ?? (current ? serviceImage(current) : undefined);
      if (!image)
        throw new MlopsError(`The variant '${variant.name}' of ${name} has no image.`, 'Give the image it runs.');
      const facts = await this.imageFacts(image);
      if (!facts.modelImage)
        throw new MlopsError(
          `${image} is not a model image from Containerise, so it cannot serve as variant '${variant.name}' behind the router.`,
          'Containerise the notebook and split with that image.',
        );
      images.set(variant.name, image);
      if (facts.created >= newest.created) newest = { image, created: facts.created };
    }

    const started: string[] = [];
    try {
      for (const variant of candidates(split)) {
        const workload = variantWorkload(name, variant.name);
        const image = images.get(variant.name)!;
        const replicas = variant.replicas ?? 1;
        const current = existing.get(variant.name);
        const wanted = variantServiceSpec(production.Spec!, {
          deployment: name,
          variant: variant.name,
          image,
          replicas,
          shadow: Boolean(variant.shadow),
        });
        options.onProgress?.({
          message: `${current ? 'Updating' : 'Starting'} variant ${variant.name} of ${name} (${image}, ${replicas} replica${replicas === 1 ? '' : 's'})`,
        });
        let updatedAfter: Date | undefined;
        if (!current) {
          await this.docker.createService(wanted);
          started.push(workload);
        } else if (serviceImage(current) !== image || !sameEnv(current, wanted)) {
          updatedAfter = new Date();
          await this.docker.getService(current.ID).update({ ...wanted, version: current.Version?.Index });
        } else if (current.Spec?.Mode?.Replicated?.Replicas !== replicas) {
          await this.docker
            .getService(current.ID)
            .update({ ...current.Spec, Mode: { Replicated: { Replicas: replicas } }, version: current.Version?.Index });
        }
        const convergence = await waitForConvergence(this.docker, workload, {
          ...options,
          ...(updatedAfter ? { updatedAfter } : {}),
        });
        if (convergence.rolledBack)
          throw new MlopsError(`Swarm rolled the update of ${workload} back: ${convergence.message}`);
      }
    } catch (error) {
      await this.removeServices(started);
      throw new MlopsError(
        `The split of ${name} did not start, and production serves all its traffic as before: ${describeError(error)}`,
        "Look at the variant's logs, fix its image and split again.",
        { cause: error },
      );
    }

    let proxy: Docker.Service;
    let api: Docker.Service;
    try {
      ({ proxy, api } = await this.requireProxy(name, options));
    } catch (error) {
      await this.removeServices(started);
      throw error;
    }
    const previous = { proxy: proxy.Spec!, api: api.Spec! };
    const record = splitRecord(
      split,
      images,
      parseSplitRecord(previous.proxy.Labels?.[LABEL.split])?.startedAt ?? new Date().toISOString(),
    );
    options.onProgress?.({
      message: `Routing ${record.variants.map((v) => `${v.name} ${v.weight}${v.shadow ? ' % shadow' : ''}`).join(', ')} through ${routerName(name)}`,
    });
    try {
      // The router-api first (the groups it reads, the newest router code), then the proxy, whose
      // label says the split is in place. (The other order failed a few requests right after the split.)
      await this.updateRouter(
        api,
        routerWithBackends(previous.api, {
          backends: splitBackends(name, record, (workload) => `tasks.${workload}:${port}`),
          stickyKey: record.stickyKey,
          split: null,
          image: newest.image,
        }),
        options,
      );
      await this.updateProxy(
        proxy,
        await ensureProxyConfigs(this.docker, name, record, port),
        JSON.stringify(record),
        options,
      );
    } catch (error) {
      options.onProgress?.({ message: `The router did not come up with the split: restoring its previous groups` });
      const restore = { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
      await this.updateRouter(await this.requireRouter(name), previous.proxy, restore).catch(() => undefined);
      await this.updateRouter(await this.requireService(routerApiName(name)), previous.api, restore).catch(
        () => undefined,
      );
      await this.removeServices(started);
      throw new MlopsError(
        `The router of ${name} did not start with the split, so its previous routing was restored: ${describeError(error)}`,
        `Look at the logs of ${routerName(name)} and ${routerApiName(name)}.`,
        { cause: error },
      );
    }
    const kept = new Set(candidates(split).map((variant) => variant.name));
    await this.removeServices(
      [...existing].filter(([variant]) => !kept.has(variant)).map(([, service]) => service.Spec?.Name ?? service.ID),
    );
    await removeUnusedProxyConfigs(this.docker, name, (await this.requireRouter(name)).Spec!);
    return (await this.splitStatus(name))!;
  }

  /** The split the router runs, read from its label: the cluster is the only state. */
  async splitStatus(name: string): Promise<SplitStatus | null> {
    const router = await this.service(routerName(name));
    if (!router) {
      await this.requireService(name);
      return null;
    }
    const record = parseSplitRecord(router.Spec?.Labels?.[LABEL.split]);
    if (!record) return null;
    const variants = await Promise.all(
      record.variants.map(async (variant) => {
        const workload = variantWorkload(name, variant.name);
        const service = await this.service(workload);
        const tasks = service
          ? await listTasks(this.docker, { service: [workload], 'desired-state': ['running'] })
          : [];
        return {
          name: variant.name,
          image: service ? serviceImage(service) : variant.image,
          weight: variant.weight,
          shadow: variant.shadow,
          workload,
          replicas: {
            running: tasks.filter((task) => task.Status?.State === 'running').length,
            desired: service?.Spec?.Mode?.Replicated?.Replicas ?? 0,
          },
        };
      }),
    );
    return { deployment: name, variants, stickyKey: record.stickyKey, via: 'router', startedAt: record.startedAt };
  }

  /** The proxy and the router-api back to the production service alone, then the variants' services removed. */
  async endSplit(name: string, options: DeployOptions = {}): Promise<void> {
    await this.requireSwarm();
    const router = await this.requireRouter(name);
    const variants = await this.variantServices(name);
    if (!router.Spec?.Labels?.[LABEL.split] && !variants.length)
      throw new MlopsError(`${name} has no traffic split to end.`);
    const port = await this.containerPort(name, await this.requireService(name));
    const { proxy, api } = await this.requireProxy(name, options);
    options.onProgress?.({ message: `Routing all traffic of ${name} to production` });
    await this.updateProxy(proxy, await ensureProxyConfigs(this.docker, name, null, port), null, options);
    await this.updateRouter(
      api,
      routerWithBackends(api.Spec!, { backends: routerBackends(name, port), stickyKey: null, split: null }),
      options,
    );
    options.onProgress?.({
      message: `Removing ${variants.map((variant) => variant.Spec?.Name).join(', ') || 'no variant services'}`,
    });
    await this.removeServices(variants.map((variant) => variant.Spec?.Name ?? variant.ID));
    await removeUnusedProxyConfigs(this.docker, name, (await this.requireRouter(name)).Spec!);
  }

  /** Read in a running task of the deployment on this engine, as Swarm never gives a secret back. */
  async dataToken(name: string): Promise<string> {
    const cached = this.tokens.get(name);
    if (cached && Date.now() - cached.at < TOKEN_CACHE_MS) return cached.token;
    await this.requireService(name);
    const token = await readDataToken(this.docker, name, this.location);
    this.tokens.set(name, { token, at: Date.now() });
    return token;
  }

  async endpoints(name: string): Promise<Endpoint[]> {
    const service = await this.requireService(name);
    const port = service.Spec?.Labels?.[LABEL.publishedPort];
    if (!port) return [];
    const host = this.location.startsWith('/') ? '127.0.0.1' : new URL(this.location).hostname;
    return [
      {
        url: `http://${host}:${port}`,
        publishMode: (service.Spec?.Labels?.[LABEL.publishMode] as Endpoint['publishMode'] | undefined) ?? 'host',
      },
    ];
  }

  /** Calls `onChange` (debounced) on service, task, container and config events; false when the stream is unavailable. */
  async watch(onChange: () => void, signal: AbortSignal): Promise<boolean> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.docker.getEvents({
        filters: JSON.stringify({ type: ['service', 'container', 'config', 'node'] }),
      })) as NodeJS.ReadableStream;
    } catch {
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    stream.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, 500);
    });
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      },
      { once: true },
    );
    return true;
  }

  /** Creates or updates the services for a revision and waits for Swarm's verdict. */
  private async apply(
    record: RevisionRecord,
    existing: Docker.Service | undefined,
    options: DeployOptions,
  ): Promise<DeployResult> {
    const { spec } = record;
    const network = await this.network();
    const stable = existing?.Spec?.Labels?.[LABEL.stable];
    const dataToken = await ensureDataTokenSecret(this.docker, spec.name);
    const serviceSpec = modelServiceSpec({
      spec,
      imageRef: record.imageRef,
      revision: record.revision,
      stableRevision: stable ? Number(stable) : null,
      modelImage: record.modelImage,
      networkId: network,
      dataToken,
    });
    const auth = await this.authFor(spec);
    const updatedAfter = existing ? new Date() : undefined;
    options.onProgress?.({
      message: `${existing ? 'Updating' : 'Creating'} ${spec.name} (revision ${record.revision}, ${record.image})`,
    });
    if (existing)
      await this.docker
        .getService(existing.ID)
        .update({ ...serviceSpec, version: existing.Version?.Index, ...(auth ? { authconfig: auth } : {}) });
    else await this.docker.createService({ ...serviceSpec, ...(auth ? { authconfig: auth } : {}) });
    if (record.modelImage && spec.publishMode !== 'ingress' && spec.publishedPort !== undefined)
      await this.ensureRouter(
        spec.name,
        {
          apiImage: record.imageRef,
          containerPort: spec.containerPort ?? 8080,
          publishedPort: spec.publishedPort,
          network,
          dataToken,
        },
        options,
      );
    const convergence = await waitForConvergence(this.docker, spec.name, {
      ...options,
      ...(updatedAfter ? { updatedAfter } : {}),
    });
    const status = await this.status(spec.name);
    const revision = (await this.history(spec.name)).find((r) => r.revision === record.revision)!;
    const message = convergence.rolledBack
      ? await this.failureReason(spec.name, record.revision, convergence.message)
      : (convergence.message ?? status.message);
    return { status: { ...status, message }, revision, rolledBack: convergence.rolledBack };
  }

  /** Why a revision was rolled back: its failed task's error and the last lines its container printed. */
  private async failureReason(name: string, revision: number, swarmMessage: string | null): Promise<string> {
    const failed = (await listTasks(this.docker, { service: [name] }))
      .filter((task) => task.Spec?.ContainerSpec?.Labels?.[LABEL.revision] === String(revision) && task.Status?.Err)
      .sort((a, b) => (b.UpdatedAt ?? '').localeCompare(a.UpdatedAt ?? ''))[0];
    const container = failed?.Status?.ContainerStatus?.ContainerID;
    const logs = container
      ? await this.docker
          .getContainer(container)
          .logs({ stdout: true, stderr: true, tail: 3 })
          .then(
            (buffer) => oneLine(frameText(buffer)),
            () => '',
          )
      : '';
    const error = failed?.Status?.Err ?? swarmMessage ?? 'its tasks did not become healthy';
    return `revision ${revision} failed (${error})${logs ? `: ${logs}` : ''}`;
  }

  /**
   * The router of a deployment: the proxy on the published port and the Python router-api beside
   * it. Both are made once and left alone by model updates (tasks come and go through DNS), so the
   * port never closes; only a new published port changes the proxy, and a Python router from
   * before the proxy is replaced by it, its groups and split kept.
   */
  private async ensureRouter(
    name: string,
    input: { apiImage: string; containerPort: number; publishedPort: number; network: string; dataToken: SecretRef },
    options: DeployOptions,
  ): Promise<void> {
    const router = await this.service(routerName(name));
    const legacy = isPythonRouter(router?.Spec) ? router : undefined;
    // As long as the deploy waits for the model: both start Python on a machine that may be busy.
    const converging = {
      ...(options.signal ? { signal: options.signal } : {}),
      timeoutMs: options.timeoutMs ?? 300_000,
    };
    const apiName = routerApiName(name);
    if (!(await this.service(apiName))) {
      const fresh = routerApiServiceSpec({
        name,
        image: legacy ? serviceImage(legacy) : input.apiImage,
        containerPort: input.containerPort,
        networkId: input.network,
        dataToken: input.dataToken,
      });
      const backends = legacy && envValue(legacy.Spec, 'MLOPS_ROUTER_BACKENDS');
      const stickyKey = (legacy && envValue(legacy.Spec, 'MLOPS_ROUTER_STICKY_KEY')) || null;
      await this.docker.createService(
        backends ? routerWithBackends(fresh, { backends, stickyKey, split: null }) : fresh,
      );
      await waitForConvergence(this.docker, apiName, converging);
    }
    const port = router?.Spec?.EndpointSpec?.Ports?.[0]?.PublishedPort;
    if (router && !legacy && port === input.publishedPort) return;
    if (legacy) options.onProgress?.({ message: `Replacing the Python router of ${name} by the proxy` });
    const split = router?.Spec?.Labels?.[LABEL.split] ?? null;
    const configs = await ensureProxyConfigs(
      this.docker,
      name,
      parseSplitRecord(split ?? undefined),
      input.containerPort,
    );
    const wanted = proxyServiceSpec({
      name,
      image: this.proxyImage,
      publishedPort: input.publishedPort,
      networkId: input.network,
      configs,
      split,
      dataToken: input.dataToken,
    });
    if (router) await this.updateRouter(router, wanted, options);
    else {
      await this.docker.createService(wanted);
      await waitForConvergence(this.docker, routerName(name), converging);
    }
    await this.probeProxy(name, input.publishedPort);
    await removeUnusedProxyConfigs(this.docker, name, wanted);
  }

  /** The proxy and router-api of a deployment; a Python router from before the proxy is replaced first. */
  private async requireProxy(
    name: string,
    options: DeployOptions,
  ): Promise<{ proxy: Docker.Service; api: Docker.Service }> {
    const router = await this.requireRouter(name);
    const api = await this.service(routerApiName(name));
    if (api && !isPythonRouter(router.Spec)) return { proxy: router, api };
    const production = await this.requireService(name);
    const publishedPort = router.Spec?.EndpointSpec?.Ports?.[0]?.PublishedPort;
    if (publishedPort === undefined)
      throw new MlopsError(`The router of ${name} publishes no port.`, `Deploy ${name} again with a published port.`);
    await this.ensureRouter(
      name,
      {
        apiImage: serviceImage(production),
        containerPort: await this.containerPort(name, production),
        publishedPort,
        network: await this.network(),
        dataToken: await ensureDataTokenSecret(this.docker, name),
      },
      options,
    );
    return { proxy: await this.requireRouter(name), api: await this.requireService(routerApiName(name)) };
  }

  /** The proxy with other configs and split label (its image: mlops.proxyImage), once it answers again. */
  private async updateProxy(
    proxy: Docker.Service,
    configs: Docker.ConfigReference[],
    split: string | null,
    options: DeployOptions,
  ): Promise<void> {
    const name = proxy.Spec?.Labels?.[LABEL.deployment] ?? '';
    const publishedPort = proxy.Spec?.EndpointSpec?.Ports?.[0]?.PublishedPort ?? 0;
    const wanted = proxyServiceSpec({
      name,
      image: this.proxyImage,
      publishedPort,
      networkId: await this.network(),
      configs,
      split,
      dataToken: await ensureDataTokenSecret(this.docker, name),
    });
    const restarts = restartsTasks(proxy.Spec, wanted);
    await this.updateRouter(proxy, wanted, options);
    if (restarts) await this.probeProxy(name, publishedPort);
  }

  /**
   * Waits until the proxy answers HTTP on its published port (any status: its groups may still be
   * starting). HAProxy's image has nothing to run a health check with, so this probe stands in for
   * one; on a remote engine the port may not be reachable from here, and convergence decides.
   */
  private async probeProxy(name: string, publishedPort: number): Promise<void> {
    if (!this.location.startsWith('/')) return;
    const deadline = Date.now() + 30_000;
    while (!(await answersHttp(publishedPort))) {
      if (Date.now() > deadline)
        throw new MlopsError(
          `The proxy of ${name} runs but does not answer on port ${publishedPort}.`,
          `Look at the logs of ${routerName(name)}.`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The services of a split's variants (all but production). */
  private async variantServices(name: string): Promise<Docker.Service[]> {
    return (await this.docker.listServices({
      filters: { label: [`${LABEL.deployment}=${name}`, `${LABEL.role}=variant`] },
    })) as Docker.Service[];
  }

  private async removeServices(names: string[]): Promise<void> {
    for (const name of names)
      await this.docker
        .getService(name)
        .remove()
        .catch((error: { statusCode?: number }) => (error.statusCode === 404 ? undefined : Promise.reject(error)));
  }

  private async requireRouter(name: string): Promise<Docker.Service> {
    const router = await this.service(routerName(name));
    if (router) return router;
    await this.requireService(name);
    throw new MlopsError(
      `${name} has no router, so its traffic cannot be split.`,
      'Deploy it from a model image built by Containerise, with a published port in host mode (ingress publishing serves the model directly).',
    );
  }

  /**
   * Applies a spec to the proxy or the router-api and waits for it to serve. Only a change of
   * image, command, env, configs or port restarts its task; a label alone does not, and an update
   * that changes nothing is never waited for.
   */
  private async updateRouter(
    router: Docker.Service,
    wanted: Docker.ServiceSpec,
    options: DeployOptions,
  ): Promise<void> {
    const restarts = restartsTasks(router.Spec, wanted);
    const updatedAfter = new Date();
    await this.docker.getService(router.ID).update({ ...wanted, version: router.Version?.Index });
    if (!restarts) return;
    const convergence = await waitForConvergence(this.docker, router.Spec?.Name ?? router.ID, {
      ...options,
      updatedAfter,
    });
    if (convergence.rolledBack) throw new MlopsError(`Swarm rolled the router's update back: ${convergence.message}`);
  }

  /** The model server's port, from the revision the service runs. */
  private async containerPort(name: string, service: Docker.Service): Promise<number> {
    const revision = Number(service.Spec?.Labels?.[LABEL.revision] ?? 0);
    return (await this.revisions(name)).find((record) => record.revision === revision)?.spec.containerPort ?? 8080;
  }

  private async publishImage(spec: DeploySpec, options: DeployOptions): Promise<string> {
    if (!spec.registry) {
      options.onProgress?.({
        message: `No registry set: the swarm runs the local image ${spec.image}, which only works on this node`,
      });
      return spec.image;
    }
    const { pushImage } = await import('../../../containerize/registry/pushImage');
    const credentials = await this.options.credentials?.(spec.registry);
    const pushed = await pushImage(this.docker, spec.image, spec.registry, {
      ...(credentials ? { credentials } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (message, fraction) =>
        options.onProgress?.({ message, ...(fraction === undefined ? {} : { fraction }) }),
    });
    return pushed.digest;
  }

  private async authFor(spec: DeploySpec): Promise<Docker.AuthConfig | undefined> {
    if (!spec.registry) return undefined;
    const credentials = await this.options.credentials?.(spec.registry);
    return credentials
      ? { username: credentials.username, password: credentials.password, serveraddress: credentials.serveraddress }
      : undefined;
  }

  private async imageFacts(
    image: string,
  ): Promise<{ labels: Record<string, string>; modelImage: boolean; created: string }> {
    try {
      const inspected = await this.docker.getImage(image).inspect();
      const labels = inspected.Config.Labels ?? {};
      return { labels, modelImage: Boolean(labels['mlops.context.hash']), created: inspected.Created };
    } catch {
      throw new MlopsError(
        `No image ${image} in the Docker Engine at ${this.location}.`,
        'Build it first (MLOps: Containerise Notebook), or check the name and tag.',
      );
    }
  }

  private async network(): Promise<string> {
    const [existing] = await this.docker.listNetworks({ filters: { name: [NETWORK] } });
    if (existing?.Name === NETWORK) return existing.Id;
    const created = (await this.docker.createNetwork({
      Name: NETWORK,
      Driver: 'overlay',
      Attachable: true,
      Labels: { [LABEL.role]: 'network' },
    })) as { id: string };
    return created.id;
  }

  private async service(name: string): Promise<Docker.Service | undefined> {
    try {
      return (await this.docker.getService(name).inspect()) as Docker.Service;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  private async requireService(name: string): Promise<Docker.Service> {
    const service = await this.service(name);
    if (!service)
      throw new MlopsError(
        `No deployment named ${name} on ${this.location}.`,
        'Deploy it first, or pick one from the Deployments view.',
      );
    return service;
  }

  private async statusOf(service: Docker.Service): Promise<DeploymentStatus> {
    const name = service.Spec?.Name ?? service.ID;
    const desired = service.Spec?.Mode?.Replicated?.Replicas ?? 1;
    const tasks = await listTasks(this.docker, { service: [name], 'desired-state': ['running'] });
    const running = tasks.filter((task) => task.Status?.State === 'running').length;
    const update = service.UpdateStatus?.State;
    const health: Health =
      update === 'updating' || update === 'rollback_started'
        ? 'converging'
        : running >= desired
          ? 'healthy'
          : running > 0
            ? 'degraded'
            : desired === 0
              ? 'healthy'
              : 'failed';
    return {
      name,
      image: serviceImage(service),
      revision: Number(service.Spec?.Labels?.[LABEL.revision] ?? 0),
      replicas: { running, desired },
      health,
      message: service.UpdateStatus?.Message ?? null,
      endpoints: await this.endpoints(name).catch(() => []),
    };
  }
}

function serviceImage(service: Docker.Service): string {
  return (service.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec?.Image ?? '';
}

function oneLine(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' | ');
}

interface ContainerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number; cache?: number } };
}

/** CPU % and memory as `docker stats` computes them (memory without the reclaimable page cache). */
export function resourceUse(stats: ContainerStats): { cpuPercent: number | null; memoryMb: number | null } {
  const cpu = (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats?.online_cpus ?? 1;
  const usage = stats.memory_stats?.usage;
  const cache =
    stats.memory_stats?.stats?.inactive_file ??
    stats.memory_stats?.stats?.total_inactive_file ??
    stats.memory_stats?.stats?.cache ??
    0;
  return {
    cpuPercent: system > 0 && cpu >= 0 ? (cpu / system) * cpus * 100 : null,
    memoryMb: usage === undefined ? null : Math.max(0, usage - cache) / 1024 / 1024,
  };
}

/** The value of an environment variable of a service's tasks. */
function envValue(spec: Docker.ServiceSpec | undefined, key: string): string | undefined {
  const env = (spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec?.Env ?? [];
  return env.find((entry) => entry.startsWith(`${key}=`))?.slice(key.length + 1);
}

/** Whether anything answers HTTP on this host's port (a GET of /router/health, any status). */
function answersHttp(port: number): Promise<boolean> {
  const answer = fetch(`http://127.0.0.1:${port}/router/health`, { signal: AbortSignal.timeout(2000) });
  return answer.then((response) => (void response.body?.cancel(), true)).catch(() => false);
}

/** Whether a service's tasks already have the environment a spec asks for (a variant turned shadow has another). */
function sameEnv(service: Docker.Service, spec: Docker.ServiceSpec): boolean {
  const env = (task: Docker.TaskSpec | undefined) =>
    [...((task as Docker.ContainerTaskSpec | undefined)?.ContainerSpec?.Env ?? [])].sort().join('\n');
  return env(service.Spec?.TaskTemplate) === env(spec.TaskTemplate);
}
