// Where the Deployments view deploys: the local swarm (the engine of mlops.dockerHost, then
// DOCKER_HOST, then the local socket) and the remote managers listed in mlops.deployTargets.
// Pure, so the settings' validation is unit-tested.

export interface TargetConfig {
  /** Stable within a session: `local`, or `remote:NAME`. */
  id: string;
  /** What the tree and the pickers call it. */
  name: string;
  /** In DOCKER_HOST syntax; empty means DOCKER_HOST, then the local socket. */
  dockerHost: string;
  local: boolean;
}

export const LOCAL_TARGET_NAME = 'Local swarm';

const HOST_SCHEMES = /^(unix|tcp|ssh|http|https):\/\//;

/**
 * The targets to show: the local one first, then each valid remote entry. Entries that cannot be
 * used (no name, a host that is not unix://, tcp://, ssh:// or http(s)://, a name used twice) are
 * left out and named in `problems`, for the log.
 */
export function deployTargets(localDockerHost: string, remote: unknown): { targets: TargetConfig[]; problems: string[] } {
  const targets: TargetConfig[] = [{ id: 'local', name: LOCAL_TARGET_NAME, dockerHost: localDockerHost.trim(), local: true }];
  const problems: string[] = [];
  if (remote === undefined || remote === null) return { targets, problems };
  if (!Array.isArray(remote)) return { targets, problems: ['mlops.deployTargets is not a list of {"name", "dockerHost"} entries'] };
  const names = new Set([LOCAL_TARGET_NAME.toLowerCase()]);
  remote.forEach((entry: unknown, index) => {
    const where = `mlops.deployTargets[${index}]`;
    if (typeof entry !== 'object' || entry === null) return void problems.push(`${where} is not an object with "name" and "dockerHost"`);
    const { name, dockerHost } = entry as { name?: unknown; dockerHost?: unknown };
    if (typeof name !== 'string' || !name.trim()) return void problems.push(`${where} has no "name"`);
    if (typeof dockerHost !== 'string' || !HOST_SCHEMES.test(dockerHost.trim())) {
      return void problems.push(`${where} (${name}): "dockerHost" must be unix://, tcp:// or ssh:// (got ${JSON.stringify(dockerHost ?? null)})`);
    }
    if (names.has(name.trim().toLowerCase())) return void problems.push(`${where}: the name "${name}" is used twice`);
    names.add(name.trim().toLowerCase());
    targets.push({ id: `remote:${name.trim()}`, name: name.trim(), dockerHost: dockerHost.trim(), local: false });
  });
  return { targets, problems };
}

/** The key under which an opened target is cached: it changes when the host does. */
export function targetKey(config: TargetConfig): string {
  return `${config.id}|${config.dockerHost}`;
}
