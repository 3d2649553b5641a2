// @ts-check
// tritonclient[http] from PyPI: an independent Open Inference Protocol (KServe V2) client, that the
// integration tests point at a running model image. A virtualenv in the cache folder outside the
// repository, made with the machine's pip configuration.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

export const TRITONCLIENT_VERSION = '2.73.0';

/**
 * Installs tritonclient[http] into its virtualenv unless a complete install is there (the
 * `.complete` marker is written last, so a half-finished install is thrown away and retried).
 * @returns {{ ok: true, python: string } | { ok: false, reason: string }}
 */
export function ensureTritonclient() {
  const home = join(cacheDir(), `tritonclient-${TRITONCLIENT_VERSION}`);
  const marker = join(home, '.complete');
  const python = join(home, 'bin', 'python');
  if (existsSync(marker)) return { ok: true, python };
  const system = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(system) && !existsSync(system))
    return { ok: false, reason: `${system} is not on the PATH (tritonclient needs Python 3.8+)` };
  try {
    say(
      `installing tritonclient[http]==${TRITONCLIENT_VERSION} into a virtualenv at ${home} (an independent Open Inference Protocol client for the model server tests)`,
    );
    rmSync(home, { recursive: true, force: true });
    run(system, ['-m', 'venv', home]);
    run(python, ['-m', 'pip', 'install', '--quiet', `tritonclient[http]==${TRITONCLIENT_VERSION}`], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    const check = spawnSync(
      python,
      ['-c', 'import tritonclient.http, importlib.metadata as m; print(m.version("tritonclient"))'],
      {
        encoding: 'utf8',
      },
    );
    if (check.stdout.trim() !== TRITONCLIENT_VERSION)
      throw new Error(`import tritonclient.http gave ${JSON.stringify(check.stdout.trim())}: ${check.stderr}`);
    writeFileSync(marker, new Date().toISOString());
    return { ok: true, python };
  } catch (error) {
    return { ok: false, reason: `tritonclient install failed: ${/** @type {Error} */ (error).message}` };
  }
}
