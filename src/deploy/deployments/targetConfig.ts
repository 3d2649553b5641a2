// Where the Deployments view deploys: the local swarm (the engine of mlops.dockerHost, then
// DOCKER_HOST, then the local socket), the remote swarm managers and the Kubernetes contexts
// listed in mlops.deployTargets. Pure, so the settings' validation is unit-tested.

export interface KubernetesPlace {
  /** Empty for the kubeconfig's current context. */
  context: string;
  /** Empty for the context's namespace. */
  namespace: string;
  /** Empty for mlops.kubeconfig, then KUBECONFIG, then ~/.kube/config. */
  kubeconfig: string;
}

export interface TargetConfig {
  /** Stable within a session: `local`, `remote:NAME`, `kubernetes:NAME`, or one of those with `#NAMESPACE`. */
  id: string;
  /** What the tree and the pickers call it. */
  name: string;
  kind: 'swarm' | 'kubernetes';
  /** Swarm: in DOCKER_HOST syntax; empty means DOCKER_HOST, then the local socket. */
  dockerHost: string;
  local: boolean;
  kubernetes?: KubernetesPlace;
}

export const LOCAL_TARGET_NAME = 'Local swarm';

const HOST_SCHEMES = /^(unix|tcp|ssh|http|https):\/\//;

/**
 * The targets to show: the local swarm first, then each valid entry. Entries that cannot be used
 * (no name, neither a dockerHost of unix://, tcp://, ssh:// or http(s):// nor a kubernetes
 * object, a name used twice) are left out and named in `problems`, for the log.
 */
export function deployTargets(
  localDockerHost: string,
  entries: unknown,
): { targets: TargetConfig[]; problems: string[] } {
  const targets: TargetConfig[] = [
    { id: 'local', name: LOCAL_TARGET_NAME, kind: 'swarm', dockerHost: localDockerHost.trim(), local: true },
  ];
  const problems: string[] = [];
  if (entries === undefined || entries === null) return { targets, problems };
  if (!Array.isArray(entries))
    return {
      targets,
      problems: ['mlops.deployTargets is not a list of {"name", "dockerHost"} or {"name", "kubernetes"} entries'],
    };
  const names = new Set([LOCAL_TARGET_NAME.toLowerCase()]);
  entries.forEach((entry: unknown, index) => {
    const where = `mlops.deployTargets[${index}]`;
    if (typeof entry !== 'object' || entry === null)
      return void problems.push(`${where} is not an object with "name" and "dockerHost" or "kubernetes"`);
    const { name, dockerHost, kubernetes } = entry as { name?: unknown; dockerHost?: unknown; kubernetes?: unknown };
    if (typeof name !== 'string' || !name.trim()) return void problems.push(`${where} has no "name"`);
    if (names.has(name.trim().toLowerCase())) return void problems.push(`${where}: the name "${name}" is used twice`);
    if (kubernetes !== undefined) {
      const place = kubernetesPlace(kubernetes);
      if (typeof place === 'string') return void problems.push(`${where} (${name}): ${place}`);
      names.add(name.trim().toLowerCase());
      return void targets.push({
        id: `kubernetes:${name.trim()}`,
        name: name.trim(),
        kind: 'kubernetes',
        dockerHost: '',
        local: false,
        kubernetes: place,
      });
    }
    if (typeof dockerHost !== 'string' || !HOST_SCHEMES.test(dockerHost.trim())) {
      return void problems.push(
        `${where} (${name}): "dockerHost" must be unix://, tcp:// or ssh:// (got ${JSON.stringify(dockerHost ?? null)})`,
      );
    }
    names.add(name.trim().toLowerCase());
    targets.push({
      id: `remote:${name.trim()}`,
      name: name.trim(),
      kind: 'swarm',
      dockerHost: dockerHost.trim(),
      local: false,
    });
  });
  return { targets, problems };
}

function kubernetesPlace(value: unknown): KubernetesPlace | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return '"kubernetes" must be an object with "context" and "namespace"';
  const fields = value as Record<string, unknown>;
  for (const key of ['context', 'namespace', 'kubeconfig']) {
    if (fields[key] !== undefined && typeof fields[key] !== 'string') return `"kubernetes.${key}" must be text`;
  }
  const text = (key: string) => ((fields[key] as string | undefined) ?? '').trim();
  return { context: text('context'), namespace: text('namespace'), kubeconfig: text('kubeconfig') };
}

/** The same Kubernetes target looking at another namespace (browsing without switching context). */
export function inNamespace(config: TargetConfig, namespace: string): TargetConfig {
  const base = config.id.split('#')[0]!;
  return {
    ...config,
    id: `${base}#${namespace}`,
    kubernetes: { ...(config.kubernetes ?? { context: '', kubeconfig: '' }), namespace },
  };
}

/** The key under which an opened target is cached: it changes when where it points does. */
export function targetKey(config: TargetConfig): string {
  const place = config.kubernetes;
  return place
    ? `${config.id}|${place.kubeconfig}|${place.context}|${place.namespace}`
    : `${config.id}|${config.dockerHost}`;
}
