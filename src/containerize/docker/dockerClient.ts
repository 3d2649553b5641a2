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
import { redactUri } from '../../shared/redact';
import { NoAnswerError, remoteTimeoutMs, secondsText } from '../../shared/remoteTimeout';

const EXPECTED_FORMS =
  'Write it as unix:///var/run/docker.sock, tcp://HOST:2375 (tcp://HOST:2376 or https://HOST:2376 for TLS) or ssh:// with USER@HOST[:PORT]';

/** Why `value` is not a Docker host of a form we reach, or undefined when it is one. */
function hostProblem(value: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (!scheme) return 'it has no scheme';
  if (!['unix', 'tcp', 'http', 'https', 'ssh'].includes(scheme))
    return `${scheme}:// is not a scheme for a Docker Engine`;
  if (scheme === 'unix') return value.slice('unix://'.length) ? undefined : 'it names no socket';
  const authority = /^[^:]+:\/\/(?:(.*)@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/.exec(value)!;
  const [, userInfo, hostname, port] = authority;
  if (!hostname) return 'it names no host';
  if (port && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return `the port '${port}' is not a number from 1 to 65535`;
  if (userInfo !== undefined && scheme !== 'ssh') return `${scheme}:// takes no user name or password`;
  if (userInfo?.includes(':')) return 'ssh:// takes no password (log in with a key or an ssh agent)';
  if (!URL.canParse(value)) return 'it is not a valid URL';
  return undefined;
}

/** Refuses `value` (--docker-host, mlops.dockerHost or DOCKER_HOST) unless it is a Docker host, with the forms it may take. */
function checkDockerHost(value: string, fromEnvironment: boolean): void {
  const problem = hostProblem(value);
  if (!problem) return;
  const where = fromEnvironment ? 'DOCKER_HOST' : '--docker-host or mlops.dockerHost';
  throw new MlopsError(
    `The Docker host '${redactUri(value)}' (${where}) is not an address of a Docker Engine: ${problem}.`,
    `${EXPECTED_FORMS}, or leave it empty for the local engine.`,
  );
}

export function dockerOptions(host: string | undefined, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const target = host || env.DOCKER_HOST;
  if (!target) return { socketPath: '/var/run/docker.sock' };
  checkDockerHost(target, !host);
  if (/^unix:/i.test(target)) return { socketPath: target.slice('unix://'.length) };
  const url = new URL(target);
  switch (url.protocol) {
    case 'ssh:':
      return {
        protocol: 'ssh',
        host: url.hostname,
        port: Number(url.port || 22),
        username: decodeURIComponent(url.username) || undefined,
      };
    default: {
      const tls = url.protocol === 'https:' || ((env.DOCKER_TLS_VERIFY ?? '') !== '' && env.DOCKER_TLS_VERIFY !== '0');
      const certs = env.DOCKER_CERT_PATH;
      return {
        host: url.hostname,
        port: Number(url.port || (tls ? 2376 : 2375)),
        protocol: tls ? 'https' : 'http',
        ...(tls && certs
          ? {
              ca: readFileSync(join(certs, 'ca.pem')),
              cert: readFileSync(join(certs, 'cert.pem')),
              key: readFileSync(join(certs, 'key.pem')),
            }
          : {}),
      };
    }
  }
}

/** The engine for messages: its socket, or its address as the user wrote it (tcp://host:2375). */
export function dockerHostText(host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return dockerOptions(host, env).socketPath ?? (host || env.DOCKER_HOST || '');
}

export function noAnswerError(where: string, timeoutMs: number): NoAnswerError {
  return new NoAnswerError(
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
    const abortSignal = options.abortSignal
      ? AbortSignal.any([options.abortSignal, controller.signal])
      : controller.signal;
    dial({ ...options, abortSignal }, (error, result) => {
      clearTimeout(timer);
      upload?.removeListener('end', start);
      callback?.(timedOut ? noAnswerError(where, timeoutMs) : error, result);
    });
  };
}

/**
 * docker-modem builds each request's address with url.parse(host), which makes "ssh:HOST:22HOST"
 * of an ssh:// engine and Node's DEP0170 warning (docker-modem issue 184). It is given the host
 * as a URL while it builds the address, and the bare name back when it opens the ssh connection;
 * both happen within one dial, synchronously.
 */
export function sshAddressWithoutWarning(modem: DockerModem): void {
  const internals = modem as unknown as { host: string; buildRequest: (...args: unknown[]) => void };
  const host = internals.host;
  const dial = modem.dial.bind(modem);
  const buildRequest = internals.buildRequest.bind(modem);
  modem.dial = (options, callback) => {
    internals.host = `ssh://${host}`;
    try {
      dial(options, callback);
    } finally {
      internals.host = host;
    }
  };
  internals.buildRequest = (...args) => {
    internals.host = host;
    buildRequest(...args);
  };
}

/** A client whose engine has answered a ping; a clear error names the host otherwise. */
export async function connectDocker(host?: string, options: { timeoutMs?: number } = {}): Promise<Docker> {
  const { default: Dockerode } = await import('dockerode');
  const target = dockerOptions(host);
  const docker = new Dockerode(target);
  if (target.protocol === 'ssh') sshAddressWithoutWarning(docker.modem);
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
