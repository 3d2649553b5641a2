// A model image run as a local container for a back-test: its port published on 127.0.0.1, ready
// once /ping answers, and what GET /version says of the model. Labelled, so a container left by a
// killed process is recognisable; `remove` is called whatever happens.
import type Docker from 'dockerode';
import * as v from 'valibot';
import { MlopsError } from '../../shared/errors';
import { MODEL_PORT } from '../../containerize/image/dockerfile';
import { waitHealthy } from '../../containerize/image/smokeTest';
import { getJson } from './http';

export const BACKTEST_LABEL = 'mlops.backtest';

export interface ModelInfo {
  version: string | null;
  task: string | null;
  classes: string[] | null;
  /** The feature names the model takes, in order; null when it takes any columns. */
  features: string[] | null;
}

export interface ModelContainer {
  base: string;
  healthyAfterMs: number;
  info: ModelInfo;
  remove(): Promise<void>;
}

/** Pulls the image when the engine does not have it (a deployment's image from a registry). */
async function ensureImage(docker: Docker, image: string, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // not local: pull it
  }
  signal?.throwIfAborted();
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    throw new MlopsError(
      `The image ${image} is not on this Docker Engine and could not be pulled: ${(error as Error).message}.`,
      'Build it first, or log in to its registry.',
      { cause: error },
    );
  }
}

export async function startModelContainer(
  docker: Docker,
  image: string,
  role: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ModelContainer> {
  await ensureImage(docker, image, options.signal);
  options.signal?.throwIfAborted();
  const container = await docker.createContainer({
    Image: image,
    Labels: { [BACKTEST_LABEL]: role },
    ExposedPorts: { [`${MODEL_PORT}/tcp`]: {} },
    HostConfig: { PortBindings: { [`${MODEL_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  const remove = () =>
    container.remove({ force: true }).then(
      () => undefined,
      () => undefined,
    );
  try {
    const started = Date.now();
    await container.start();
    const port = (await container.inspect()).NetworkSettings.Ports[`${MODEL_PORT}/tcp`]?.[0]?.HostPort;
    if (!port) throw new MlopsError(`The back-test container of ${image} published no port.`);
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(container, base, options.timeoutMs ?? 90_000, options.signal);
    const healthyAfterMs = Date.now() - started;
    return { base, healthyAfterMs, info: await modelInfo(base, options.signal), remove };
  } catch (error) {
    await remove();
    if (error instanceof MlopsError) throw new MlopsError(`${image}: ${error.message}`, error.remedy, { cause: error });
    throw error;
  }
}

/** What GET /version answers; a field that is missing or of another kind counts as not given. */
const NO_MODEL = { task: null, classes: null, features: [] };
const VersionAnswer = v.fallback(
  v.looseObject({
    version: v.fallback(v.nullable(v.string()), null),
    model: v.fallback(
      v.looseObject({
        task: v.fallback(v.nullable(v.string()), null),
        classes: v.fallback(v.nullable(v.array(v.pipe(v.unknown(), v.transform(String)))), null),
        features: v.fallback(v.array(v.unknown()), []),
      }),
      NO_MODEL,
    ),
  }),
  { version: null, model: NO_MODEL },
);
const FeatureName = v.looseObject({ name: v.string() });

/** GET /version: the model's version, task, classes and features, each null when not given. */
async function modelInfo(base: string, signal?: AbortSignal): Promise<ModelInfo> {
  const answer = await getJson(`${base}/version`, signal).catch(() => undefined);
  const { version, model } = v.parse(VersionAnswer, answer?.status === 200 ? answer.body : {});
  const features = model.features.flatMap((feature) => {
    const parsed = v.safeParse(FeatureName, feature);
    return parsed.success ? [parsed.output.name] : [];
  });
  return { version, task: model.task, classes: model.classes, features: features.length ? features : null };
}
