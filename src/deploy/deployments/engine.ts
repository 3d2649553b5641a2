// What the Deployments view asks a Docker Engine besides the DeployTarget interface: why a target
// cannot list its services (no engine, not a swarm, a worker), turning it into a swarm manager,
// the images it holds, and whether a host port is free. dockerode loads on first use.
import { createServer } from 'node:net';
import { describeError, MlopsError } from '../../shared/errors';
import { NoAnswerError } from '../../shared/remoteTimeout';
import { connectDocker } from '../../containerize/docker/dockerClient';
import type { LocalImage } from './picks';

export type EngineProblemKind = 'unreachable' | 'notSwarm' | 'notManager' | 'error';

export interface EngineProblem {
  kind: EngineProblemKind;
  message: string;
}

/** The swarm part of GET /info. */
export interface SwarmInfo {
  LocalNodeState?: string;
  ControlAvailable?: boolean;
  Error?: string;
}

/** Classifies a target whose listing failed, from what the engine says about its swarm. Pure. */
export function classifySwarm(where: string, swarm: SwarmInfo | undefined, listError: unknown): EngineProblem {
  const state = swarm?.LocalNodeState ?? 'inactive';
  if (state === 'inactive')
    return { kind: 'notSwarm', message: `The Docker Engine at ${where} is not part of a swarm.` };
  if (state === 'active' && swarm?.ControlAvailable === false) {
    return {
      kind: 'notManager',
      message: `The Docker Engine at ${where} is a swarm worker: deploy through a manager node (point the target's dockerHost at it).`,
    };
  }
  if (state !== 'active')
    return { kind: 'error', message: `The swarm of ${where} is ${state}${swarm?.Error ? `: ${swarm.Error}` : ''}.` };
  return { kind: 'error', message: describeError(listError) };
}

/** Why `listError` happened on the engine at `dockerHost`: no engine, no swarm, a worker, or the error itself. */
export async function diagnoseTarget(dockerHost: string, location: string, listError: unknown): Promise<EngineProblem> {
  // The engine already used up its time limit without answering: asking again would double the wait.
  if (listError instanceof NoAnswerError) return { kind: 'unreachable', message: describeError(listError) };
  let docker: Awaited<ReturnType<typeof connectDocker>>;
  try {
    docker = await connectDocker(dockerHost || undefined);
  } catch (error) {
    return { kind: 'unreachable', message: describeError(error) };
  }
  try {
    const info = (await docker.info()) as { Swarm?: SwarmInfo };
    return classifySwarm(location, info.Swarm, listError);
  } catch {
    return { kind: 'error', message: describeError(listError) };
  }
}

/** `docker swarm init`: a single-node swarm listening on 2377 and advertising loopback. */
export async function initSwarm(dockerHost: string): Promise<void> {
  const docker = await connectDocker(dockerHost || undefined);
  try {
    await docker.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '127.0.0.1' });
  } catch (error) {
    const text = describeError(error);
    if (/already part of a swarm/i.test(text)) return;
    throw new MlopsError(
      `The swarm could not be initialised: ${text}`,
      'Run "docker swarm init --advertise-addr 127.0.0.1" on that engine to see more.',
      { cause: error },
    );
  }
}

/** The tagged images of the engine, for the image picker. */
export async function listLocalImages(dockerHost: string): Promise<LocalImage[]> {
  const docker = await connectDocker(dockerHost || undefined);
  const images = await docker.listImages();
  return images.map((image) => ({
    id: image.Id,
    tags: image.RepoTags ?? [],
    created: image.Created,
    labels: image.Labels ?? {},
  }));
}

/** Whether nothing on this machine listens on `port` (on any interface). */
export function hostPortIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}
