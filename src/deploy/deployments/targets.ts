// The deploy targets the Deployments view and commands talk to, opened on first use and kept
// until their settings change. The Swarm implementation (and dockerode under it) is loaded only
// when a target is first opened, never at activation.
import { MlopsError } from '../../shared/errors';
import type { RegistryCredentials } from '../registry/registryAuth';
import type { DeployTarget, DeploymentStatus } from '../targets/deployTarget';
import { targetKey, type TargetConfig } from './targetConfig';

export type OpenTarget = (config: TargetConfig) => Promise<DeployTarget>;

/** The helper of the Swarm implementation that reports Docker events (debounced). */
export type WatchEvents = (target: DeployTarget, onChange: () => void, signal: AbortSignal) => unknown;

async function swarmModule() {
  return import('../targets/swarm/swarmTarget');
}

/** Opens Swarm targets whose registry credentials come from `credentials` (SecretStorage, then the Docker config). */
export function swarmOpener(credentials?: (registry: string) => Promise<RegistryCredentials | undefined>): OpenTarget {
  return async (config) => (await swarmModule()).openSwarmTarget({ dockerHost: config.dockerHost || undefined, ...(credentials ? { credentials } : {}) });
}

export const loadSwarmWatcher = async (): Promise<WatchEvents> => (await swarmModule()).watchSwarmEvents as WatchEvents;

export class TargetRegistry {
  private readonly opened = new Map<string, Promise<DeployTarget>>();
  private configs: TargetConfig[] = [];

  constructor(private readonly open: OpenTarget = swarmOpener()) {}

  /** Replaces the configured targets; targets whose host is unchanged stay open. */
  configure(configs: TargetConfig[]): void {
    this.configs = configs;
    const keep = new Set(configs.map(targetKey));
    for (const key of this.opened.keys()) if (!keep.has(key)) this.opened.delete(key);
  }

  list(): TargetConfig[] {
    return this.configs;
  }

  find(id: string): TargetConfig | undefined {
    return this.configs.find((config) => config.id === id);
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

/** Rejects with an MlopsError naming `what` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MlopsError(`${what} did not answer within ${Math.round(ms / 1000)} s.`, 'Check that the engine is running and reachable, then refresh.')), ms);
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
}
