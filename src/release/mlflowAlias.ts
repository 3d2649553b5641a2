// Moving a registered model's alias (`champion`) to the version a promotion put in production,
// through the tracking server's REST API, so that MLflow's registry and the cluster agree.
import { serverRequest, type TrackingCredentials } from '../experiments/trackingAuth';
import { MlopsError } from '../shared/errors';

export interface RegisteredVersion {
  name: string;
  version: string;
}

export interface AliasMove extends RegisteredVersion {
  alias: string;
  /** The version the alias named before, or null when it named none. */
  previous: string | null;
}

export interface TrackingServer extends TrackingCredentials {
  /** http(s)://host:port of `mlflow server`. */
  url: string;
  timeoutMs?: number;
}

/**
 * The registered version an image was built from, by its labels: `mlops.mlflow.model_uri` when it
 * is models:/NAME/VERSION or models:/NAME@ALIAS, otherwise the version registered from the run in
 * `mlops.mlflow.run_id`. Null when the image came from neither.
 */
export async function registeredVersionOf(server: TrackingServer, labels: Record<string, string>): Promise<RegisteredVersion | null> {
  const uri = labels['mlops.mlflow.model_uri'] ?? '';
  const byVersion = /^models:\/([^/@]+)\/(\d+)$/.exec(uri);
  if (byVersion) return { name: decodeURIComponent(byVersion[1]), version: byVersion[2] };
  const byAlias = /^models:\/([^/@]+)@(.+)$/.exec(uri);
  if (byAlias) {
    const name = decodeURIComponent(byAlias[1]);
    const answer = await call<{ model_version?: { version: string } }>(server, 'GET', 'registered-models/alias', { query: { name, alias: byAlias[2] } });
    return answer.model_version ? { name, version: answer.model_version.version } : null;
  }
  const runId = labels['mlops.mlflow.run_id'];
  if (!runId || !/^[0-9a-f]{8,64}$/i.test(runId)) return null;
  const found = await call<{ model_versions?: { name: string; version: string }[] }>(server, 'GET', 'model-versions/search', {
    query: { filter: `run_id='${runId}'`, max_results: '10' },
  });
  const versions = found.model_versions ?? [];
  if (versions.length > 1) {
    throw new MlopsError(`The run ${runId} is registered as ${versions.length} model versions (${versions.map((v) => `${v.name} ${v.version}`).join(', ')}): which alias to move is ambiguous.`);
  }
  return versions[0] ? { name: versions[0].name, version: versions[0].version } : null;
}

/** Points `alias` of the registered model at `version`; returns what it named before. */
export async function moveAlias(server: TrackingServer, target: RegisteredVersion, alias: string): Promise<AliasMove> {
  if (!/^[A-Za-z0-9_-]+$/.test(alias) || /^(latest|v\d+)$/i.test(alias)) {
    throw new MlopsError(`'${alias}' cannot be an MLflow alias: use letters, digits, '_' or '-', and not 'latest' or v<number>.`);
  }
  const model = await call<{ registered_model?: { aliases?: { alias: string; version: string }[] } }>(server, 'GET', 'registered-models/get', { query: { name: target.name } });
  const previous = model.registered_model?.aliases?.find((a) => a.alias === alias)?.version ?? null;
  await call(server, 'POST', 'registered-models/alias', { body: { name: target.name, alias, version: target.version } });
  return { ...target, alias, previous };
}

async function call<T>(server: TrackingServer, method: 'GET' | 'POST', endpoint: string, request: { query?: Record<string, string>; body?: unknown }): Promise<T> {
  const { base, authorization } = serverRequest(server.url.endsWith('/') ? server.url : `${server.url}/`, server);
  const url = new URL(`api/2.0/mlflow/${endpoint}`, base);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (authorization) headers.authorization = authorization;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(server.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new MlopsError(`The MLflow tracking server ${server.url} cannot be reached: ${(error as Error).message}.`, 'Check mlops.trackingUri and that `mlflow server` runs.', { cause: error });
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: the text itself says it
    }
    throw new MlopsError(`MLflow ${method} ${endpoint} answered ${response.status}: ${message}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}
