// Moving a registered model's alias (`champion`) to the version a promotion put in production,
// through the tracking server's REST API, so that MLflow's registry and the cluster agree.
import * as v from 'valibot';
import { serverRequest, type TrackingCredentials } from '../experiments/trackingAuth';
import { MlopsError } from '../shared/errors';
import { redactUserInfo } from '../shared/redact';

// MLflow's answers, checked loosely: extra fields pass, what MLflow leaves out is optional.
const versionRef = v.looseObject({ name: v.string(), version: v.string() });
const aliasAnswer = v.looseObject({ model_version: v.optional(v.looseObject({ version: v.string() })) });
const versionsAnswer = v.looseObject({ model_versions: v.optional(v.array(versionRef)) });
const modelAnswer = v.looseObject({
  registered_model: v.optional(
    v.looseObject({ aliases: v.optional(v.array(v.looseObject({ alias: v.string(), version: v.string() }))) }),
  ),
});
const anyAnswer = v.unknown();
const errorAnswer = v.looseObject({ message: v.optional(v.string()) });

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
export async function registeredVersionOf(
  server: TrackingServer,
  labels: Record<string, string>,
): Promise<RegisteredVersion | null> {
  const uri = labels['mlops.mlflow.model_uri'] ?? '';
  const byVersion = /^models:\/([^/@]+)\/(\d+)$/.exec(uri);
  if (byVersion) return { name: decodeURIComponent(byVersion[1]), version: byVersion[2] };
  const byAlias = /^models:\/([^/@]+)@(.+)$/.exec(uri);
  if (byAlias) {
    const name = decodeURIComponent(byAlias[1]);
    const answer = await call(
      server,
      'GET',
      'registered-models/alias',
      { query: { name, alias: byAlias[2] } },
      aliasAnswer,
    );
    return answer.model_version ? { name, version: answer.model_version.version } : null;
  }
  const runId = labels['mlops.mlflow.run_id'];
  if (!runId || !/^[0-9a-f]{8,64}$/i.test(runId)) return null;
  const found = await call(
    server,
    'GET',
    'model-versions/search',
    { query: { filter: `run_id='${runId}'`, max_results: '10' } },
    versionsAnswer,
  );
  const versions = found.model_versions ?? [];
  if (versions.length > 1) {
    throw new MlopsError(
      `The run ${runId} is registered as ${versions.length} model versions (${versions.map((v) => `${v.name} ${v.version}`).join(', ')}): which alias to move is ambiguous.`,
    );
  }
  return versions[0] ? { name: versions[0].name, version: versions[0].version } : null;
}

/** Points `alias` of the registered model at `version`; returns what it named before. */
export async function moveAlias(server: TrackingServer, target: RegisteredVersion, alias: string): Promise<AliasMove> {
  if (!/^[A-Za-z0-9_-]+$/.test(alias) || /^(latest|v\d+)$/i.test(alias)) {
    throw new MlopsError(
      `'${alias}' cannot be an MLflow alias: use letters, digits, '_' or '-', and not 'latest' or v<number>.`,
    );
  }
  const model = await call(server, 'GET', 'registered-models/get', { query: { name: target.name } }, modelAnswer);
  const previous = model.registered_model?.aliases?.find((a) => a.alias === alias)?.version ?? null;
  await call(
    server,
    'POST',
    'registered-models/alias',
    { body: { name: target.name, alias, version: target.version } },
    anyAnswer,
  );
  return { ...target, alias, previous };
}

async function call<T>(
  server: TrackingServer,
  method: 'GET' | 'POST',
  endpoint: string,
  request: { query?: Record<string, string>; body?: unknown },
  schema: v.GenericSchema<unknown, T>,
): Promise<T> {
  const shown = redactUserInfo(server.url);
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
    const cause =
      error instanceof Error && error.cause instanceof Error
        ? `${error.message}: ${error.cause.message}`
        : String(error instanceof Error ? error.message : error);
    throw new MlopsError(
      `The MLflow tracking server ${shown} cannot be reached: ${cause}.`,
      'Check mlops.trackingUri and that `mlflow server` runs.',
      { cause: error },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 300);
    try {
      const parsed = v.safeParse(errorAnswer, JSON.parse(text));
      if (parsed.success && parsed.output.message) message = parsed.output.message;
    } catch {
      // not JSON: the text itself says it
    }
    throw new MlopsError(
      `MLflow ${method} ${endpoint} answered ${response.status} (the tracking server at ${shown}): ${message}`,
    );
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new MlopsError(
      `The tracking server at ${shown} answered ${endpoint} with something that is not JSON: ${text.slice(0, 120)}`,
      'Check that mlops.trackingUri points at `mlflow server`.',
    );
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? '(answer)'}: ${issue.message}`).join('; ');
    throw new MlopsError(
      `The tracking server at ${shown} gave an answer to ${endpoint} that is not MLflow's: ${issues}`,
      'Check that mlops.trackingUri points at `mlflow server`.',
    );
  }
  return parsed.output;
}
