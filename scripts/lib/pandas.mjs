// @ts-check
// pandas from PyPI for the profiling benchmark's peer: a virtualenv in the cache folder outside
// the repository, installed on first use.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

export const PANDAS_VERSION = '3.1.1';

/**
 * Installs pandas into its virtualenv unless a complete install is there. pyarrow is left out:
 * pandas does not need it to read a CSV or describe it. The `.complete` marker is written last,
 * so a half-finished install is thrown away and retried.
 * @returns {{ ok: true, python: string } | { ok: false, reason: string }}
 */
export function ensurePandas() {
  const home = join(cacheDir(), `pandas-${PANDAS_VERSION}`);
  const marker = join(home, '.complete');
  const python = join(home, 'bin', 'python');
  if (existsSync(marker)) return { ok: true, python };
  const system = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(system) && !existsSync(system))
    return { ok: false, reason: `${system} is not on the PATH (pandas ${PANDAS_VERSION} needs Python 3.11+)` };
  try {
    say(
      `installing pandas==${PANDAS_VERSION} into a virtualenv at ${home} (the peer the profiling benchmark compares DuckDB with)`,
    );
    rmSync(home, { recursive: true, force: true });
    run(system, ['-m', 'venv', home]);
    run(python, ['-m', 'pip', 'install', '--quiet', `pandas==${PANDAS_VERSION}`], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    const check = spawnSync(python, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' });
    if (check.stdout.trim() !== PANDAS_VERSION)
      throw new Error(`import pandas gave ${JSON.stringify(check.stdout.trim())}: ${check.stderr}`);
    writeFileSync(marker, new Date().toISOString());
    return { ok: true, python };
  } catch (error) {
    return { ok: false, reason: `pandas install failed: ${/** @type {Error} */ (error).message}` };
  }
}
