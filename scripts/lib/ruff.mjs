// @ts-check
// ruff from PyPI: formats and lints the project's Python (runtime/, the test helpers and fixtures,
// bench/), as Prettier and ESLint do its TypeScript. A virtualenv in the cache folder outside the
// repository, keyed by version.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

export const RUFF_VERSION = '0.17.6';

/**
 * Installs ruff into its virtualenv unless a complete install is there (the `.complete` marker is
 * written last, so a half-finished install is thrown away and retried).
 * @returns {{ ok: true, ruff: string } | { ok: false, reason: string }}
 */
export function ensureRuff() {
  const home = join(cacheDir(), `ruff-${RUFF_VERSION}`);
  const marker = join(home, '.complete');
  const ruff = join(home, 'bin', 'ruff');
  if (existsSync(marker)) return { ok: true, ruff };
  const python = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(python) && !existsSync(python))
    return { ok: false, reason: `${python} is not on the PATH (ruff is installed with pip)` };
  try {
    say(`installing ruff==${RUFF_VERSION} into a virtualenv at ${home} (it formats and lints the Python files)`);
    rmSync(home, { recursive: true, force: true });
    run(python, ['-m', 'venv', home]);
    run(join(home, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', `ruff==${RUFF_VERSION}`], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    const check = spawnSync(ruff, ['--version'], { encoding: 'utf8' });
    if (!check.stdout?.includes(RUFF_VERSION))
      throw new Error(`ruff --version gave ${JSON.stringify(check.stdout?.trim())}: ${check.stderr}`);
    writeFileSync(marker, new Date().toISOString());
    return { ok: true, ruff };
  } catch (error) {
    return { ok: false, reason: `ruff install failed: ${/** @type {Error} */ (error).message}` };
  }
}
