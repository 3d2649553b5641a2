// Two versions of a model image, built once per test process by Containerise from the churn
// fixture notebook (the second with more trees), for the deployment tests.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { containerizeNotebook } from '../../src/deploy/containerize';
import { ensureSwarm } from '../../scripts/lib/docker.mjs';
import { dockerAvailable, testBaseImage } from './docker';

export interface ModelImages {
  ok: boolean;
  reason: string;
  v1: string;
  v2: string;
}

let built: Promise<ModelImages> | undefined;

export function modelImages(): Promise<ModelImages> {
  built ??= build().catch((error: Error) => ({ ok: false, reason: `the model images could not be built: ${error.message}`, v1: '', v2: '' }));
  return built;
}

async function build(): Promise<ModelImages> {
  const base = await testBaseImage();
  if (!base.ok) return { ok: false, reason: base.reason, v1: '', v2: '' };
  const mlflow = ensureMlflow();
  if (!mlflow.ok) return { ok: false, reason: mlflow.reason, v1: '', v2: '' };
  const root = mkdtempSync(join(tmpdir(), 'mlops-model-images-'));
  cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), root, { recursive: true });
  const notebook = join(root, 'churn_forest.ipynb');
  const options = { notebook, workspaceRoot: root, python: mlflow.python, baseImage: base.image, smoke: false };
  const v1 = (await containerizeNotebook({ ...options, tag: 'mlops-test-deploy/churn:v1' })).image!;
  writeFileSync(notebook, readFileSync(notebook, 'utf8').replace('n_estimators=50', 'n_estimators=80'));
  const v2 = (await containerizeNotebook({ ...options, tag: 'mlops-test-deploy/churn:v2' })).image!;
  return { ok: true, reason: '', v1, v2 };
}

/** The engine, a single-node swarm on it and the two model images, or why a test cannot have them. */
export async function swarmWithModelImages(): Promise<ModelImages> {
  const engine = await dockerAvailable();
  if (!engine.ok) return { ok: false, reason: engine.reason, v1: '', v2: '' };
  const swarm = await ensureSwarm();
  if (!swarm.ok) return { ok: false, reason: `no swarm: ${swarm.reason}`, v1: '', v2: '' };
  return modelImages();
}
