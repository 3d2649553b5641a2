// Builds a context folder into an image through the engine's API, streaming the steps. A failed
// or cancelled build never leaves an image under the final tag: the engine tags only on success,
// and intermediate containers are always removed.
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type Docker from 'dockerode';
import { MlopsError } from '../../shared/errors';

export interface BuildEvents {
  /** Every line of the build log. */
  onLine?(line: string): void;
  /** A Dockerfile step started: "Step 3/12 : RUN ...". */
  onStep?(step: number, total: number, instruction: string): void;
  signal?: AbortSignal;
  /** Rebuild every layer, as after `docker builder prune`. */
  noCache?: boolean;
}

interface BuildMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export async function buildImage(
  docker: Docker,
  contextDir: string,
  tag: string,
  events: BuildEvents = {},
): Promise<string> {
  const entries = await contextEntries(contextDir);
  events.signal?.throwIfAborted();
  const stream = await docker.buildImage(
    { context: contextDir, src: entries },
    { t: tag, rm: true, forcerm: true, pull: false, nocache: events.noCache === true },
  );
  const log: string[] = [];
  let lastStep = '';
  let imageId = '';
  let engineError: string | undefined;
  return new Promise((resolve, reject) => {
    const abort = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(new MlopsError(`The build of ${tag} was cancelled; no image was tagged.`));
    };
    events.signal?.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        events.signal?.removeEventListener('abort', abort);
        if (events.signal?.aborted) return;
        const failure =
          error?.message ?? engineError ?? (imageId ? undefined : 'the engine ended the build without an image');
        if (failure) reject(buildFailure(tag, failure, lastStep, log));
        else resolve(imageId);
      },
      (message: BuildMessage) => {
        const text =
          message.stream ?? (message.error ? `ERROR: ${message.errorDetail?.message ?? message.error}\n` : '');
        for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
          log.push(line);
          events.onLine?.(line);
          const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
          if (step) {
            lastStep = step[3]!;
            events.onStep?.(Number(step[1]), Number(step[2]), step[3]!);
          }
        }
        if (message.aux?.ID) imageId = message.aux.ID;
        if (message.error) engineError = message.errorDetail?.message ?? message.error;
      },
    );
  });
}

/**
 * What the engine receives: every file, and every empty folder (a folder named in the list is sent
 * with all it holds, so only empty ones are named). A notebook's folder with nothing else in it is
 * still where its training runs.
 */
export async function contextEntries(contextDir: string): Promise<string[]> {
  const entries = await readdir(contextDir, { recursive: true, withFileTypes: true });
  const path = (dir: string, name = '') => relative(contextDir, join(dir, name)).split(sep).join('/');
  const holders = new Set(entries.map((entry) => path(entry.parentPath)));
  return entries
    .filter((entry) => entry.isFile() || (entry.isDirectory() && !holders.has(path(entry.parentPath, entry.name))))
    .map((entry) => path(entry.parentPath, entry.name));
}

/** The failing step and what it printed, with the notebook's own error first when there is one. */
function buildFailure(tag: string, error: string, step: string, log: string[]): MlopsError {
  const ownError = notebookError(log);
  const tail = log.slice(-12).join('\n');
  if (ownError) return new MlopsError(`Building ${tag} failed: ${ownError}`, `The step was: ${step}\n${tail}`);
  if (step.startsWith('FROM ') && /registry|pull|no such host|not found/i.test(error)) {
    return new MlopsError(
      `Building ${tag} failed: the base image ${step.slice(5).trim()} is not in the engine and could not be pulled (${error.trim()}).`,
      'Pull or load the base image first, or choose another one with mlops.baseImage (--base-image).',
    );
  }
  return new MlopsError(`Building ${tag} failed at '${step}': ${error.trim()}`, `The end of the build log:\n${tail}`);
}

/**
 * The model build's own error: the MLOPS-ERROR line and the lines of the same message after it
 * (an exception text may span lines), up to what the engine or stderr prints next.
 */
export function notebookError(log: string[]): string | undefined {
  // The engine colours what a step prints on stderr, starting with an escape sequence.
  const ESC = String.fromCharCode(27);
  const at = log.findIndex((line) => line.includes('MLOPS-ERROR: '));
  if (at < 0) return undefined;
  const rest = log.slice(at + 1);
  const end = rest.findIndex(
    (line) =>
      line.startsWith(ESC) || /^(Removing intermediate container|ERROR:|MLOPS-|Step \d+\/\d+ :|\s*---> )/.test(line),
  );
  return [
    log[at]!.slice(log[at]!.indexOf('MLOPS-ERROR: ') + 'MLOPS-ERROR: '.length),
    ...rest.slice(0, end < 0 ? rest.length : end),
  ]
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}
