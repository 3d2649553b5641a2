// `npm test`: installs what is missing, then type-checks, lints (TypeScript and Python), builds and runs every test
// (unit, integration, end to end) in one node:test run, so there is one summary.
// `npm test -- test/unit` runs only the tests under the given paths.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureCodeServer } from './lib/codeServer.mjs';
import { ensureBaseImage, ensureDockerEngine, ensureProxyImage } from './lib/docker.mjs';
import { ensureKubernetesBinaries } from './lib/kubernetes.mjs';
import { ensureCheckJsonschema } from './lib/checkJsonschema.mjs';
import { ensureMlflow } from './lib/mlflow.mjs';
import { ensureTritonclient } from './lib/tritonclient.mjs';
import { ensurePrometheus } from './lib/prometheus.mjs';
import { ensureRuff } from './lib/ruff.mjs';
import { build, ensureNodeModules, repoRoot, run, say } from './lib/setup.mjs';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test/unit', 'test/integration', 'test/e2e'];

/** @param {string} path @returns {string[]} */
function testFiles(path) {
  const full = join(repoRoot, path);
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(full, file))
    .sort();
}

ensureNodeModules();
const bin = (/** @type {string} */ name) => join(repoRoot, 'node_modules', '.bin', name);
say('type-checking (tsc --noEmit)');
run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: repoRoot });
run(bin('tsc'), ['--noEmit', '-p', 'webview-ui'], { cwd: repoRoot });
say('checking the formatting (prettier --check)');
run(bin('prettier'), ['--check', '--log-level', 'warn', '.'], { cwd: repoRoot });
say('linting (eslint)');
run(bin('eslint'), ['--max-warnings', '0', '.'], { cwd: repoRoot });
// ruff from PyPI formats and lints the Python files (ruff.toml), as Prettier and ESLint the TypeScript.
const ruff = ensureRuff();
if (ruff.ok) {
  say('checking the Python formatting and lint (ruff format --check, ruff check)');
  run(ruff.ruff, ['format', '--check', '.'], { cwd: repoRoot });
  run(ruff.ruff, ['check', '.'], { cwd: repoRoot });
} else if (process.env.MLOPS_REQUIRE_SERVICES === '1') throw new Error(`MLOPS_REQUIRE_SERVICES=1 but ${ruff.reason}`);
else say(`the Python files are not checked: ${ruff.reason}`);
build();

const files = roots.flatMap(testFiles);
if (files.some((file) => file.includes(`${join('test', 'e2e')}`))) {
  const codeServer = ensureCodeServer();
  if (!codeServer.ok) say(`end-to-end tests cannot start code-server: ${codeServer.reason}`);
}
// MLflow from PyPI: the stores the readers are compared with are made by its client.
if (files.some((file) => !file.includes(join('test', 'unit')))) {
  const mlflow = ensureMlflow();
  if (!mlflow.ok) say(`tests against MLflow cannot run: ${mlflow.reason}`);
  // check-jsonschema from PyPI: the GitHub Actions and GitLab CI schemas the generated workflows are checked against.
  const checkJsonschema = ensureCheckJsonschema();
  if (!checkJsonschema.ok) say(`the CI workflow schema tests cannot run: ${checkJsonschema.reason}`);
  // tritonclient[http] from PyPI: an independent Open Inference Protocol client for a running model image.
  const tritonclient = ensureTritonclient();
  if (!tritonclient.ok) say(`the Open Inference Protocol test cannot run: ${tritonclient.reason}`);
  // Debian's Prometheus (with promtool): the monitoring tests scrape a model server with it.
  const prometheus = ensurePrometheus();
  if (!prometheus.ok) say(`tests against Prometheus cannot run: ${prometheus.reason}`);
  // A real Docker Engine (Debian's docker.io) and the Python base image, built offline since no
  // registry is reachable: minutes the first time, then cached.
  say('checking the Docker Engine and the Python base image of the deployment tests');
  const engine = await ensureDockerEngine();
  const image = engine.ok ? await ensureBaseImage() : engine;
  if (!engine.ok) say(`tests against Docker cannot run: ${engine.reason}`);
  else if (!image.ok) say(`tests that build Python images cannot run: ${image.reason}`);
  // Debian's HAProxy, the proxy of the Swarm deployments, built by the same recipe (about 1.5 minutes once).
  const proxy = engine.ok ? await ensureProxyImage() : engine;
  if (engine.ok && !proxy.ok) say(`tests that deploy behind the proxy cannot run: ${proxy.reason}`);
  // A real Kubernetes control plane, built from its Go modules once (15 to 30 minutes), then cached.
  say('checking the Kubernetes control plane binaries of the deployment tests');
  const kubernetes = ensureKubernetesBinaries();
  if (!kubernetes.ok) say(`tests against Kubernetes cannot run: ${kubernetes.reason}`);
}
say(`running ${files.length} test files: ${files.map((file) => relative(repoRoot, file)).join(', ')}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { cwd: repoRoot, stdio: 'inherit' },
);
process.exitCode = result.status ?? 1;
