// The labels that tie services and revision configs to a deployment. They are the only state:
// the history lives on the cluster, so it survives the loss of the workspace.
export const NETWORK = 'mlops';
export const LABEL = {
  deployment: 'mlops.deployment',
  role: 'mlops.role',
  revision: 'mlops.revision',
  stable: 'mlops.stable-revision',
  publishedPort: 'mlops.published-port',
  publishMode: 'mlops.publish-mode',
  /** On a variant's service: the variant's name in the split. */
  variant: 'mlops.variant',
  /** On the router: the split it runs, as a SplitRecord in JSON. */
  split: 'mlops.split',
} as const;

/** The proxy (HAProxy) that holds a deployment's published port and routes its predictions. */
export function routerName(name: string): string {
  return `${name}-router`;
}

/** The Python router beside the proxy, off the request path: /router/*, /feedback, /requests, fan-out. */
export function routerApiName(name: string): string {
  return `${name}-router-api`;
}

/** A Swarm config of the proxy, named by its content (configs are immutable). */
export function proxyConfigName(name: string, file: string, hash: string): string {
  return `mlops-${name}-proxy-${file.replace(/[^a-z0-9]/g, '-')}-${hash}`;
}

export function revisionConfigName(name: string, revision: number): string {
  return `mlops-${name}-rev-${revision}`;
}

/** Service names Swarm and DNS both accept. */
export function checkServiceName(name: string): string | undefined {
  if (!/^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$/.test(name))
    return `'${name}' is not a valid deployment name: use 1–48 lower-case letters, digits and dashes, not starting or ending with a dash.`;
  if (name.endsWith('-router') || name.endsWith('-router-api'))
    return `'${name}' ends with -router or -router-api, which name the router of a deployment.`;
  if (name.includes('--'))
    return `'${name}' has two dashes in a row, which name the variants of a split (NAME--VARIANT).`;
  return undefined;
}
