import { appendFileSync } from 'node:fs';

declare global {
  // Set by the first and last lines of the bundle (see scripts/build.mjs).
  var __mlopsBundleStart: number | undefined;
  var __mlopsBundleLoaded: number | undefined;
}

export interface ActivationTiming {
  /** From the first to the last line of the bundle: module evaluation. */
  loadMs: number;
  /** From the start of activate() until the views and commands are registered. */
  activateMs: number;
}

/**
 * Measures activation. With MLOPS_ACTIVATION_LOG set (by `npm run bench`), appends the figures
 * to that file as a JSON line, since the benchmark cannot reach into the extension host.
 */
export function recordActivation(activateStart: number): ActivationTiming {
  const end = performance.now();
  const timing = {
    loadMs: (globalThis.__mlopsBundleLoaded ?? 0) - (globalThis.__mlopsBundleStart ?? 0),
    activateMs: end - activateStart,
  };
  const file = process.env.MLOPS_ACTIVATION_LOG;
  if (file) appendFileSync(file, `${JSON.stringify(timing)}\n`);
  return timing;
}
