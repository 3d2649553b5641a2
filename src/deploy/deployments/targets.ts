// The deploy targets the Deployments view and commands talk to, opened on first use and kept
// until their settings change. The Swarm and Kubernetes implementations (and dockerode and
// @kubernetes/client-node under them) are loaded only when a target is first opened, never at
// activation.
import type { BadLineReporter } from '../../shared/badLines';
import { NoAnswerError } from '../../shared/remoteTimeout';
import type { RegistryCredentials } from '../../containerize/registry/registryAuth';
import type { DeployTarget, DeploymentStatus } from '../targets/deployTarget';
import { inNamespace, targetKey, type TargetConfig } from './targetConfig';

export type OpenTarget = (config: TargetConfig) => Promise<DeployTarget>;

export interface OpenerOptions {
  /** Registry credentials (SecretStorage, then the Docker config; the CLI: the Docker config). */
  credentials?: (registry: string) => Promise<RegistryCredentials | undefined>;
  /** For Kubernetes targets that name no kubeconfig of their own (mlops.kubeconfig). */
  kubeconfig?: string;
  /** For Kubernetes targets: the engine where locally built images are (mlops.dockerHost, --docker-host). */
  dockerHost?: string;
  /** For Kubernetes targets: the Gateway of a split's HTTPRoute (mlops.kubernetes.gateway, --gateway). */
  gateway?: string;
  /** Swarm targets: told of each revision record that does not parse (it is skipped). */
  onBadRecord?: BadLineReporter;
  /** The HAProxy image of the proxies, on Swarm and in Kubernetes splits (mlops.proxyImage, --proxy-image). */
  proxyImage?: string;
}

/** Opens a Swarm or Kubernetes target: the one way both faces (the CLI and VS Code) open one. */
export async function openDeployTarget(config: TargetConfig, options: OpenerOptions = {}): Promise<DeployTarget> {
  const credentials = options.credentials ? { credentials: options.credentials } : {};
  if (config.kind === 'kubernetes') {
    const { openKubernetesTarget } = await import('../targets/kubernetes/kubernetesTarget');
    const place = config.kubernetes;
    const kubeconfig = place?.kubeconfig || options.kubeconfig || '';
    return openKubernetesTarget({
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(place?.context ? { context: place.context } : {}),
      ...(place?.namespace ? { namespace: place.namespace } : {}),
      ...(options.dockerHost ? { dockerHost: options.dockerHost } : {}),
      ...(options.gateway ? { gateway: options.gateway } : {}),
      ...(options.proxyImage ? { proxyImage: options.proxyImage } : {}),
      ...credentials,
    });
  }
  const { openSwarmTarget } = await import('../targets/swarm/swarmTarget');
  return openSwarmTarget({
    ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}),
    ...credentials,
    ...(options.onBadRecord ? { onBadRecord: options.onBadRecord } : {}),
    ...(options.proxyImage ? { proxyImage: options.proxyImage } : {}),
  });
}

export class TargetRegistry {
  private readonly opened = new Map<string, Promise<DeployTarget>>();
  private configs: TargetConfig[] = [];

  constructor(private readonly open: OpenTarget = (config) => openDeployTarget(config)) {}

  /** Replaces the configured targets; targets whose host is unchanged stay open. */
  configure(configs: TargetConfig[]): void {
    this.configs = configs;
    const keep = new Set(configs.map(targetKey));
    for (const key of this.opened.keys()) if (!keep.has(key)) this.opened.delete(key);
  }

  list(): TargetConfig[] {
    return this.configs;
  }

  /** A configured target, or a Kubernetes one looking at another namespace (`ID#NAMESPACE`). */
  find(id: string): TargetConfig | undefined {
    const [base, namespace] = id.split('#');
    const config = this.configs.find((candidate) => candidate.id === base);
    return config && namespace !== undefined && config.kind === 'kubernetes' ? inNamespace(config, namespace) : config;
  }

  /** The opened target; a failed open is forgotten, so the next call tries again. */
  get(config: TargetConfig): Promise<DeployTarget> {
    const key = targetKey(config);
    let target = this.opened.get(key);
    if (!target) {
      target = this.open(config);
      this.opened.set(key, target);
      target.catch(() => {
        if (this.opened.get(key) === target) this.opened.delete(key);
      });
    }
    return target;
  }
}

/** Rejects with a NoAnswerError naming `what` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new NoAnswerError(
            `${what} did not answer within ${Math.round(ms / 1000)} s.`,
            'Check that the engine is running and reachable, then refresh.',
          ),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A deployment, the target it runs on, and that target's config. */
export interface DeploymentKey {
  targetId: string;
  name: string;
}

export function deploymentKey(targetId: string, name: string): string {
  return `${targetId}/${name}`;
}

/** What the tree knows of one target after listing it. */
export interface TargetSnapshot {
  config: TargetConfig;
  /** The target's own words for where it deploys, once it opened. */
  location: string;
  deployments: DeploymentStatus[];
  problem: { kind: 'unreachable' | 'notSwarm' | 'notManager' | 'error'; message: string } | null;
  /** Kubernetes: the namespaces the user may browse (the target's own first). */
  namespaces?: string[];
}
