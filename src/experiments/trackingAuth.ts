// The credentials a tracking server gets, and no other server: MLflow's variables
// (MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and _PASSWORD) go to the server
// MLFLOW_TRACKING_URI names, or to the one asked for when it names none; a token kept in
// SecretStorage goes to the origin it was set for; user info in the URL goes to that URL.
import { MlopsError } from '../shared/errors';
import { hostSecret, secretOrigin, type SecretStore } from '../shared/hostSecrets';

export interface TrackingCredentials {
  token?: string;
  username?: string;
  password?: string;
}

const isHttp = (uri: string | undefined): uri is string => /^https?:\/\//i.test(uri?.trim() ?? '');

/** Credentials for the tracking server at `uri`; none for a local store. */
export async function trackingCredentials(
  uri: string,
  sources: { env: NodeJS.ProcessEnv; secrets?: Pick<SecretStore, 'get'> },
): Promise<TrackingCredentials> {
  if (!isHttp(uri)) return {};
  const { env } = sources;
  const envServer = env.MLFLOW_TRACKING_URI;
  const envMeantHere = !isHttp(envServer) || secretOrigin(envServer) === secretOrigin(uri);
  if (envMeantHere && env.MLFLOW_TRACKING_TOKEN) return { token: env.MLFLOW_TRACKING_TOKEN };
  if (envMeantHere && env.MLFLOW_TRACKING_USERNAME)
    return { username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD ?? '' };
  const token = sources.secrets ? await hostSecret(sources.secrets, 'trackingToken', uri) : undefined;
  return token ? { token } : {};
}

/**
 * A server URL without its user info, and the request headers' Authorization: the given
 * credentials, else the URL's user info as basic auth (as MLflow's client takes it).
 */
export function serverRequest(url: string, credentials: TrackingCredentials): { base: URL; authorization?: string } {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new MlopsError(
      `The tracking URI '${url}' is not a valid URL.`,
      'Give the server root, e.g. http://localhost:5000.',
    );
  }
  const fromUrl: TrackingCredentials = base.username
    ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
    : {};
  base.username = '';
  base.password = '';
  const { token, username, password } = credentials.token || credentials.username ? credentials : fromUrl;
  if (token) return { base, authorization: `Bearer ${token}` };
  if (username)
    return { base, authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` };
  return { base };
}
