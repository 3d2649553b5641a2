// Two versions of a model image, built once per test process by Containerise from the churn
// fixture notebook (the second with more trees), for the deployment tests, with the HAProxy image
// their proxies run (PROXY_IMAGE, given as proxyImage); and images of small
// notebooks written by a test (a DummyClassifier that always answers one class, say).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { containerizeNotebook } from '../../src/containerize/containerize';
import { ensureSwarm } from '../../scripts/lib/docker.mjs';
import { dockerAvailable, testBaseImage, testProxyImage } from './docker';

export interface ModelImages {
  ok: boolean;
  reason: string;
  v1: string;
  v2: string;
}

let built: Promise<ModelImages> | undefined;
const notebooks = new Map<string, Promise<string>>();
const fixtureWorkspace = join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace');

export function modelImages(): Promise<ModelImages> {
  built ??= build().catch((error: Error) => ({
    ok: false,
    reason: `the model images could not be built: ${error.message}`,
    v1: '',
    v2: '',
  }));
  return built;
}

async function build(): Promise<ModelImages> {
  const base = await testBaseImage();
  if (!base.ok) return { ok: false, reason: base.reason, v1: '', v2: '' };
  // The deployments' proxy (mlops.proxyImage: PROXY_IMAGE in the tests).
  const proxy = await testProxyImage();
  if (!proxy.ok) return { ok: false, reason: proxy.reason, v1: '', v2: '' };
  const mlflow = ensureMlflow();
  if (!mlflow.ok) return { ok: false, reason: mlflow.reason, v1: '', v2: '' };
  const root = mkdtempSync(join(tmpdir(), 'mlops-model-images-'));
  cpSync(fixtureWorkspace, root, { recursive: true });
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

/**
 * The image of a notebook of these code cells, in a copy of the fixture workspace (data/customers.csv
 * and data/houses.csv) with `files` added, built once per tag in a test process. Rejects with why
 * it cannot be built.
 */
export function notebookImage(tag: string, cells: string[], files: Record<string, string> = {}): Promise<string> {
  let image = notebooks.get(tag);
  if (!image) {
    image = buildNotebook(tag, cells, files);
    notebooks.set(tag, image);
  }
  return image;
}

async function buildNotebook(tag: string, cells: string[], files: Record<string, string>): Promise<string> {
  const base = await testBaseImage();
  if (!base.ok) throw new Error(base.reason);
  const mlflow = ensureMlflow();
  if (!mlflow.ok) throw new Error(mlflow.reason);
  const root = mkdtempSync(join(tmpdir(), 'mlops-notebook-image-'));
  cpSync(fixtureWorkspace, root, { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
  const notebook = join(root, 'model.ipynb');
  const code = cells.map((source) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null }));
  writeFileSync(notebook, JSON.stringify({ cells: code, metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  return (
    await containerizeNotebook({
      notebook,
      workspaceRoot: root,
      python: mlflow.python,
      baseImage: base.image,
      smoke: false,
      tag,
    })
  ).image!;
}
