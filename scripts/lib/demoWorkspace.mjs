// @ts-check
// The sample workspace of `npm run demo`: demo/ copied out of the repository and made a git
// repository of its own, so dataset history has commits to show.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMlflow } from './mlflow.mjs';
import { repoRoot, run, say } from './setup.mjs';

/** @param {string} target */
export function createDemoWorkspace(target) {
  if (existsSync(join(target, '.git'))) {
    say(`using the demo workspace at ${target} (run with --fresh to start over)`);
    if (existsSync(join(target, 'mlflow.db')) && !hasLoggedModel(join(target, 'mlartifacts'))) {
      say(
        `the demo workspace at ${target} was made by an older demo: its registered model has no logged model, so Containerise Model cannot build it. Run with --fresh to make it again.`,
      );
    }
    return target;
  }
  say(`creating the demo workspace at ${target}`);
  mkdirSync(target, { recursive: true });
  cpSync(join(repoRoot, 'demo'), target, { recursive: true });
  const git = (/** @type {string[]} */ ...args) =>
    run('git', ['-c', 'user.name=MLOps Demo', '-c', 'user.email=demo@example.invalid', ...args], {
      cwd: target,
      stdio: 'ignore',
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'Customer churn: data and notebook');
  logDemoRuns(target);
  return target;
}

/** Logs the demo's runs with the real MLflow client, so the Experiments view has something to show. @param {string} target */
function logDemoRuns(target) {
  const mlflow = ensureMlflow();
  if (!mlflow.ok) {
    say(`the demo has no MLflow runs: ${mlflow.reason}`);
    return;
  }
  say('logging the demo runs into mlflow.db with MLflow');
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: target, encoding: 'utf8' }).stdout.trim();
  run(mlflow.python, [join(target, 'make_runs.py'), target, commit], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Whether MLflow logged a model (a folder with an MLmodel file) under the artifact root. @param {string} root */
function hasLoggedModel(root) {
  return existsSync(root) && readdirSync(root, { recursive: true }).some((path) => String(path).endsWith('MLmodel'));
}
