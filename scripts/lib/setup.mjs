// @ts-check
// Installs what the demo and the tests need, saying what it installs and why.
// Plain Node with no dependencies: it runs before `npm ci` has.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** Where slow downloads and builds are cached, outside the repository. */
export function cacheDir() {
  return process.env.MLOPS_CACHE_DIR || join(homedir(), '.cache', 'mlops-vscode');
}

/** @param {string} message */
export function say(message) {
  process.stderr.write(`[mlops] ${message}\n`);
}

/**
 * Runs a program with an argument array (never a shell string) and fails loudly.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [options]
 */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  return result;
}

/** @param {string} command */
export function hasCommand(command) {
  return (process.env.PATH || '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** @param {string} pkg */
function hasDebianPackage(pkg) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

let aptUpdated = false;

/**
 * Installs missing Debian packages when running as root; otherwise reports what is missing.
 * @param {Record<string, string>} packages package name -> why it is needed
 * @returns {string[]} packages still missing
 */
export function ensureDebianPackages(packages) {
  const missing = Object.keys(packages).filter((p) => !hasDebianPackage(p));
  if (missing.length === 0) return [];
  if (!hasCommand('apt-get') || process.getuid?.() !== 0) {
    say(`missing Debian packages (install them as root): ${missing.join(', ')}`);
    return missing;
  }
  for (const p of missing) say(`installing ${p} with apt-get: ${packages[p]}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  return missing.filter((p) => !hasDebianPackage(p));
}

/** Runs `npm ci` when the project's dependencies are not installed yet. */
export function ensureNodeModules() {
  if (existsSync(join(repoRoot, 'node_modules', '.package-lock.json'))) return;
  say('installing the npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repoRoot });
}

/** Builds the extension, the CLI and the webviews into dist/. */
export function build() {
  say('building the extension (esbuild)');
  run(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot });
}
