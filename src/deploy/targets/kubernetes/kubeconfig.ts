// Which cluster a Kubernetes target talks to: the kubeconfig files (mlops.kubeconfig, then
// KUBECONFIG, which may list several files, then ~/.kube/config), one of their contexts and a
// namespace. Each failure names the file or the context at fault. Every request the client makes
// must be answered within the remote timeout (30 s).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { MlopsError } from '../../../shared/errors';
import { remoteTimeoutMs } from '../../../shared/remoteTimeout';
import { kubernetesClient, timedKubeConfig } from './client';

export interface ClusterChoice {
  /** One path, or several joined with the path delimiter as in KUBECONFIG; empty for the default. */
  kubeconfig?: string;
  /** Empty for the kubeconfig's current context. */
  context?: string;
  /** Empty for the context's namespace, then `default`. */
  namespace?: string;
  /** How long each request may wait for its answer (the remote timeout, 30 s, by default). */
  timeoutMs?: number;
}

export interface Cluster {
  config: KubeConfig;
  files: string[];
  context: string;
  namespace: string;
  server: string;
  user: string;
  timeoutMs: number;
}

/** The kubeconfig files in the order kubectl merges them (the first file's values win). */
export function kubeconfigFiles(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (kubeconfig?.trim() || env.KUBECONFIG || '')
    .split(delimiter)
    .map((file) => file.trim())
    .filter(Boolean);
  return list.length ? list : [join(homedir(), '.kube', 'config')];
}

/** A file of nothing but blanks and comments (kubectl passes over one in a list). */
function blank(file: string): boolean {
  return readFileSync(file, 'utf8')
    .split('\n')
    .every((line) => /^\s*(#.*)?$/.test(line) || line.trim() === '---');
}

const KUBECONFIG_REMEDY =
  'A kubeconfig needs a cluster (its server), a user (its credentials) and a context that joins them: get one from your cluster (kubectl config view --raw --minify where kubectl reaches it), or point mlops.kubeconfig or KUBECONFIG at another file.';

/** Loads and merges the kubeconfig files; a missing, unreadable or empty file is named, as is what it lacks. */
export async function loadKubeConfig(
  kubeconfig?: string,
  timeoutMs = remoteTimeoutMs(),
): Promise<{ config: KubeConfig; files: string[] }> {
  const k8s = await kubernetesClient();
  const files = kubeconfigFiles(kubeconfig);
  const present = files.filter((file) => existsSync(file));
  if (!present.length) {
    throw new MlopsError(
      `No kubeconfig was found (looked for ${files.join(', ')}).`,
      'Set mlops.kubeconfig or KUBECONFIG to the file your cluster gave you.',
    );
  }
  const merged = timedKubeConfig(k8s, timeoutMs);
  const loaded: string[] = [];
  for (const file of present) {
    const config = new k8s.KubeConfig();
    try {
      if (blank(file)) continue;
      config.loadFromFile(file);
    } catch (error) {
      throw new MlopsError(
        `The kubeconfig ${file} cannot be read: ${firstLine(error)}`,
        'Fix the file (kubectl config view shows what kubectl makes of it).',
        { cause: error },
      );
    }
    if (!loaded.length)
      merged.loadFromOptions({
        clusters: config.clusters,
        users: config.users,
        contexts: config.contexts,
        currentContext: config.currentContext,
      });
    else mergeInto(merged, config);
    loaded.push(file);
  }
  if (!loaded.length)
    throw new MlopsError(
      present.length === 1
        ? `The kubeconfig ${present[0]} is empty: it defines no context, no cluster and no user.`
        : `The kubeconfig files ${present.join(', ')} are empty: they define no context, no cluster and no user.`,
      KUBECONFIG_REMEDY,
    );
  return { config: merged, files: present };
}

/** What a kubeconfig lacks of contexts, clusters and users: "no context and no user"; empty when it has each. */
function lacking(config: KubeConfig): string {
  const missing = (
    [
      ['context', config.contexts],
      ['cluster', config.clusters],
      ['user', config.users],
    ] as const
  )
    .filter(([, items]) => !items.length)
    .map(([name]) => `no ${name}`);
  return missing.length < 2 ? (missing[0] ?? '') : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
}

/** kubectl's merge: entries already defined by an earlier file win; the current context comes from the first file that sets one. */
function mergeInto(target: KubeConfig, extra: KubeConfig): void {
  const missing = <T extends { name: string }>(have: T[], more: T[]) =>
    more.filter((item) => !have.some((existing) => existing.name === item.name));
  target.loadFromOptions({
    clusters: [...target.clusters, ...missing(target.clusters, extra.clusters)],
    users: [...target.users, ...missing(target.users, extra.users)],
    contexts: [...target.contexts, ...missing(target.contexts, extra.contexts)],
    currentContext: target.currentContext || extra.currentContext,
  });
}

/** The contexts of the kubeconfig, with their cluster's server and namespace, for the pickers. */
export async function listContexts(
  kubeconfig?: string,
): Promise<{ name: string; server: string; namespace: string; current: boolean }[]> {
  const { config } = await loadKubeConfig(kubeconfig);
  return config.contexts.map((context) => ({
    name: context.name,
    server: config.clusters.find((cluster) => cluster.name === context.cluster)?.server ?? '',
    namespace: context.namespace ?? 'default',
    current: context.name === config.currentContext,
  }));
}

/** A client configuration set to the chosen context, with the namespace it deploys to. */
export async function openCluster(choice: ClusterChoice = {}): Promise<Cluster> {
  const timeoutMs = choice.timeoutMs ?? remoteTimeoutMs();
  const { config, files } = await loadKubeConfig(choice.kubeconfig, timeoutMs);
  const name = choice.context?.trim() || config.currentContext;
  const known = config.contexts.map((context) => context.name);
  const empty = known.length ? '' : lacking(config);
  if (!name && empty) throw new MlopsError(`The kubeconfig ${files.join(', ')} defines ${empty}.`, KUBECONFIG_REMEDY);
  if (!name)
    throw new MlopsError(
      `The kubeconfig ${files.join(', ')} sets no current context.`,
      `Pick one of: ${known.join(', ')}.`,
    );
  const context = config.contexts.find((candidate) => candidate.name === name);
  if (!context)
    throw new MlopsError(
      `The kubeconfig ${files.join(', ')} has no context "${name}"${empty ? `: it defines ${empty}` : ''}.`,
      empty ? KUBECONFIG_REMEDY : `Its contexts are: ${known.join(', ')}.`,
    );
  const cluster = config.clusters.find((candidate) => candidate.name === context.cluster);
  if (!cluster)
    throw new MlopsError(
      `The context "${name}" names the cluster "${context.cluster}", which ${files.join(', ')} does not define.`,
    );
  const user = config.users.find((candidate) => candidate.name === context.user);
  if (!user)
    throw new MlopsError(
      `The context "${name}" names the user "${context.user}", which ${files.join(', ')} does not define.`,
    );
  // The client would otherwise fail each request with a bare ENOENT, as if the server were down.
  const referenced: [string, string | undefined][] = [
    [`certificate-authority of the cluster "${cluster.name}"`, cluster.caFile],
    [`client-certificate of the user "${user.name}"`, user.certFile],
    [`client-key of the user "${user.name}"`, user.keyFile],
  ];
  for (const [field, file] of referenced) {
    if (file && !existsSync(file))
      throw new MlopsError(
        `The ${field} in ${files.join(', ')} is ${file}, which does not exist.`,
        'Correct the path in the kubeconfig, or get a fresh kubeconfig from your cluster.',
      );
  }
  config.setCurrentContext(name);
  return {
    config,
    files,
    context: name,
    namespace: choice.namespace?.trim() || context.namespace || 'default',
    server: cluster.server,
    user: context.user,
    timeoutMs,
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
