// @ts-check
// A real Docker Engine for the tests and the demo: Debian's docker.io, started when it is not
// running, and the images the tests need, built offline (no registry is reachable here): a Python
// base image and an HAProxy image from debootstrap, and a tiny busybox image.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, ensureDebianPackages, hasCommand, say } from './setup.mjs';

export const DOCKER_SOCKET = '/var/run/docker.sock';
const DOCKER_PID_FILE = '/var/run/docker.pid';

/**
 * One call to the engine API over its unix socket.
 * @param {string} method
 * @param {string} path e.g. `/version`
 * @param {{ body?: unknown, timeoutMs?: number }} [options]
 * @returns {Promise<{ status: number, body: any }>} the body parsed as JSON when it is JSON
 */
export function engineRequest(method, path, options = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: DOCKER_SOCKET,
        method,
        path,
        headers:
          payload === undefined
            ? {}
            : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let body = text;
          if ((res.headers['content-type'] ?? '').includes('json')) {
            try {
              body = JSON.parse(text);
            } catch {
              /* keep the text */
            }
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`the Docker Engine did not answer ${method} ${path} within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Whether the engine answers GET /_ping on its socket. */
async function engineAnswers() {
  if (!existsSync(DOCKER_SOCKET)) return false;
  try {
    const { status } = await engineRequest('GET', '/_ping', { timeoutMs: 2000 });
    return status === 200;
  } catch {
    return false;
  }
}

/**
 * Runs the `docker` CLI (with an argument array) against the engine on DOCKER_SOCKET.
 * @param {string[]} args
 * @param {{ stdin?: string, env?: NodeJS.ProcessEnv, cwd?: string }} [options] stdin: a file to feed
 * @returns {Promise<{ status: number | null, stdout: string, stderr: string }>}
 */
export function dockerCli(args, options = {}) {
  return runAsync('docker', args, {
    env: { ...process.env, DOCKER_HOST: `unix://${DOCKER_SOCKET}`, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.stdin ? { stdin: options.stdin } : {}),
  });
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, stdin?: string }} [options] stdin: a file streamed to the program
 * @returns {Promise<{ status: number | null, stdout: string, stderr: string }>}
 */
function runAsync(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    if (options.stdin && child.stdin) {
      const input = createReadStream(options.stdin);
      input.on('error', (error) => {
        child.kill();
        reject(error);
      });
      // The program may exit before reading everything; its exit status tells what happened.
      child.stdin.on('error', () => {});
      input.pipe(child.stdin);
    }
    child.on('error', (error) => reject(new Error(`${command} could not start: ${error.message}`)));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** @param {{ status: number | null, stdout: string, stderr: string }} result @param {string} what */
function check(result, what) {
  if (result.status === 0) return result;
  const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
  throw new Error(`${what} exited with ${result.status}:\n${tail}`);
}

/** @param {number} pid */
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes sure a Docker Engine answers on /var/run/docker.sock: installs Debian's docker.io when
 * dockerd is missing and starts dockerd, detached, when it is not running.
 * @returns {Promise<{ ok: true, socket: string } | { ok: false, reason: string }>}
 */
export async function ensureDockerEngine() {
  if (await engineAnswers()) return { ok: true, socket: DOCKER_SOCKET };
  try {
    return await startEngine();
  } catch (error) {
    return { ok: false, reason: `the Docker Engine could not be started: ${/** @type {Error} */ (error).message}` };
  }
}

/** @returns {Promise<{ ok: true, socket: string } | { ok: false, reason: string }>} */
async function startEngine() {
  if (!hasCommand('dockerd')) {
    const missing = ensureDebianPackages({
      'docker.io':
        'the Docker Engine (dockerd, containerd, runc and the docker CLI) that the deployment tests run against',
    });
    if (missing.length > 0 || !hasCommand('dockerd'))
      return {
        ok: false,
        reason: `dockerd is not installed (missing Debian packages: ${missing.join(', ') || 'docker.io'})`,
      };
  }
  // A dockerd that is still starting (or was started by someone else) is waited for, not doubled.
  const runningPid = existsSync(DOCKER_PID_FILE) ? Number(readFileSync(DOCKER_PID_FILE, 'utf8').trim()) : 0;
  let exited = () => /** @type {number | null} */ (null);
  let logFile = '';
  if (runningPid > 0 && processAlive(runningPid)) {
    say(`dockerd (pid ${runningPid}) is running but does not answer on ${DOCKER_SOCKET} yet; waiting for it`);
  } else {
    if (process.getuid?.() !== 0)
      return {
        ok: false,
        reason: `the Docker Engine does not answer on ${DOCKER_SOCKET}, and starting dockerd needs root`,
      };
    logFile = dockerdLogFile();
    say(`starting dockerd (the Docker Engine), detached, logging to ${logFile}`);
    const log = openSync(logFile, 'a');
    try {
      const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] });
      let code = /** @type {number | null} */ (null);
      child.on('exit', (status, signal) => (code = status ?? (signal ? 128 : 1)));
      child.on('error', () => (code = 127));
      child.unref();
      exited = () => code;
    } finally {
      closeSync(log);
    }
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await engineAnswers()) {
      say(`the Docker Engine answers on ${DOCKER_SOCKET}`);
      return { ok: true, socket: DOCKER_SOCKET };
    }
    if (exited() !== null) return { ok: false, reason: `dockerd exited with ${exited()}:\n${logTail(logFile)}` };
    await sleep(250);
  }
  return {
    ok: false,
    reason: `dockerd did not answer on ${DOCKER_SOCKET} within 60 s${logFile ? `:\n${logTail(logFile)}` : ''}`,
  };
}

function dockerdLogFile() {
  for (const dir of [cacheDir(), tmpdir()]) {
    try {
      mkdirSync(dir, { recursive: true });
      return join(dir, 'dockerd.log');
    } catch {
      /* try the next */
    }
  }
  return '/dev/null';
}

/** @param {string} file */
function logTail(file) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Makes this engine a single-node swarm manager (advertising on loopback) unless it is one.
 * @returns {Promise<{ ok: true } | { ok: false, reason: string }>}
 */
export async function ensureSwarm() {
  try {
    const { body } = await engineRequest('GET', '/info');
    const state = body?.Swarm?.LocalNodeState;
    if (state === 'active') return { ok: true };
    if (state !== 'inactive')
      return {
        ok: false,
        reason: `the engine's swarm state is ${JSON.stringify(state)}: ${body?.Swarm?.Error || 'not inactive, so it is left alone'}`,
      };
    say('making the Docker Engine a single-node swarm manager (docker swarm init --advertise-addr 127.0.0.1)');
    check(await dockerCli(['swarm', 'init', '--advertise-addr', '127.0.0.1']), 'docker swarm init');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `docker swarm init failed: ${/** @type {Error} */ (error).message}` };
  }
}

/** @param {unknown} value */
function shortHash(value) {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}

/** @param {string} image */
async function imageExists(image) {
  const { status } = await engineRequest('GET', `/images/${encodeURIComponent(image)}/json`);
  return status === 200;
}

/**
 * A test image built offline: a Debian root file system from debootstrap with `packages`, imported
 * with `cmd`; `dirs` are made in it (absolute paths). Its hash is the image's tag and names its
 * cached tarball, so a change of recipe builds afresh.
 * @typedef {{ suite: string, variant: string, packages: readonly string[], cmd: readonly string[], dirs?: readonly string[] }} ImageRecipe
 */

/** What the Python base image of the tests is made of; its hash is the image's tag. */
export const BASE_IMAGE_RECIPE = Object.freeze({
  suite: 'bookworm',
  variant: 'minbase',
  packages: Object.freeze(['python3', 'python3-numpy', 'python3-pandas', 'python3-sklearn', 'ca-certificates']),
  cmd: Object.freeze(['python3']),
});

export const BASE_IMAGE = `mlops-test-python:${shortHash(BASE_IMAGE_RECIPE)}`;

/** The file system of the base image, kept so that a new engine imports it in seconds. */
export function baseImageTarball() {
  return recipeTarball('base-image', BASE_IMAGE_RECIPE);
}

/**
 * The proxy image of the tests: Debian's HAProxy (2.6, with Lua), `haproxy` on PATH and the
 * config folder of the official image, where deployments mount haproxy.cfg.
 */
export const PROXY_IMAGE_RECIPE = Object.freeze({
  suite: 'bookworm',
  variant: 'minbase',
  packages: Object.freeze(['haproxy']),
  cmd: Object.freeze(['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg']),
  dirs: Object.freeze(['/usr/local/etc/haproxy']),
});

export const PROXY_IMAGE = `mlops-test-haproxy:${shortHash(PROXY_IMAGE_RECIPE)}`;

/** @param {string} prefix @param {ImageRecipe} recipe */
function recipeTarball(prefix, recipe) {
  return join(cacheDir(), `${prefix}-${shortHash(recipe)}.tar`);
}

/**
 * The Debian mirror this machine's apt uses for the main archive (sources.list or deb822
 * .sources files). No mirror is written into the code: a machine without one is told so.
 */
export function debianMirror() {
  /** @type {{ uri: string, suites: string[] }[]} */
  const entries = [];
  const read = (/** @type {string} */ file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const listFiles = ['/etc/apt/sources.list'];
  const sourcesFiles = [];
  try {
    for (const name of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (name.endsWith('.list')) listFiles.push(join('/etc/apt/sources.list.d', name));
      if (name.endsWith('.sources')) sourcesFiles.push(join('/etc/apt/sources.list.d', name));
    }
  } catch {
    /* no sources.list.d */
  }
  for (const file of listFiles) {
    for (const line of read(file).split('\n')) {
      const words = line
        .replace(/#.*/, '')
        .replace(/\[[^\]]*\]/, '')
        .trim()
        .split(/\s+/);
      if (words[0] === 'deb' && words.length >= 3) entries.push({ uri: words[1], suites: [words[2]] });
    }
  }
  for (const file of sourcesFiles) {
    for (const stanza of read(file).split(/\n\s*\n/)) {
      /** @type {Record<string, string>} */
      const fields = {};
      for (const line of stanza.split('\n')) {
        const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (match) fields[match[1].toLowerCase()] = match[2].trim();
      }
      if (!(fields.types ?? '').split(/\s+/).includes('deb') || fields.enabled === 'no') continue;
      for (const uri of (fields.uris ?? '').split(/\s+/).filter(Boolean))
        entries.push({ uri, suites: (fields.suites ?? '').split(/\s+/) });
    }
  }
  const suite = BASE_IMAGE_RECIPE.suite; // every recipe's suite
  const mirror =
    entries.find((e) => e.suites.includes(suite)) ??
    entries.find((e) => e.suites.some((s) => /^(bookworm|stable|trixie|testing|sid|unstable)$/.test(s)));
  if (!mirror)
    throw new Error(
      `apt has no source for Debian ${suite} (/etc/apt/sources.list, /etc/apt/sources.list.d): debootstrap needs one to build the test images`,
    );
  return mirror.uri.replace(/\/$/, '');
}

/** Removes the builds (temp tarballs, root file systems) that a killed process left behind. */
function removeStaleBuilds() {
  const dir = cacheDir();
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const match = /^(?:base|proxy)-image-[0-9a-f]+\.(?:tar\.tmp|rootfs)-(\d+)(?:-.*)?$/.exec(name);
    if (match && !processAlive(Number(match[1]))) removeRootfs(join(dir, name));
  }
}

/**
 * Removes a folder after unmounting whatever debootstrap left mounted inside it (proc, sys), so
 * that the host's /proc is never walked.
 * @param {string} path
 */
function removeRootfs(path) {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point) => point && (point === path || point.startsWith(`${path}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  if (mounts.length > 0) {
    const left = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => (line.split(' ')[1] ?? '').startsWith(`${path}/`));
    if (left) {
      say(`leaving ${path} in place: something is still mounted inside it`);
      return;
    }
  }
  rmSync(path, { recursive: true, force: true });
}

/**
 * The Python base image of the tests (Debian bookworm with python3, numpy, pandas and
 * scikit-learn), built offline: debootstrap from the machine's Debian mirror, imported into the
 * engine. The root file system is cached as a tarball, so a new engine imports it in seconds.
 * @returns {Promise<{ ok: true, image: string, versions?: Record<string, string> } | { ok: false, reason: string }>}
 */
export async function ensureBaseImage() {
  return ensureRecipeImage({
    what: 'the Python base image',
    prefix: 'base-image',
    image: BASE_IMAGE,
    recipe: BASE_IMAGE_RECIPE,
    probe: ['python3', '-c', PYTHON_VERSIONS],
    versions: (stdout) => {
      const versions = JSON.parse(stdout);
      say(
        `${BASE_IMAGE}: Python ${versions.python}, scikit-learn ${versions.sklearn}, pandas ${versions.pandas}, numpy ${versions.numpy}`,
      );
      return versions;
    },
  });
}

/**
 * The proxy image of the tests (Debian's HAProxy), built offline as the base image is; users'
 * deployments run the official image (the setting mlops.proxyImage).
 * @returns {Promise<{ ok: true, image: string, versions?: Record<string, string> } | { ok: false, reason: string }>}
 */
export async function ensureProxyImage() {
  return ensureRecipeImage({
    what: 'the HAProxy image',
    prefix: 'proxy-image',
    image: PROXY_IMAGE,
    recipe: PROXY_IMAGE_RECIPE,
    probe: ['haproxy', '-vv'],
    versions: (stdout) => {
      const haproxy = /HAProxy version (\S+)/.exec(stdout)?.[1];
      const lua = /Built with Lua version : Lua (\S+)/.exec(stdout)?.[1];
      if (!haproxy || !lua) throw new Error(`haproxy -vv names no version or no Lua:\n${stdout.slice(0, 400)}`);
      say(`${PROXY_IMAGE}: HAProxy ${haproxy} with Lua ${lua}`);
      return { haproxy, lua };
    },
  });
}

/**
 * Imports a recipe's image from its cached tarball (built first when missing) and runs `probe` in
 * it; an image whose probe fails is thrown away with its tarball, so the next call builds afresh.
 * @param {{ what: string, prefix: string, image: string, recipe: ImageRecipe, probe: string[], versions(stdout: string): Record<string, string> }} input
 * @returns {Promise<{ ok: true, image: string, versions?: Record<string, string> } | { ok: false, reason: string }>}
 */
async function ensureRecipeImage({ what, prefix, image, recipe, probe, versions: parse }) {
  try {
    if (await imageExists(image)) return { ok: true, image };
    const tarball = recipeTarball(prefix, recipe);
    if (!existsSync(tarball)) await buildRecipeTarball(what, prefix, recipe, tarball);
    else say(`importing ${what} ${image} from ${tarball}`);
    const started = Date.now();
    const changes = `CMD ${JSON.stringify(recipe.cmd)}`;
    check(await dockerCli(['import', '--change', changes, '-', image], { stdin: tarball }), 'docker import');
    say(`imported ${image} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const ran = await dockerCli(['run', '--rm', '--network', 'none', image, ...probe]);
    try {
      return { ok: true, image, versions: parse(check(ran, `docker run ${image} ${probe[0]}`).stdout) };
    } catch (error) {
      await engineRequest('DELETE', `/images/${encodeURIComponent(image)}?force=true`).catch(() => {});
      rmSync(tarball, { force: true });
      throw error;
    }
  } catch (error) {
    return { ok: false, reason: `${what} ${image} could not be built: ${/** @type {Error} */ (error).message}` };
  }
}

/** Prints the versions of Python and the libraries in an image, as JSON. */
export const PYTHON_VERSIONS =
  'import json, platform, sklearn, pandas, numpy; print(json.dumps({"python": platform.python_version(), "sklearn": sklearn.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__}))';

/** @param {string} what @param {string} prefix @param {ImageRecipe} recipe @param {string} tarball */
async function buildRecipeTarball(what, prefix, recipe, tarball) {
  const missing = ensureDebianPackages({
    debootstrap: 'builds the test images (Python, HAProxy) from Debian packages (no registry is reachable)',
  });
  if (missing.length > 0 || !hasCommand('debootstrap')) throw new Error('debootstrap is not installed');
  if (process.getuid?.() !== 0) throw new Error('debootstrap needs root');
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  removeStaleBuilds();
  const hash = shortHash(recipe);
  const rootfs = mkdtempSync(join(dir, `${prefix}-${hash}.rootfs-${process.pid}-`));
  const partial = join(dir, `${prefix}-${hash}.tar.tmp-${process.pid}`);
  const mirror = debianMirror();
  const { suite, variant, packages } = recipe;
  try {
    say(
      `building ${what} with debootstrap (${suite}, ${packages.join(', ')}) from ${mirror}; this takes a few minutes once, then it is cached in ${tarball}`,
    );
    const started = Date.now();
    check(
      await runAsync('debootstrap', [`--variant=${variant}`, `--include=${packages.join(',')}`, suite, rootfs, mirror]),
      'debootstrap',
    );
    say(`debootstrap finished in ${Math.round((Date.now() - started) / 1000)} s`);
    for (const path of recipe.dirs ?? []) mkdirSync(join(rootfs, path), { recursive: true });
    // What apt downloaded has no place in the image.
    for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
      const path = join(rootfs, sub);
      if (existsSync(path))
        for (const name of readdirSync(path))
          if (name.endsWith('.deb') || name.endsWith('_Packages')) rmSync(join(path, name), { force: true });
    }
    check(await runAsync('tar', ['--numeric-owner', '-C', rootfs, '-cf', partial, '.']), 'tar');
    // The rename is the guard: a tarball under its final name is complete.
    renameSync(partial, tarball);
    say(`cached the file system of ${what} (${Math.round(statSync(tarball).size / 1e6)} MB) in ${tarball}`);
  } finally {
    rmSync(partial, { force: true });
    removeRootfs(rootfs);
  }
}

/** The busybox image: `FROM scratch` with Debian's static busybox and a link per applet. */
export const BUSYBOX_DOCKERFILE = 'FROM scratch\nCOPY rootfs/ /\nCMD ["/bin/sh"]\n';
const BUSYBOX = '/bin/busybox';

/**
 * A tiny image for tests that only need a container (Swarm services, for one): Debian's
 * busybox-static on scratch, tagged by a hash of the Dockerfile and the binary.
 * @returns {Promise<{ ok: true, image: string } | { ok: false, reason: string }>}
 */
export async function ensureBusyboxImage() {
  try {
    const missing = ensureDebianPackages({
      'busybox-static': 'a static busybox, the whole of a tiny test image built without a registry',
    });
    if (missing.length > 0 || !existsSync(BUSYBOX))
      throw new Error(`${BUSYBOX} is missing (Debian package busybox-static)`);
    const binary = createHash('sha256').update(readFileSync(BUSYBOX)).digest('hex');
    const image = `mlops-test-busybox:${shortHash({ dockerfile: BUSYBOX_DOCKERFILE, binary })}`;
    if (await imageExists(image)) return { ok: true, image };
    say(`building ${image} (FROM scratch with Debian's static busybox)`);
    const context = mkdtempSync(join(tmpdir(), 'mlops-busybox-'));
    try {
      const bin = join(context, 'rootfs', 'bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync(BUSYBOX, join(bin, 'busybox'));
      const applets = check(await runAsync(BUSYBOX, ['--list']), 'busybox --list')
        .stdout.split('\n')
        .filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
      for (const applet of applets) symlinkSync('busybox', join(bin, applet));
      mkdirSync(join(context, 'rootfs', 'tmp'));
      chmodSync(join(context, 'rootfs', 'tmp'), 0o1777);
      writeFileSync(join(context, 'Dockerfile'), BUSYBOX_DOCKERFILE);
      // The classic builder: Debian's docker.io has no buildx, and nothing is pulled.
      check(
        await dockerCli(['build', '--quiet', '--tag', image, context], { env: { DOCKER_BUILDKIT: '0' } }),
        'docker build',
      );
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    return { ok: true, image };
  } catch (error) {
    return { ok: false, reason: `the busybox test image could not be built: ${/** @type {Error} */ (error).message}` };
  }
}
