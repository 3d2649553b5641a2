// Secrets for a server (the tracking server's token, Grafana's) are kept per origin, as registry
// credentials are per host: a token set for https://a is never sent to https://b, whatever URL a
// workspace's settings hold. The store is VS Code's SecretStorage in the extension.
import { MlopsError } from './errors';
import type { Logger } from './logger';
import { redactUserInfo } from './redact';

export type HostSecretKind = 'trackingToken' | 'grafanaToken';

/** What the extension's SecretStorage offers. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The origin a secret belongs to: scheme, host and port of an http(s) URL, without user info or path. */
export function secretOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new MlopsError(`'${redactUserInfo(url)}' is not a URL.`, 'Give an http:// or https:// address.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new MlopsError(`'${redactUserInfo(url)}' is not an http(s) URL.`, 'Give an http:// or https:// address.');
  return parsed.origin;
}

/** The SecretStorage key of a kind of secret for the server at `url`: `mlops.trackingToken:https://a:8443`. */
export function hostSecretKey(kind: HostSecretKind, url: string): string {
  return `mlops.${kind}:${secretOrigin(url)}`;
}

/** The secret of this kind kept for the origin of `url`, if any. */
export async function hostSecret(
  secrets: Pick<SecretStore, 'get'>,
  kind: HostSecretKind,
  url: string,
): Promise<string | undefined> {
  return (await secrets.get(hostSecretKey(kind, url))) || undefined;
}

/** Keeps `value` for the origin of `url`, or forgets it when `value` is empty; returns the origin. */
export async function setHostSecret(
  secrets: SecretStore,
  kind: HostSecretKind,
  url: string,
  value: string,
): Promise<string> {
  const key = hostSecretKey(kind, url);
  if (value) await secrets.store(key, value);
  else await secrets.delete(key);
  return secretOrigin(url);
}

/**
 * A secret kept before secrets were per host (under the bare key `mlops.<kind>`) is moved to the
 * host the user's own settings name (`userUrl`: user settings or the environment, never a
 * workspace's), or removed when there is none: which server it was meant for is unknown.
 */
export async function migrateUnkeyedSecret(
  secrets: SecretStore,
  kind: HostSecretKind,
  userUrl: string | undefined,
  log: Logger,
): Promise<void> {
  const legacyKey = `mlops.${kind}`;
  const legacy = await secrets.get(legacyKey);
  if (legacy === undefined) return;
  let origin: string | undefined;
  try {
    origin = userUrl?.trim() ? secretOrigin(userUrl) : undefined;
  } catch {
    origin = undefined;
  }
  if (legacy && origin && (await secrets.get(hostSecretKey(kind, origin)))) {
    log.info(`secrets: the ${describeKind(kind)} stored without a host was removed; ${origin} has a token of its own.`);
  } else if (legacy && origin) {
    await secrets.store(hostSecretKey(kind, origin), legacy);
    log.info(
      `secrets: the ${describeKind(kind)} stored without a host is now kept for ${origin}, the server your user settings name.`,
    );
  } else if (legacy) {
    log.warn(
      `secrets: the ${describeKind(kind)} stored without a host was removed: which server it belongs to is unknown. Set it again for its server with "${setCommand(kind)}".`,
    );
  }
  await secrets.delete(legacyKey);
}

function describeKind(kind: HostSecretKind): string {
  return kind === 'trackingToken' ? 'MLflow tracking server token' : 'Grafana token';
}

function setCommand(kind: HostSecretKind): string {
  return kind === 'trackingToken' ? 'MLOps: Set Tracking Server Token' : 'MLOps: Set Grafana Token';
}
