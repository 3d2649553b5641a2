// A dockerode client for the engine the user configured: mlops.dockerHost, then DOCKER_HOST
// (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), then the local socket. dockerode is loaded on
// first use, so activation does not pay for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { MlopsError } from '../../shared/errors';

export function dockerOptions(host: string | undefined, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const target = host || env.DOCKER_HOST;
  if (!target) return { socketPath: '/var/run/docker.sock' };
  const url = new URL(target);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY ?? '') !== '' && env.DOCKER_TLS_VERIFY !== '0';
      const certs = env.DOCKER_CERT_PATH;
      return {
        host: url.hostname,
        port: Number(url.port || (tls ? 2376 : 2375)),
        protocol: tls ? 'https' : 'http',
        ...(tls && certs ? { ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'cert.pem')), key: readFileSync(join(certs, 'key.pem')) } : {}),
      };
    }
    case 'ssh:':
      return { protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), username: url.username || undefined };
    default:
      throw new MlopsError(`Docker host '${target}' is not unix://, tcp:// or ssh://.`, 'Correct mlops.dockerHost or DOCKER_HOST.');
  }
}

/** A client whose engine has answered a ping; a clear error names the host otherwise. */
export async function connectDocker(host?: string): Promise<Docker> {
  const { default: Dockerode } = await import('dockerode');
  const options = dockerOptions(host);
  const docker = new Dockerode(options);
  try {
    await docker.ping();
  } catch (error) {
    const where = options.socketPath ?? `${options.protocol}://${options.host}:${options.port}`;
    throw new MlopsError(
      `No Docker Engine answered at ${where}: ${(error as Error).message}.`,
      'Start Docker (systemctl start docker, or dockerd), or point mlops.dockerHost or DOCKER_HOST at a running engine.',
    );
  }
  return docker;
}
