// Pushes a local image to a registry under its own repository and tag, following the engine's
// progress, and returns the digest the registry keeps it under. Deploys name that digest, so a
// revision always runs exactly the image that was pushed.
import type Docker from 'dockerode';
import { MlopsError } from '../../shared/errors';
import { registryHost, registryReference } from './imageReference';
import { pushFailure, type PushContext } from './pushErrors';
import type { RegistryCredentials } from './registryAuth';

export { registryReference } from './imageReference';

export interface PushOptions {
  credentials?: RegistryCredentials;
  signal?: AbortSignal;
  /** Layer progress; fraction is 0..1 over all layers when the engine has said how many. */
  onProgress?(message: string, fraction?: number): void;
}

export interface PushedImage {
  /** `127.0.0.1:5000/mlops/churn:abc` */
  reference: string;
  /** `127.0.0.1:5000/mlops/churn@sha256:<64 hex>`, the manifest digest the registry serves. */
  digest: string;
}

interface PushMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

const LAYER_DONE = /^(Pushed|Layer already exists|Mounted from )/;

export async function pushImage(
  docker: Docker,
  image: string,
  registry: string,
  options: PushOptions = {},
): Promise<PushedImage> {
  const reference = registryReference(image, registry);
  const context: PushContext = {
    reference,
    host: registryHost(registry),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const name = reference.slice(0, reference.lastIndexOf(':'));
  const tag = reference.slice(name.length + 1);
  if (options.signal?.aborted) throw cancelled(reference);
  await assertLocalImage(docker, image);
  if (reference !== image) await docker.getImage(image).tag({ repo: name, tag });
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.getImage(name).push({
      tag,
      ...(options.credentials ? { authconfig: authConfig(options.credentials) } : {}),
      ...(options.signal ? { abortSignal: options.signal } : {}),
    });
  } catch (error) {
    throw options.signal?.aborted ? cancelled(reference) : pushFailure((error as Error).message, context);
  }
  const digest = (await followPush(docker, stream, context, options)) ?? (await repoDigest(docker, reference, name));
  return { reference, digest: `${name}@${digest}` };
}

async function assertLocalImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new MlopsError(
        `No image ${image} in the engine.`,
        'Build it first (MLOps: Containerise Notebook), or check the name with docker images.',
      );
    }
    throw new MlopsError(`The Docker Engine could not look up ${image}: ${(error as Error).message}`);
  }
}

function authConfig(credentials: RegistryCredentials): Docker.AuthConfig {
  const { username, password, serveraddress, identitytoken } = credentials;
  return identitytoken ? { username, serveraddress, identitytoken } : { username, password, serveraddress };
}

/** Resolves with the digest from the engine's final `aux` message, when it sends one. */
function followPush(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  context: PushContext,
  options: PushOptions,
): Promise<string | undefined> {
  const { signal, onProgress } = options;
  const layers = new Map<string, number>();
  let digest: string | undefined;
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    const abort = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(cancelled(context.reference));
    };
    signal?.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        signal?.removeEventListener('abort', abort);
        if (signal?.aborted) return;
        const message = error?.message ?? failure;
        if (message) reject(pushFailure(message, context));
        else resolve(digest);
      },
      (message: PushMessage) => {
        if (message.error) failure = message.errorDetail?.message ?? message.error;
        if (message.aux?.Digest) digest = message.aux.Digest;
        const text = describeProgress(message, layers);
        if (text) onProgress?.(`${context.reference}: ${text}`, overallFraction(layers));
      },
    );
  });
}

/** Records a layer's progress in `layers` (id → 0..1) and says what happened. */
function describeProgress(message: PushMessage, layers: Map<string, number>): string | undefined {
  const { status, id } = message;
  if (!status) return undefined;
  if (!id) return status;
  const { current, total } = message.progressDetail ?? {};
  if (LAYER_DONE.test(status)) {
    layers.set(id, 1);
    const what = status.replace(/^Layer /, '');
    return `layer ${id} ${what.charAt(0).toLowerCase()}${what.slice(1)}`;
  }
  if (status === 'Pushing' && current !== undefined && total) {
    // The engine counts the uncompressed tar against the layer's size, so current can pass total.
    const done = Math.min(current, total);
    layers.set(id, done / total);
    return `pushing layer ${id}, ${megabytes(done)} of ${megabytes(total)} MB`;
  }
  if (!layers.has(id)) layers.set(id, 0);
  return `layer ${id} ${status.toLowerCase()}`;
}

function overallFraction(layers: Map<string, number>): number | undefined {
  if (layers.size === 0) return undefined;
  let sum = 0;
  for (const fraction of layers.values()) sum += fraction;
  return sum / layers.size;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** The digest from the image's RepoDigests, for engines whose push stream carries none (Podman's). */
async function repoDigest(docker: Docker, reference: string, name: string): Promise<string> {
  const { RepoDigests: repoDigests = [] } = await docker.getImage(reference).inspect();
  const found = repoDigests.find((entry) => entry.startsWith(`${name}@`));
  if (!found)
    throw new MlopsError(
      `The engine pushed ${reference} but reported no digest for it.`,
      'Push again; if it persists, check the registry with docker manifest inspect.',
    );
  return found.slice(name.length + 1);
}

function cancelled(reference: string): MlopsError {
  return new MlopsError(`The push of ${reference} was cancelled.`);
}
