// @ts-check
// check-jsonschema from PyPI for the CI workflow tests: it vendors SchemaStore's schemas of GitHub
// Actions workflows and GitLab CI files, so the generated workflows are checked against the
// formats' own schemas. A virtualenv in the cache folder outside the repository.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

export const CHECK_JSONSCHEMA_VERSION = '0.39.0';

/**
 * Installs check-jsonschema into its virtualenv unless a complete install is there (the
 * `.complete` marker is written last, so a half-finished install is thrown away and retried).
 * @returns {{ ok: true, checkJsonschema: string } | { ok: false, reason: string }}
 */
export function ensureCheckJsonschema() {
  const home = join(cacheDir(), `check-jsonschema-${CHECK_JSONSCHEMA_VERSION}`);
  const marker = join(home, '.complete');
  const checkJsonschema = join(home, 'bin', 'check-jsonschema');
  if (existsSync(marker)) return { ok: true, checkJsonschema };
  const python = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(python) && !existsSync(python))
    return { ok: false, reason: `${python} is not on the PATH (check-jsonschema needs Python 3.9+)` };
  try {
    say(
      `installing check-jsonschema==${CHECK_JSONSCHEMA_VERSION} into a virtualenv at ${home} (the GitHub Actions and GitLab CI schemas the generated workflows are checked against)`,
    );
    rmSync(home, { recursive: true, force: true });
    run(python, ['-m', 'venv', home]);
    run(
      join(home, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', `check-jsonschema==${CHECK_JSONSCHEMA_VERSION}`],
      { env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } },
    );
    const check = spawnSync(checkJsonschema, ['--version'], { encoding: 'utf8' });
    if (!check.stdout.includes(CHECK_JSONSCHEMA_VERSION))
      throw new Error(`check-jsonschema --version gave ${JSON.stringify(check.stdout.trim())}: ${check.stderr}`);
    writeFileSync(marker, new Date().toISOString());
    return { ok: true, checkJsonschema };
  } catch (error) {
    return { ok: false, reason: `check-jsonschema install failed: ${/** @type {Error} */ (error).message}` };
  }
}
