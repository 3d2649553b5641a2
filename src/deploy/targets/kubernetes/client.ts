// @kubernetes/client-node, loaded on first use (the build puts it in a bundle of its own), with a
// time limit on every request, and what its failures mean to a user: a 403 names the user, the
// verb and the resource that RBAC refused; an unreachable or silent server names its address.
// Never a stack trace.
import type { Agent, ClientRequest } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import * as v from 'valibot';
import { MlopsError } from '../../../shared/errors';
import { secondsText } from '../../../shared/remoteTimeout';

export type KubernetesClient = typeof import('@kubernetes/client-node');

let loaded: Promise<KubernetesClient> | undefined;

export function kubernetesClient(): Promise<KubernetesClient> {
  loaded ??= import('@kubernetes/client-node');
  return loaded;
}

/** Where a call went, for messages. */
export interface CallSite {
  context: string;
  server: string;
  user: string;
  /** How long a request may wait for its answer. */
  timeoutMs?: number;
}

/** The code of the error a request fails with when the server did not answer in time. */
export const NO_ANSWER = 'MLOPS_NO_ANSWER';

/** Requests that last as long as what they follow: watches, log follows. */
const LONG_LIVED = /[?&](watch|follow)=(true|1)(&|$)/;

/**
 * Makes every request through `agent` fail (error code NO_ANSWER) when the server has not
 * answered within `timeoutMs`: the start of the response for a call; for a watch, a log follow or
 * an upgraded connection (exec, port-forward), the connection itself (TCP and TLS), so they run
 * as long as they last.
 */
export function answerWithin(agent: Agent, timeoutMs: number): void {
  const internals = agent as Agent & { addRequest(request: ClientRequest, options: unknown): void };
  const addRequest = internals.addRequest.bind(agent);
  internals.addRequest = (request, options) => {
    const timer = setTimeout(
      () =>
        request.destroy(Object.assign(new Error(`no answer within ${secondsText(timeoutMs)}`), { code: NO_ANSWER })),
      timeoutMs,
    );
    const answered = () => clearTimeout(timer);
    request.once('close', answered);
    if (LONG_LIVED.test(request.path) || request.hasHeader('upgrade')) {
      request.once('socket', (socket) => {
        const tls = socket instanceof TLSSocket;
        // A TLS socket has sent its Finished message once its handshake is done.
        const connected = tls ? socket.getFinished() !== undefined : !socket.connecting;
        if (connected) answered();
        else socket.once(tls ? 'secureConnect' : 'connect', answered);
      });
    } else request.once('response', answered);
    addRequest(request, options);
  };
}

/**
 * An empty KubeConfig whose every request, of the API clients it makes and of the watches, logs
 * and proxied requests it prepares, must be answered within `timeoutMs` (see answerWithin).
 */
export function timedKubeConfig(k8s: KubernetesClient, timeoutMs: number): KubeConfig {
  class TimedKubeConfig extends k8s.KubeConfig {
    override async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await super.applySecurityAuthentication(context);
      const agent = context.getAgent();
      if (agent) answerWithin(agent, timeoutMs);
    }

    override async applyToHTTPSOptions(options: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
      await super.applyToHTTPSOptions(options);
      if (typeof options.agent === 'object') answerWithin(options.agent, timeoutMs);
    }
  }
  return new TimedKubeConfig();
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there',
  ENOTFOUND: 'the host name does not resolve',
  EHOSTUNREACH: 'the host is unreachable',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not trusted',
};

/** The HTTP status of a failed API call, when the server answered. */
export function statusCode(error: unknown): number | undefined {
  const code =
    (error as { code?: unknown; statusCode?: unknown } | undefined)?.code ??
    (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A Kubernetes Status object, as the API server answers an error. */
const StatusAnswer = v.looseObject({ message: v.string() });

/** The Status object's message of a failed API call (the body is JSON text or already parsed). */
function statusMessage(error: unknown): string | undefined {
  const body = (error as { body?: unknown } | undefined)?.body;
  const status = v.safeParse(StatusAnswer, body);
  if (status.success) return status.output.message;
  if (typeof body === 'string') {
    try {
      const parsed = v.safeParse(StatusAnswer, JSON.parse(body));
      if (parsed.success) return parsed.output.message;
    } catch {
      return body.trim() || undefined;
    }
  }
  return undefined;
}

function networkCode(error: unknown): string | undefined {
  for (
    let current: unknown = error, depth = 0;
    current && depth < 5;
    current = (current as { cause?: unknown }).cause, depth++
  ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** An MlopsError for a failed call that tried to `what` ("list deployments in default"). */
export function kubernetesError(error: unknown, what: string, site: CallSite): MlopsError {
  if (error instanceof MlopsError) return error;
  const status = statusCode(error);
  const message = statusMessage(error);
  const where = `context "${site.context}" (${site.server})`;
  if (status === 401) {
    return new MlopsError(
      `The Kubernetes API server of ${where} did not accept the credentials of "${site.user}" (401 Unauthorized) when trying to ${what}.`,
      'The token or certificate may have expired: get a fresh kubeconfig.',
      { cause: error },
    );
  }
  if (status === 403) {
    return new MlopsError(
      `Kubernetes refused to ${what} on ${where} (403 Forbidden): ${message ?? 'RBAC forbids it'}.`,
      `Ask a cluster admin for a Role that allows it for "${site.user}", or pick another context or namespace.`,
      { cause: error },
    );
  }
  if (status === 404)
    return new MlopsError(`Not found on ${where} when trying to ${what}${message ? `: ${message}` : ''}.`, undefined, {
      cause: error,
    });
  if (status === 409)
    return new MlopsError(
      `A conflict on ${where} when trying to ${what}${message ? `: ${message}` : ''}.`,
      'Someone else changed it at the same moment: try again.',
      { cause: error },
    );
  if (status === 422 || status === 400)
    return new MlopsError(
      `The API server of ${where} rejected the request to ${what}: ${message ?? `status ${status}`}.`,
      undefined,
      { cause: error },
    );
  if (status !== undefined)
    return new MlopsError(
      `The API server of ${where} answered ${status} when trying to ${what}${message ? `: ${message}` : ''}.`,
      undefined,
      { cause: error },
    );
  const code = networkCode(error);
  if (code === NO_ANSWER) {
    return new MlopsError(
      `The Kubernetes API server of ${where} did not answer within ${site.timeoutMs === undefined ? 'the time allowed' : secondsText(site.timeoutMs)} when trying to ${what}.`,
      'Check that the cluster runs and that no firewall drops the connection, or pick another context.',
      { cause: error },
    );
  }
  if (code && (NETWORK_CODES[code] || code.startsWith('E'))) {
    return new MlopsError(
      `The Kubernetes API server of ${where} cannot be reached (${code}: ${NETWORK_CODES[code] ?? 'network error'}).`,
      'Check that the cluster is running and that this machine reaches it, or pick another context.',
      { cause: error },
    );
  }
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new MlopsError(`Kubernetes call failed on ${where} when trying to ${what}: ${text}`, undefined, {
    cause: error,
  });
}
