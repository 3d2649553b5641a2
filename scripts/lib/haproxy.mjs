// @ts-check
// Debian's HAProxy 2.6 (with Lua 5.3 and the Prometheus exporter) on this machine, for the proxy's
// integration test and benchmark, and dnsmasq (from dnsmasq-base, which starts no service) to play
// Swarm's DNS for them: our own instances on free loopback ports, never the packages' services.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ensureDebianPackages, hasCommand } from './setup.mjs';

/** @param {string} name the program on the PATH, else in /usr/sbin, else null */
function findProgram(name) {
  for (const dir of [...(process.env.PATH || '').split(delimiter), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * Finds a program, installing its Debian package when it is missing and this runs as root.
 * @param {string} program
 * @param {string} pkg
 * @param {string} why
 * @returns {{ ok: true, bin: string } | { ok: false, reason: string }}
 */
function ensureProgram(program, pkg, why) {
  let bin = findProgram(program);
  if (bin) return { ok: true, bin };
  if (!hasCommand('apt-get') || process.getuid?.() !== 0)
    return { ok: false, reason: `${program} is not installed (install the Debian package ${pkg} as root)` };
  try {
    const missing = ensureDebianPackages({ [pkg]: why });
    if (missing.length > 0) return { ok: false, reason: `missing Debian packages: ${missing.join(', ')}` };
  } catch (error) {
    return { ok: false, reason: `${pkg} could not be installed: ${/** @type {Error} */ (error).message}` };
  }
  bin = findProgram(program);
  return bin ? { ok: true, bin } : { ok: false, reason: `${program} is still missing after installing ${pkg}` };
}

/** `haproxy`, installing Debian's haproxy package (2.6, built with Lua) when it is missing. */
export function ensureHaproxy() {
  return ensureProgram(
    'haproxy',
    'haproxy',
    "the proxy on a deployment's request path, run with generated configurations by the proxy test and benchmark (the package's own service is left alone)",
  );
}

/** `dnsmasq`, installing Debian's dnsmasq-base (the program without a service) when it is missing. */
export function ensureDnsmasq() {
  return ensureProgram(
    'dnsmasq',
    'dnsmasq-base',
    "a DNS server that answers tasks.NAME as Swarm's does, so the proxy test sees tasks come and go",
  );
}
