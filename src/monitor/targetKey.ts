import type { DeployTarget } from '../deploy/targets/deployTarget';

/** The name of a target in monitoring files and the requests table, the same from the CLI and VS Code. */
export function targetKey(target: DeployTarget): string {
  const namespace = (target as { namespace?: string }).namespace;
  return [target.kind, target.location, ...(namespace ? [namespace] : [])].join('/');
}
