// @ts-check
// A real VS Code for the demo and the end-to-end tests: code-server from npm, installed into a
// cache folder outside the repository (the way @vscode/test-electron keeps .vscode-test/).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, ensureDebianPackages, hasCommand, repoRoot, run, say } from './setup.mjs';

// 4.100.3 (VS Code 1.100) is the newest code-server that runs on Node 20.
export const CODE_SERVER_VERSION = '4.100.3';

const SYSTEM_PACKAGES = {
  chromium: 'the browser that renders VS Code in the end-to-end tests',
  'libkrb5-dev': "code-server's kerberos module builds against it",
  ripgrep: "VS Code's search; code-server's installer would download it otherwise",
};

export function codeServerHome() {
  return join(cacheDir(), `code-server-${CODE_SERVER_VERSION}`);
}

export function codeServerBin() {
  return join(codeServerHome(), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/**
 * Installs code-server into the cache unless a complete install is there.
 * @returns {{ ok: true } | { ok: false, reason: string }}
 */
export function ensureCodeServer() {
  const home = codeServerHome();
  const marker = join(home, '.complete');
  const missing = ensureDebianPackages(SYSTEM_PACKAGES);
  if (missing.length > 0) return { ok: false, reason: `missing Debian packages: ${missing.join(', ')}` };
  if (existsSync(marker)) return { ok: true };
  try {
    say(`installing code-server ${CODE_SERVER_VERSION} into ${home} (a real VS Code for the demo and the tests)`);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'package.json'), JSON.stringify({ private: true }));
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
      cwd: home,
    });
    seedRipgrepDownload();
    const env = {
      ...process.env,
      npm_config_yes: 'true',
      npm_config_unsafe_perm: 'true',
      npm_config_user_agent: 'npm/11',
    };
    run('sh', ['./postinstall.sh'], { cwd: join(home, 'node_modules', 'code-server'), env });
    run('npm', ['rebuild', 'argon2'], { cwd: home });
    writeFileSync(marker, new Date().toISOString());
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `code-server install failed: ${/** @type {Error} */ (error).message}` };
  }
}

// VS Code's ripgrep package downloads a binary from GitHub, which is out of reach here; it takes
// a tarball from its download cache first, so put Debian's rg there.
function seedRipgrepDownload() {
  const cache = join(process.env.TMPDIR || tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  mkdirSync(cache, { recursive: true });
  const tarball = join(cache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (!existsSync(tarball)) run('tar', ['-czf', tarball, '-C', '/usr/bin', 'rg']);
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} port @returns {Promise<boolean>} */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The folder name VS Code expects for an unpacked extension: publisher.name-version. */
export function extensionFolderName() {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  return `${manifest.publisher}.${manifest.name}-${manifest.version}`;
}

// What the .vsix ships besides the bundles: the native SQLite and DuckDB bindings and their loaders.
const RUNTIME_MODULES = [
  '@photostructure/sqlite',
  'node-gyp-build',
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  `@duckdb/node-bindings-${process.platform}-${process.arch}`,
  'detect-libc',
];

/**
 * Copies the built extension (package.json, dist, media, schemas, the Python model server, README
 * and the runtime node modules) into an
 * extensions folder, laid out as the .vsix installs it.
 * @param {string} extensionsDir
 */
export function installBuiltExtension(extensionsDir) {
  const target = join(extensionsDir, extensionFolderName());
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const entries = [
    'package.json',
    'dist',
    'media',
    'schemas',
    join('runtime', 'mlops_runtime'),
    'README.md',
    'LICENSE',
    ...RUNTIME_MODULES.map((m) => join('node_modules', m)),
  ];
  for (const entry of entries) {
    cpSync(join(repoRoot, entry), join(target, entry), {
      recursive: true,
      filter: (source) => !source.includes('__pycache__'),
    });
  }
  return target;
}

/**
 * Starts code-server with the built extension on a workspace folder.
 * @param {{ workspace: string, port?: number, host?: string, env?: NodeJS.ProcessEnv, logFile?: string, settings?: Record<string, unknown> }} options
 * settings: user settings added to the ones every test workbench has
 */
export async function startCodeServer(options) {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const dataDir = mkdtempSync(join(tmpdir(), 'mlops-code-server-'));
  const userDir = join(dataDir, 'user');
  const extensionsDir = join(dataDir, 'extensions');
  mkdirSync(join(userDir, 'User'), { recursive: true });
  // Without this the workspace trust dialog blocks the workbench.
  writeFileSync(
    join(userDir, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      ...options.settings,
    }),
  );
  installBuiltExtension(extensionsDir);
  const args = [
    codeServerBin(),
    '--auth',
    'none',
    '--bind-addr',
    `${host}:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    userDir,
    '--extensions-dir',
    extensionsDir,
    options.workspace,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const url = `http://${host}:${port}/`;
  await waitForHttp(
    url,
    60_000,
    () => log,
    () => child.exitCode,
  );
  return {
    url,
    dataDir,
    extensionsDir,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        try {
          process.kill(-(/** @type {number} */ (child.pid)), 'SIGTERM');
        } catch {
          /* already gone */
        }
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
      if (options.logFile) writeFileSync(options.logFile, log);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * @param {string} url
 * @param {number} timeoutMs
 * @param {() => string} log
 * @param {() => number | null} exitCode
 */
async function waitForHttp(url, timeoutMs, log, exitCode) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`code-server exited with ${exitCode()}:\n${log()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer at ${url} within ${timeoutMs} ms:\n${log()}`);
}

/** Whether Chromium and code-server can be used here, without installing anything. */
export function codeServerReady() {
  return existsSync(join(codeServerHome(), '.complete')) && hasCommand('chromium');
}
