// Registry credentials, found where a user keeps them: the extension's SecretStorage first, then
// the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), credential helpers
// included. Passwords never go into messages or logs.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { checkedJson } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { credentialsFromHelper } from './credentialHelper';
import { registryHost } from './imageReference';

export interface RegistryCredentials {
  username: string;
  password: string;
  serveraddress: string;
  /** An OAuth refresh token from `docker login`, used by the engine instead of the password. */
  identitytoken?: string;
}

export interface CredentialSources {
  /** The caller's SecretStorage lookup. */
  fromSecrets?: (registry: string) => Promise<RegistryCredentials | undefined>;
  /** The Docker config file; `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` by default. */
  dockerConfigPath?: string;
  /** For DOCKER_CONFIG, HOME and the PATH the credential helpers are found on. */
  env?: NodeJS.ProcessEnv;
}

interface AuthEntry {
  auth?: unknown;
  identitytoken?: unknown;
  username?: unknown;
  password?: unknown;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

// Custom messages: valibot's default ones quote the value received, which may be a password.
const StoredCredentials = v.object({ username: v.string('not text'), password: v.string('not text') });

/** Credentials that Set Registry Credentials stored in SecretStorage, read back; failures name the registry. */
export function storedCredentials(text: string, registry: string): RegistryCredentials {
  const host = registryHost(registry);
  const { username, password } = checkedJson(
    StoredCredentials,
    text,
    `The credentials stored for ${host}`,
    'a user name and password',
    `Run "MLOps: Set Registry Credentials" for ${host} again.`,
  );
  return { username, password, serveraddress: host };
}

const DOCKER_HUB = 'index.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** The key `docker login` uses for Docker Hub. */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export async function credentialsFor(
  registry: string,
  options: CredentialSources = {},
): Promise<RegistryCredentials | undefined> {
  const fromSecrets = await options.fromSecrets?.(registry);
  if (fromSecrets) return fromSecrets;
  const env = options.env ?? process.env;
  const file = options.dockerConfigPath ?? defaultDockerConfigPath(env);
  const config = await readDockerConfig(file);
  if (!config) return undefined;
  const host = registryHostname(registry);
  const serveraddress = host === DOCKER_HUB ? DOCKER_HUB_SERVER : host;
  // Docker's precedence: a helper for this registry, then the default store, then the file itself.
  const helper = valueForRegistry(config.credHelpers, host) ?? config.credsStore;
  if (typeof helper === 'string' && helper) {
    const found = await credentialsFromHelper(helper, serveraddress, env, file);
    // Helpers return "<token>" as the user name when the secret is an identity token.
    if (found)
      return found.username === '<token>'
        ? { username: '', password: '', serveraddress, identitytoken: found.secret }
        : { username: found.username, password: found.secret, serveraddress };
  }
  const entry = valueForRegistry(config.auths, host);
  return entry ? credentialsFromEntry(entry, serveraddress, file) : undefined;
}

function defaultDockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

async function readDockerConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MlopsError(`The Docker config ${file} could not be read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, which may be a password: say only where.
    throw new MlopsError(
      `The Docker config ${file} is not valid JSON.`,
      'Correct it, or move it away and run docker login again.',
    );
  }
  if (!isRecord(value))
    throw new MlopsError(
      `The Docker config ${file} is not a JSON object.`,
      'Correct it, or move it away and run docker login again.',
    );
  return {
    // Entries of another shape are passed over, as Docker itself does not use them.
    ...(isRecord(value.auths) ? { auths: entriesWhere(value.auths, isRecord) } : {}),
    ...(isRecord(value.credHelpers)
      ? { credHelpers: entriesWhere(value.credHelpers, (helper) => typeof helper === 'string') }
      : {}),
    ...(typeof value.credsStore === 'string' && value.credsStore ? { credsStore: value.credsStore } : {}),
  };
}

function credentialsFromEntry(entry: AuthEntry, serveraddress: string, file: string): RegistryCredentials | undefined {
  const identitytoken =
    typeof entry.identitytoken === 'string' && entry.identitytoken ? entry.identitytoken : undefined;
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = decodeAuth(entry.auth);
    if (!decoded)
      throw new MlopsError(
        `The "auth" of ${serveraddress} in ${file} is not base64 of user:password.`,
        `Run docker login ${serveraddress} again.`,
      );
    ({ username, password } = decoded);
  }
  if (identitytoken) return { username, password: '', serveraddress, identitytoken };
  // `credsStore` users have `{}` placeholders here: no credentials.
  return username || password ? { username, password, serveraddress } : undefined;
}

/** The host[:port] a Docker config key or registry names (`https://host:port/v1/` gives `host:port`), with Docker Hub's aliases as one. */
export function registryHostname(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The value whose key names the registry: the exact key first, then any that means the same host. */
export function valueForRegistry<T>(record: Record<string, T> | undefined, registry: string): T | undefined {
  if (!record) return undefined;
  if (Object.hasOwn(record, registry)) return record[registry];
  const host = registryHostname(registry);
  const key = Object.keys(record).find((candidate) => registryHostname(candidate) === host);
  return key === undefined ? undefined : record[key];
}

/** `base64(user:password)` as in config.json's `auth`; undefined when it is not that. */
export function decodeAuth(auth: string): { username: string; password: string } | undefined {
  const compact = auth.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const text = Buffer.from(compact, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The entries of `record` whose values pass `keep`. */
function entriesWhere<T>(record: Record<string, unknown>, keep: (value: unknown) => value is T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, T] => keep(entry[1])));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
