// @ts-check
// Containerise and Deploy in the demo: a Docker Engine in a single-node swarm, and, where no
// registry can be reached, the offline Python base image, written into the demo's settings with
// the interpreter that has the notebook's packages.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBaseImage, ensureDockerEngine, ensureSwarm } from './docker.mjs';
import { ensureMlflow } from './mlflow.mjs';
import { say } from './setup.mjs';

/** @param {string} workspace */
export async function prepareDemoDocker(workspace) {
  const engine = await ensureDockerEngine();
  if (!engine.ok) return say(`Containerise and Deploy need Docker, which is not available: ${engine.reason}`);
  const swarm = await ensureSwarm();
  if (!swarm.ok) say(`Deploy needs a swarm: ${swarm.reason}`);
  say(
    'making sure the Python base image for model images is in the Docker Engine (built offline with debootstrap the first time, about 4 minutes)',
  );
  const base = await ensureBaseImage();
  if (!base.ok) return say(`Containerise will use python:3.11-slim, which must be pulled: ${base.reason}`);
  const mlflow = ensureMlflow();
  const file = join(workspace, '.vscode', 'settings.json');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const settings = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(
    file,
    `${JSON.stringify({ ...settings, 'mlops.baseImage': base.image, ...(mlflow.ok ? { 'mlops.pythonPath': mlflow.python } : {}) }, null, 2)}\n`,
  );
}
