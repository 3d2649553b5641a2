// @ts-check
// A real image registry for the deployment tests: Debian's docker-registry (Distribution 2.8) on
// loopback, where the engine pushes without TLS, optionally behind htpasswd (bcrypt) auth.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './codeServer.mjs';
import { ensureDebianPackages } from './setup.mjs';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const HTPASSWD_BIN = '/usr/bin/htpasswd';

/**
 * Installs Debian's docker-registry and apache2-utils (htpasswd) when they are missing.
 * @returns {{ ok: true } | { ok: false, reason: string }}
 */
export function ensureRegistryPackages() {
  try {
    const missing = ensureDebianPackages({
      'docker-registry': 'the Distribution registry the deployment tests push images to',
      'apache2-utils': 'htpasswd, which makes the bcrypt password file of the registry with authentication',
    });
    if (missing.length > 0) return { ok: false, reason: `missing Debian packages: ${missing.join(', ')}` };
    for (const binary of [REGISTRY_BIN, HTPASSWD_BIN])
      if (!existsSync(binary)) return { ok: false, reason: `${binary} is missing after installing its package` };
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      reason: `the registry packages could not be installed: ${/** @type {Error} */ (error).message}`,
    };
  }
}

/**
 * @typedef {object} Registry
 * @property {string} host `127.0.0.1:PORT` (`ADDRESS:PORT`)
 * @property {() => Promise<string[]>} catalog the repositories the registry holds
 * @property {(repository: string, reference: string) => Promise<string | null>} manifestDigest the
 *   Docker-Content-Digest of a schema 2 manifest, or null when there is none
 * @property {() => string} log what the registry printed
 * @property {() => Promise<void>} stop stops it and removes its storage
 */

/**
 * Starts `docker-registry serve` on a free port with its storage in a temp folder, and waits until
 * GET /v2/ answers. It listens on 127.0.0.1 unless `address` says otherwise (the engine pushes to
 * loopback registries without TLS, and to no other).
 * @param {{ auth?: { username: string, password: string }, address?: string }} [options]
 * @returns {Promise<Registry>}
 */
export async function startRegistry(options = {}) {
  const installed = ensureRegistryPackages();
  if (!installed.ok) throw new Error(installed.reason);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-registry-'));
  const port = await freePort();
  const host = `${options.address ?? '127.0.0.1'}:${port}`;
  const config = {
    version: '0.1',
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
    // A secret of its own, or the registry warns that it made one up.
    http: { addr: host, secret: randomBytes(16).toString('hex') },
    ...(options.auth
      ? { auth: { htpasswd: { realm: 'mlops-test-registry', path: writeHtpasswd(dir, options.auth) } } }
      : {}),
  };
  mkdirSync(config.storage.filesystem.rootdirectory);
  const configFile = join(dir, 'config.yml');
  // JSON is YAML, and it needs no quoting rules.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk) => (log += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (log += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const authorization = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined;
  const headers = (/** @type {Record<string, string>} */ extra = {}) => ({
    ...(authorization ? { Authorization: authorization } : {}),
    ...extra,
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForRegistry(
      `http://${host}/v2/`,
      20_000,
      () => log,
      () => child.exitCode,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host,
    log: () => log,
    stop,
    async catalog() {
      const response = await fetch(`http://${host}/v2/_catalog`, { headers: headers() });
      if (!response.ok) throw new Error(`GET /v2/_catalog answered ${response.status}: ${await response.text()}`);
      const body = /** @type {{ repositories?: string[] }} */ (await response.json());
      return body.repositories ?? [];
    },
    async manifestDigest(repository, reference) {
      const response = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, {
        method: 'HEAD',
        headers: headers({ Accept: 'application/vnd.docker.distribution.manifest.v2+json' }),
      });
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(`HEAD /v2/${repository}/manifests/${reference} answered ${response.status}`);
      return response.headers.get('docker-content-digest');
    },
  };
}

/**
 * A bcrypt htpasswd file, the only hash the registry accepts.
 * @param {string} dir
 * @param {{ username: string, password: string }} auth
 */
function writeHtpasswd(dir, auth) {
  const result = spawnSync(HTPASSWD_BIN, ['-Bbn', auth.username, auth.password], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`htpasswd exited with ${result.status}: ${result.stderr}`);
  const file = join(dir, 'htpasswd');
  writeFileSync(file, result.stdout);
  return file;
}

/**
 * @param {string} url
 * @param {number} timeoutMs
 * @param {() => string} log
 * @param {() => number | null} exitCode
 */
async function waitForRegistry(url, timeoutMs, log, exitCode) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`docker-registry exited with ${exitCode()}:\n${log()}`);
    try {
      // 401 is the answer of a registry with authentication: it is up.
      const response = await fetch(url);
      if (response.status === 200 || response.status === 401) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer at ${url} within ${timeoutMs} ms:\n${log()}`);
}
