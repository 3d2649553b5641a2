// @ts-check
// The Gateway API CustomResourceDefinitions (standard channel) that the tests install into their
// control plane: the go command downloads the sigs.k8s.io/gateway-api module from the machine's
// Go module proxy (checked against the checksum database) and its config/crd/standard files are
// kept in the cache, keyed by the version.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGo } from './kubernetes.mjs';
import { cacheDir, say } from './setup.mjs';

/** Percentage request mirroring is in the standard channel from v1.3 on. */
export const GATEWAY_API_VERSION = 'v1.6.3';
const MODULE = 'sigs.k8s.io/gateway-api';

export function gatewayApiCrdDir() {
  return join(cacheDir(), `gateway-api-${GATEWAY_API_VERSION}`);
}

/**
 * The standard channel's CRD files (gateway.networking.k8s.io_*.yaml), downloaded once.
 * @returns {{ ok: true, files: string[] } | { ok: false, reason: string }}
 */
export function ensureGatewayApiCrds() {
  const dir = gatewayApiCrdDir();
  const listed = () =>
    readdirSync(dir)
      .filter((file) => /^gateway\.networking\.k8s\.io_.*\.yaml$/.test(file))
      .sort()
      .map((file) => join(dir, file));
  if (existsSync(dir)) return { ok: true, files: listed() };
  try {
    say(`getting the Gateway API ${GATEWAY_API_VERSION} CRDs (standard channel) from the Go module proxy into ${dir}`);
    const work = mkdtempSync(join(tmpdir(), 'mlops-gateway-api-'));
    const download = spawnSync(ensureGo(), ['mod', 'download', '-json', `${MODULE}@${GATEWAY_API_VERSION}`], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    });
    rmSync(work, { recursive: true, force: true });
    if (download.status !== 0)
      throw new Error(`go mod download ${MODULE}@${GATEWAY_API_VERSION} failed: ${download.stderr || download.stdout}`);
    const moduleDir = /** @type {{ Dir?: string }} */ (JSON.parse(download.stdout)).Dir;
    if (!moduleDir) throw new Error(`go mod download ${MODULE}@${GATEWAY_API_VERSION} named no folder`);
    const standard = join(moduleDir, 'config', 'crd', 'standard');
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    // The CRDs only: the channel's ValidatingAdmissionPolicy guards upgrades, which a test cluster has none of.
    for (const file of readdirSync(standard).filter((name) => /^gateway\.networking\.k8s\.io_.*\.yaml$/.test(name)))
      if (!file.includes('_vap_')) writeFileSync(join(partial, file), readFileSync(join(standard, file)));
    renameSync(partial, dir);
    return { ok: true, files: listed() };
  } catch (error) {
    return { ok: false, reason: `the Gateway API CRDs could not be had: ${/** @type {Error} */ (error).message}` };
  }
}
