// A dockerode client for the engine the user configured: mlops.dockerHost, then DOCKER_HOST
// (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), then the local socket. dockerode is loaded on
// first use, so activation does not pay for it. Every call must be answered within the remote
// timeout (30 s); a stream (a build's output, a push, a log follow, events) only has to start
// within it, and an upload (a build context) is timed from its last byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type DockerModem from 'docker-modem';
import { MlopsError } from '../../shared/errors';
import { remoteTimeoutMs, secondsText } from '../../shared/remoteTimeout';

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

/** The engine for messages: its socket, or its address as the user wrote it (tcp://host:2375). */
export function dockerHostText(host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return dockerOptions(host, env).socketPath ?? (host || env.DOCKER_HOST || '');
}

export function noAnswerError(where: string, timeoutMs: number): MlopsError {
  return new MlopsError(
    `The Docker Engine at ${where} did not answer within ${secondsText(timeoutMs)}.`,
    'Check that the engine runs and is not stuck (docker info on that machine) and that no firewall drops the connection, or point mlops.dockerHost or DOCKER_HOST at another engine.',
  );
}

/**
 * Makes each call of `modem` fail with `noAnswerError` when the engine has not answered within
 * `timeoutMs`: the whole answer of a plain call, the start of a stream or of a hijacked
 * connection. A call's own abort signal still works.
 */
export function answerWithin(modem: DockerModem, timeoutMs: number, where: string): void {
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const start = () => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    };
    const upload = typeof options.file === 'object' && !Buffer.isBuffer(options.file) ? options.file : undefined;
    if (upload) upload.once('end', start);
    else start();
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, controller.signal]) : controller.signal;
    dial({ ...options, abortSignal }, (error, result) => {
      clearTimeout(timer);
      upload?.removeListener('end', start);
      callback?.(timedOut ? noAnswerError(where, timeoutMs) : error, result);
    });
  };
}

/** A client whose engine has answered a ping; a clear error names the host otherwise. */
export async function connectDocker(host?: string, options: { timeoutMs?: number } = {}): Promise<Docker> {
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode(dockerOptions(host));
  const where = dockerHostText(host);
  answerWithin(docker.modem, options.timeoutMs ?? remoteTimeoutMs(), where);
  try {
    await docker.ping();
  } catch (error) {
    if (error instanceof MlopsError) throw error;
    throw new MlopsError(
      `No Docker Engine answered at ${where}: ${(error as Error).message}.`,
      'Start Docker (systemctl start docker, or dockerd), or point mlops.dockerHost or DOCKER_HOST at a running engine.',
      { cause: error },
    );
  }
  return docker;
}
