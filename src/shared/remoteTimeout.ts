// How long a call to a Docker Engine or a Kubernetes API server may wait for its answer: 30 s, as
// the tracking-server store waits, or MLOPS_REMOTE_TIMEOUT_SECONDS. A host that accepts the
// connection and never answers is then named with the time waited, instead of a hang.
import { MlopsError } from './errors';

export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;
export const REMOTE_TIMEOUT_VARIABLE = 'MLOPS_REMOTE_TIMEOUT_SECONDS';

export function remoteTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[REMOTE_TIMEOUT_VARIABLE]?.trim();
  if (!text) return DEFAULT_REMOTE_TIMEOUT_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new MlopsError(
      `${REMOTE_TIMEOUT_VARIABLE} is '${text}', which is not a number of seconds above 0.`,
      `Set it to a number such as 30, or unset it for ${DEFAULT_REMOTE_TIMEOUT_MS / 1000} s.`,
    );
  }
  return seconds * 1000;
}

/** "30 s", "1.5 s". */
export function secondsText(ms: number): string {
  return `${Number((ms / 1000).toPrecision(3))} s`;
}

/** A remote host that did not answer within the time allowed: callers can tell it from other failures without reading the text. */
export class NoAnswerError extends MlopsError {}
