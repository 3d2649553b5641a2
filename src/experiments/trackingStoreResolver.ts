// The one rule for which MLflow tracking store to read and what credentials go with it, for the
// extension and the command line alike: a command-line flag, then the mlops.trackingUri setting,
// then MLFLOW_TRACKING_URI, then an mlflow.db or mlruns/ found in the workspace.
import type { SecretStore } from '../shared/hostSecrets';
import type { TrackingStore } from './model';
import { findStores, openStore, parseTrackingUri } from './storeLocator';
import { trackingCredentials, type TrackingCredentials } from './trackingAuth';

export interface TrackingSources {
  /** A command-line flag (`--tracking-uri`, `--mlflow`); the extension has none. */
  flag?: string;
  /** The mlops.trackingUri setting; the command line has none. */
  setting?: string;
  /** MLFLOW_TRACKING_URI, and MLflow's credential variables for its server. */
  env: NodeJS.ProcessEnv;
  /** Where mlflow.db or mlruns/ are looked for, and what a relative path is relative to. */
  workspaceRoot?: string;
  /** VS Code's SecretStorage, where a token is kept per server origin. */
  secrets?: Pick<SecretStore, 'get'>;
}

export interface LocatedStore {
  uri: string;
  source: 'command line' | 'setting' | 'MLFLOW_TRACKING_URI' | 'workspace';
}

export interface ResolvedTrackingStore extends LocatedStore {
  /** What relative paths in `uri` are relative to. */
  base: string;
  /** For a tracking server only: MLflow's variables when meant for it, else its origin's kept token. */
  credentials: TrackingCredentials;
}

/** A tracking server's URL and the credentials it gets. */
/** Resolves the tracking store anew (the extension's one rule), for areas that need it now and then. */
export type ResolveTrackingStore = () => Promise<ResolvedTrackingStore | undefined>;

export interface TrackingServerAccess extends TrackingCredentials {
  url: string;
}

const isHttp = (uri: string): boolean => /^https?:\/\//i.test(uri);

/** The store the sources name, in their order of precedence, without its credentials. */
export function locateTrackingStore(sources: TrackingSources): LocatedStore | undefined {
  const given: [string | undefined, LocatedStore['source']][] = [
    [sources.flag, 'command line'],
    [sources.setting, 'setting'],
    [sources.env.MLFLOW_TRACKING_URI, 'MLFLOW_TRACKING_URI'],
  ];
  for (const [uri, source] of given) if (uri?.trim()) return { uri: uri.trim(), source };
  if (!sources.workspaceRoot) return undefined;
  const [nearest] = findStores(sources.workspaceRoot);
  return nearest ? { uri: nearest, source: 'workspace' } : undefined;
}

/** The store the sources name (or `located`, found from them before) and its credentials; undefined for none. */
export async function resolveTrackingStore(
  sources: TrackingSources,
  located = locateTrackingStore(sources),
): Promise<ResolvedTrackingStore | undefined> {
  if (!located) return undefined;
  const credentials = await trackingCredentials(located.uri, { env: sources.env, secrets: sources.secrets });
  return { ...located, base: sources.workspaceRoot ?? process.cwd(), credentials };
}

/** The tracking server of a resolved store with its credentials, or undefined for a local store. */
export function trackingServer(resolved: ResolvedTrackingStore | undefined): TrackingServerAccess | undefined {
  return resolved && isHttp(resolved.uri) ? { url: resolved.uri, ...resolved.credentials } : undefined;
}

/** Opens a resolved store: a local file or database, or a tracking server with its credentials. */
export function openTrackingStore(
  resolved: ResolvedTrackingStore,
  options: { timeoutMs?: number } = {},
): TrackingStore {
  return openStore(resolved.uri, {
    base: resolved.base,
    rest: { ...resolved.credentials, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
  });
}

/**
 * The tracking URI MLflow's own client takes for a resolved store: a local store as an absolute
 * path; a server, or a store only MLflow reads (postgresql://, databricks), as it is.
 */
export function mlflowClientUri(resolved: Pick<ResolvedTrackingStore, 'uri' | 'base'>): string {
  if (/^[a-z][\w+.-]*:/i.test(resolved.uri) && !/^(sqlite|file):/i.test(resolved.uri)) return resolved.uri;
  const { kind, location } = parseTrackingUri(resolved.uri, resolved.base);
  return kind === 'sqlite' ? `sqlite:///${location}` : location;
}

const MLFLOW_CREDENTIAL_VARIABLES = ['MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD'];

/**
 * The environment of MLflow's own client for a tracking server: MLflow's credential variables
 * are the server's resolved credentials, so a token meant for another server never reaches it.
 * For a local store, the environment as it is.
 */
export function mlflowClientEnv(
  uri: string,
  credentials: TrackingCredentials,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  if (!isHttp(uri)) return env;
  const client = Object.fromEntries(
    Object.entries(env).filter(([name]) => !MLFLOW_CREDENTIAL_VARIABLES.includes(name)),
  );
  if (credentials.token) client.MLFLOW_TRACKING_TOKEN = credentials.token;
  if (credentials.username) {
    client.MLFLOW_TRACKING_USERNAME = credentials.username;
    client.MLFLOW_TRACKING_PASSWORD = credentials.password ?? '';
  }
  return client;
}
