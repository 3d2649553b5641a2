// @ts-check
// A real Prometheus for the monitoring tests: Debian's prometheus package (2.42, with promtool),
// run as our own instance on a free loopback port with its storage in a temp folder, so a service
// the package may have started on :9090 is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './codeServer.mjs';
import { ensureDebianPackages, hasCommand } from './setup.mjs';

/** @param {string} name the program on the PATH, else in /usr/bin, else null */
function findProgram(name) {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return existsSync(join('/usr/bin', name)) ? join('/usr/bin', name) : null;
}

/**
 * Finds `prometheus` (and `promtool`), installing Debian's prometheus package when they are
 * missing and this runs as root with apt-get.
 * @returns {{ ok: true, bin: string, promtool: string | null } | { ok: false, reason: string }}
 */
export function ensurePrometheus() {
  let bin = findProgram('prometheus');
  if (!bin) {
    if (!hasCommand('apt-get') || process.getuid?.() !== 0) {
      return {
        ok: false,
        reason:
          'prometheus is not installed (install the Debian package prometheus as root, or put a prometheus binary on the PATH)',
      };
    }
    try {
      const missing = ensureDebianPackages({
        prometheus:
          'the Prometheus server and promtool that the monitoring tests scrape the model server with and check generated scrape configs with (our own instance runs on a free port; a service the package starts on :9090 is left alone)',
      });
      if (missing.length > 0) return { ok: false, reason: `missing Debian packages: ${missing.join(', ')}` };
    } catch (error) {
      return {
        ok: false,
        reason: `the prometheus package could not be installed: ${/** @type {Error} */ (error).message}`,
      };
    }
    bin = findProgram('prometheus');
    if (!bin) return { ok: false, reason: 'prometheus is still missing after installing its Debian package' };
  }
  return { ok: true, bin, promtool: findProgram('promtool') };
}

/**
 * `promtool check config FILE`: whether Prometheus would load the file, and what promtool said.
 * @param {string} configPath
 * @returns {{ ok: boolean, output: string }}
 */
export function promtoolCheckConfig(configPath) {
  const installed = ensurePrometheus();
  if (!installed.ok) return { ok: false, output: installed.reason };
  if (!installed.promtool) return { ok: false, output: 'promtool is not installed beside prometheus' };
  const result = spawnSync(installed.promtool, ['check', 'config', configPath], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * @typedef {object} RunningPrometheus
 * @property {string} url `http://127.0.0.1:PORT`
 * @property {string} configPath the prometheus.yml it runs with
 * @property {(configYaml: string) => Promise<void>} reload writes a new config and has Prometheus load it (POST /-/reload)
 * @property {() => string} log what Prometheus printed
 * @property {() => Promise<void>} stop stops it and removes what it wrote
 */

/**
 * Starts Prometheus on a free loopback port with its own TSDB in a temp folder (or in `dir`), the
 * lifecycle API on for reloads, and waits until GET /-/ready answers 200. `args` are more flags
 * (e.g. --web.config.file=FILE for basic auth); `headers` go with its own readiness probe and reloads.
 * @param {{ configYaml: string, dir?: string, args?: string[], headers?: Record<string, string> }} options
 * @returns {Promise<RunningPrometheus>}
 */
export async function startPrometheus(options) {
  const installed = ensurePrometheus();
  if (!installed.ok) throw new Error(installed.reason);
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mlops-prometheus-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, options.configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    installed.bin,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // POST /-/reload, for reload().
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.args ?? []),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk) => (log += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (log += chunk));
  let exitCode = /** @type {number | null} */ (null);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve((exitCode = code ?? (signal ? 128 : 1)))),
  );
  child.on('error', (error) => {
    log += `\n${error.message}`;
    exitCode = 127;
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForReady(
      `${url}/-/ready`,
      options.headers ?? {},
      60_000,
      () => log,
      () => exitCode,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    configPath,
    log: () => log,
    stop,
    async reload(configYaml) {
      writeFileSync(configPath, configYaml);
      const response = await fetch(`${url}/-/reload`, { method: 'POST', headers: options.headers ?? {} });
      if (!response.ok)
        throw new Error(`POST ${url}/-/reload answered ${response.status}: ${(await response.text()).trim()}\n${log}`);
    },
  };
}

/**
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {number} timeoutMs
 * @param {() => string} log
 * @param {() => number | null} exitCode
 */
async function waitForReady(url, headers, timeoutMs, log, exitCode) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`prometheus exited with ${exitCode()}:\n${log()}`);
    try {
      const response = await fetch(url, { headers });
      if (response.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`prometheus did not answer ${url} within ${timeoutMs} ms:\n${log()}`);
}
