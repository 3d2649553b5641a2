// `npm run package` gives a .vsix that holds the bundles and nothing of the sources, and that a
// real VS Code (code-server) installs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { codeServerBin } from '../../scripts/lib/codeServer.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { needService } from '../support/services';
import { workbenchUnavailableReason } from '../support/workbench';
import { zipEntryNames } from '../support/zip';

const { name, version, publisher } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const vsix = join(repoRoot, 'out', `${name}-${version}-linux-x64.vsix`);

before(() => {
  rmSync(vsix, { force: true });
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs')], {
    cwd: repoRoot,
    stdio: 'pipe',
    encoding: 'utf8',
  });
});

test('the .vsix holds the bundles, icons and manifest, and no sources, tests or dependencies', () => {
  const entries = zipEntryNames(vsix);
  for (const expected of [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/cli.js',
    'extension/dist/webview/environment.js',
    'extension/media/mlops.svg',
    'extension/readme.md',
    'extension/runtime/mlops_runtime/server.py',
    'extension/runtime/mlops_runtime/train.py',
    'extension.vsixmanifest',
  ]) {
    assert.ok(entries.includes(expected), `${expected} in ${entries.join(', ')}`);
  }
  for (const entry of entries) {
    assert.doesNotMatch(entry, /^extension\/(src|test|webview-ui|scripts|\.ci|demo|bench)\//, entry);
    assert.doesNotMatch(entry, /\.(ts|map|pyc)$/, entry);
    assert.doesNotMatch(entry, /^extension\/runtime\/tests\//, entry);
    // The only dependencies shipped are the native SQLite and DuckDB bindings (and their loaders), for this platform.
    if (entry.startsWith('extension/node_modules/')) {
      assert.match(
        entry,
        /^extension\/node_modules\/(@photostructure\/sqlite|node-gyp-build|@duckdb\/node-api|@duckdb\/node-bindings|@duckdb\/node-bindings-linux-x64|detect-libc)\//,
        entry,
      );
    }
    if (entry.includes('/prebuilds/')) assert.match(entry, /\/prebuilds\/linux-x64\//, entry);
  }
  assert.ok(
    entries.includes(
      'extension/node_modules/@photostructure/sqlite/prebuilds/linux-x64/@photostructure+sqlite.glibc.node',
    ),
  );
  assert.ok(entries.includes('extension/node_modules/@duckdb/node-bindings-linux-x64/duckdb.node'));
  assert.ok(entries.includes('extension/node_modules/@duckdb/node-api/lib/index.js'));
});

test('code-server installs the .vsix', (t) => {
  const unavailable = workbenchUnavailableReason();
  if (!needService(t, !unavailable, `code-server cannot run: ${unavailable}`)) return;
  const extensionsDir = mkdtempSync(join(tmpdir(), 'mlops-vsix-'));
  try {
    execFileSync(process.execPath, [codeServerBin(), '--extensions-dir', extensionsDir, '--install-extension', vsix], {
      stdio: 'pipe',
    });
    const installed = readdirSync(extensionsDir).find((entry) => entry.startsWith(`${publisher}.${name}-${version}`));
    assert.ok(installed, `installed as ${readdirSync(extensionsDir).join(', ')}`);
    assert.ok(existsSync(join(extensionsDir, installed, 'dist', 'extension.js')));
  } finally {
    rmSync(extensionsDir, { recursive: true, force: true });
  }
});
