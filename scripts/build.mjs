// @ts-check
// Bundles the extension host code, the CLI and one browser bundle per webview panel.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/setup.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const dist = join(repoRoot, 'dist');

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  absWorkingDir: repoRoot,
};

// dockerode (with ssh2 and gRPC under it) is most of the code the deploy commands need: it goes
// into a bundle of its own, dist/vendor/dockerode.js, which is required on first use, so the
// extension's own bundle stays small and quick to load.
// @kubernetes/client-node gets the same treatment, in dist/vendor/kubernetes.js.
/** @type {esbuild.Plugin} */
const vendorDockerode = {
  name: 'vendor-dockerode',
  setup(build) {
    build.onResolve({ filter: /^dockerode$/ }, () => ({ path: './vendor/dockerode.js', external: true }));
    build.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({
      path: './vendor/kubernetes.js',
      external: true,
    }));
  },
};

/** @type {esbuild.BuildOptions} */
const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The SQLite and DuckDB bindings are native: they ship as node_modules beside the bundle.
  // ssh2 (under dockerode) loads its optional native speed-ups in try/catch and falls back to
  // JavaScript, so they stay out.
  external: ['vscode', '@photostructure/sqlite', '@duckdb/node-api', 'cpu-features', '*.node'],
};

// Each folder in webview-ui/src with a main.ts is one panel, bundled on its own.
const panels = readdirSync(join(repoRoot, 'webview-ui', 'src'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
  .map((entry) => entry.name);

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...node, entryPoints: { 'vendor/dockerode': 'node_modules/dockerode/lib/docker.js' }, outdir: 'dist' },
  {
    ...node,
    entryPoints: { 'vendor/kubernetes': 'node_modules/@kubernetes/client-node/dist/index.js' },
    outdir: 'dist',
  },
  {
    ...node,
    plugins: [vendorDockerode],
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    // Stamps the start and end of module evaluation, so the benchmark can time it.
    banner: { js: 'globalThis.__mlopsBundleStart = performance.now();' },
    footer: { js: 'globalThis.__mlopsBundleLoaded = performance.now();' },
  },
  {
    ...node,
    plugins: [vendorDockerode],
    entryPoints: { cli: 'src/cli.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    entryPoints: Object.fromEntries(panels.map((panel) => [panel, `webview-ui/src/${panel}/main.ts`])),
    outdir: 'dist/webview',
  },
];

function copyStaticAssets() {
  const codicons = join(dist, 'codicons');
  mkdirSync(codicons, { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) {
    cpSync(join(repoRoot, 'node_modules', '@vscode', 'codicons', 'dist', file), join(codicons, file));
  }
}

rmSync(dist, { recursive: true, force: true });
copyStaticAssets();
if (watch) {
  const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
  console.log('watching for changes');
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
