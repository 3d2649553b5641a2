// @ts-check
// The real MLflow from PyPI for the tests and benchmarks: a virtualenv in the cache folder outside
// the repository, and a tracking server on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './codeServer.mjs';
import { cacheDir, hasCommand, run, say } from './setup.mjs';

// 3.18.0 is on PyPI but its mlflow-skinny==3.18.0 is not, so it does not install; 3.17.2 is the newest
// that installs cleanly on Python 3.11.
export const MLFLOW_VERSION = '3.17.2';

export function mlflowHome() {
  return join(cacheDir(), `mlflow-${MLFLOW_VERSION}`);
}

/** Paths inside the virtualenv, whether or not it is installed. */
export function mlflowPaths() {
  const home = mlflowHome();
  return { python: join(home, 'bin', 'python'), mlflow: join(home, 'bin', 'mlflow') };
}

/**
 * Installs MLflow into its virtualenv unless a complete install is there. The `.complete` marker
 * is written last, so a half-finished install is thrown away and retried.
 * @returns {{ ok: true, python: string, mlflow: string } | { ok: false, reason: string }}
 */
export function ensureMlflow() {
  const home = mlflowHome();
  const marker = join(home, '.complete');
  const paths = mlflowPaths();
  if (existsSync(marker)) return { ok: true, ...paths };
  const python = process.env.MLOPS_PYTHON || 'python3';
  if (!hasCommand(python) && !existsSync(python))
    return { ok: false, reason: `${python} is not on the PATH (MLflow needs Python 3.10+)` };
  try {
    say(
      `installing mlflow==${MLFLOW_VERSION} into a virtualenv at ${home} (the real MLflow client and server that the tests compare our readers with)`,
    );
    rmSync(home, { recursive: true, force: true });
    run(python, ['-m', 'venv', home]);
    const quiet = { env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } };
    run(paths.python, ['-m', 'pip', 'install', '--quiet', `mlflow==${MLFLOW_VERSION}`], quiet);
    const check = spawnSync(paths.python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' });
    if (check.stdout.trim() !== MLFLOW_VERSION)
      throw new Error(`import mlflow gave ${JSON.stringify(check.stdout.trim())}: ${check.stderr}`);
    writeFileSync(marker, new Date().toISOString());
    return { ok: true, ...paths };
  } catch (error) {
    return { ok: false, reason: `MLflow install failed: ${/** @type {Error} */ (error).message}` };
  }
}

/** Whether MLflow is installed, without installing it. */
export function mlflowReady() {
  return existsSync(join(mlflowHome(), '.complete'));
}

/**
 * Starts `mlflow server` on loopback over a backend store, and waits until it answers.
 * @param {{ backendStoreUri: string, port?: number, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<{ url: string, log: () => string, stop: () => Promise<void> }>}
 */
export async function startMlflowServer(options) {
  const installed = ensureMlflow();
  if (!installed.ok) throw new Error(installed.reason);
  const port = options.port ?? (await freePort());
  const artifacts = mkdtempSync(join(tmpdir(), 'mlops-mlflow-artifacts-'));
  const args = [
    'server',
    '--backend-store-uri',
    options.backendStoreUri,
    // A local artifact root, so the server never needs a separate artifact service.
    '--default-artifact-root',
    artifacts,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    '1',
  ];
  const child = spawn(installed.mlflow, args, {
    // Anything the server writes beside itself (./mlartifacts) lands in the temp folder.
    cwd: artifacts,
    env: {
      ...process.env,
      MLFLOW_ALLOW_FILE_STORE: 'true',
      // No telemetry: the network reaches package registries only.
      MLFLOW_DISABLE_TELEMETRY: 'true',
      DO_NOT_TRACK: 'true',
      // No background job workers (huey consumers, periodic tasks that write to the store):
      // tests only read.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // The server forks uvicorn/gunicorn workers: kill the whole process group.
      killGroup(/** @type {number} */ (child.pid), 'SIGTERM');
      const timer = setTimeout(() => killGroup(/** @type {number} */ (child.pid), 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(artifacts, { recursive: true, force: true });
  };
  try {
    await waitForMlflow(
      url,
      90_000,
      () => log,
      () => child.exitCode,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, log: () => log, stop };
}

/** @param {number} pid @param {NodeJS.Signals} signal */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * @param {string} url
 * @param {number} timeoutMs
 * @param {() => string} log
 * @param {() => number | null} exitCode
 */
async function waitForMlflow(url, timeoutMs, log, exitCode) {
  const deadline = Date.now() + timeoutMs;
  // /health answers before the store is usable; the search proves the backend store works.
  const probe = `${url}/api/2.0/mlflow/experiments/search?max_results=1`;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`mlflow server exited with ${exitCode()}:\n${log()}`);
    try {
      const response = await fetch(probe);
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`mlflow server did not answer at ${probe} within ${timeoutMs} ms:\n${log()}`);
}
