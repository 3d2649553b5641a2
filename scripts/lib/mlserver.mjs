// @ts-check
// MLServer with its scikit-learn runtime from PyPI, the model server benchmark's peer with adaptive
// batching: a virtualenv in the cache folder outside the repository, installed on first use with
// the machine's pip configuration.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

export const MLSERVER_VERSION = '1.7.1';

/**
 * Installs mlserver and mlserver-sklearn into their virtualenv unless a complete install is there,
 * with the scikit-learn version given (the one that wrote the model file, so that it loads as it
 * was saved). The `.complete` marker, written last, holds the packages: other ones reinstall.
 * @param {string} sklearnVersion
 * @returns {{ ok: true, python: string, mlserver: string } | { ok: false, reason: string }}
 */
export function ensureMlserver(sklearnVersion) {
  const home = join(cacheDir(), `mlserver-${MLSERVER_VERSION}`);
  const marker = join(home, '.complete');
  const python = join(home, 'bin', 'python');
  const mlserver = join(home, 'bin', 'mlserver');
  const packages = [
    `mlserver==${MLSERVER_VERSION}`,
    `mlserver-sklearn==${MLSERVER_VERSION}`,
    `scikit-learn==${sklearnVersion}`,
    // uvloop 0.22 stops MLServer 1.7.1's inference workers at start (SeldonIO/MLServer#2286).
    'uvloop<0.22',
  ];
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === packages.join(' '))
    return { ok: true, python, mlserver };
  const system = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(system) && !existsSync(system))
    return { ok: false, reason: `${system} is not on the PATH (MLServer ${MLSERVER_VERSION} needs Python 3.9–3.12)` };
  try {
    say(
      `installing mlserver==${MLSERVER_VERSION} and mlserver-sklearn with scikit-learn==${sklearnVersion} into a virtualenv at ${home} (the peer the model server benchmark compares ours with)`,
    );
    rmSync(home, { recursive: true, force: true });
    run(system, ['-m', 'venv', home]);
    run(python, ['-m', 'pip', 'install', '--quiet', ...packages], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    const check = spawnSync(
      python,
      ['-c', 'import mlserver, mlserver_sklearn, sklearn; print(mlserver.__version__, sklearn.__version__)'],
      { encoding: 'utf8' },
    );
    if (check.stdout.trim() !== `${MLSERVER_VERSION} ${sklearnVersion}`)
      throw new Error(`import mlserver gave ${JSON.stringify(check.stdout.trim())}: ${check.stderr}`);
    writeFileSync(marker, `${packages.join(' ')}\n`);
    return { ok: true, python, mlserver };
  } catch (error) {
    return { ok: false, reason: `MLServer install failed: ${/** @type {Error} */ (error).message}` };
  }
}
