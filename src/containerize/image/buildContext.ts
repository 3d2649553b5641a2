// Writes the build context of a model image: the Dockerfile, the model server, the notebook as a
// script, the data it reads and the requirements. The context hash covers every input, so the
// same notebook, data and base image give the same hash and the image can be reused.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, posix, relative, resolve, sep } from 'node:path';
import { sha256File } from '../../shared/fileHash';
import { MlopsError } from '../../shared/errors';
import type { ServeChoice } from '../notebook/chooseModel';
import type { NotebookAnalysis } from '../notebook/notebookAnalysis';
import { DOCKERIGNORE, renderDockerfile } from './dockerfile';
import type { GitState } from './gitState';
import type { MlflowModel } from '../mlflow/mlflowModel';
import type { Requirements } from './requirements';
import {
  copiesFromWorkspace,
  copyAll,
  insideWorkspace,
  openWorkspace,
  realPathInWorkspace,
  type Copy,
  type Workspace,
} from './workspaceFiles';

export interface NotebookContextInput {
  notebook: string;
  workspaceRoot: string;
  analysis: NotebookAnalysis;
  choice: ServeChoice;
  requirements: Requirements;
  baseImage: string;
  runtimeDir: string;
  outDir: string;
  git: GitState;
  mlflowRunId?: string;
}

export interface BuildContext {
  dir: string;
  hash: string;
  labels: Record<string, string>;
  /** Workspace-relative paths of the data files copied in, with their SHA-256. */
  dataFiles: Record<string, string>;
}

export async function writeNotebookContext(input: NotebookContextInput): Promise<BuildContext> {
  const workspace = await openWorkspace(input.workspaceRoot);
  const notebookDir = dirname(resolve(input.notebook));
  const notebookDirRel = insideWorkspace(workspace, await realpath(notebookDir));
  if (notebookDirRel === undefined) {
    throw new MlopsError(
      `The notebook ${input.notebook} is outside the workspace ${input.workspaceRoot}.`,
      'Choose a workspace that holds the notebook and the data it reads (mlops containerize --workspace DIR).',
    );
  }
  const notebookRel = posix.join(notebookDirRel, basename(input.notebook));
  const workdir = join(input.outDir, 'workdir');
  const { copies, dataFiles } = await planCopies(input, workspace, notebookDirRel, workdir);

  await rm(input.outDir, { recursive: true, force: true });
  // The notebook's folder is where training runs, even when nothing else is in it.
  await mkdir(join(workdir, notebookDirRel), { recursive: true });
  await copyAll(copies);
  const build = {
    mode: input.choice.mode,
    variable: input.choice.variable,
    x: input.choice.x,
    notebookDir: notebookDirRel,
  };
  await writeFile(join(input.outDir, 'notebook.py'), input.analysis.script);
  const labelsFor = (hash: string) => imageLabels({ ...input, notebookRel, hash, dataFiles });
  const { hash, labels } = await completeContext(
    input.outDir,
    input.baseImage,
    input.runtimeDir,
    build,
    input.requirements,
    labelsFor,
    build.notebookDir,
  );
  return { dir: input.outDir, hash, labels, dataFiles };
}

/** What goes into workdir/: the data files and local modules, every one checked before anything is written. */
async function planCopies(
  input: NotebookContextInput,
  workspace: Workspace,
  notebookDirRel: string,
  workdir: string,
): Promise<{ copies: Copy[]; dataFiles: Record<string, string> }> {
  const notebookDir = dirname(resolve(input.notebook));
  const realNotebook = await realpath(input.notebook);
  // Paths as the container resolves them: from the notebook's folder, which has no links there.
  const inContext = (file: string) => {
    const rel = posix.normalize(posix.join(notebookDirRel, file.split(sep).join('/')));
    if (rel === '..' || rel.startsWith('../') || posix.isAbsolute(rel)) {
      throw new MlopsError(
        `${input.notebook} reads ${file}, which is outside the workspace ${input.workspaceRoot}.`,
        'Move the file into the workspace, or choose a workspace that holds it (mlops containerize --workspace DIR).',
      );
    }
    return rel;
  };
  const copies: Copy[] = [];
  const dataFiles: Record<string, string> = {};
  for (const file of input.analysis.dataFiles) {
    const source = `${notebookDir}${sep}${file}`;
    const real = await realPathInWorkspace(workspace, source, input.notebook, file);
    // A notebook that names itself (a glob over its folder) is in the image already, as notebook.py.
    if (real === realNotebook) continue;
    const rel = inContext(file);
    copies.push(...(await copiesFromWorkspace(workspace, source, join(workdir, rel), input.notebook, file)));
    dataFiles[rel] = await sha256File(real);
  }
  for (const module of input.analysis.localModules) {
    // A local module is a file beside the notebook or a package folder.
    const file = existsSync(join(notebookDir, `${module}.py`)) ? `${module}.py` : module;
    copies.push(
      ...(await copiesFromWorkspace(
        workspace,
        `${notebookDir}${sep}${file}`,
        join(workdir, inContext(file)),
        input.notebook,
        file,
      )),
    );
  }
  return { copies, dataFiles };
}

/**
 * Adds what every model image has (the model server, build.json, requirements, .dockerignore),
 * then hashes the inputs and writes the labels and the Dockerfile, which are not hashed.
 */
export async function completeContext(
  outDir: string,
  baseImage: string,
  runtimeDir: string,
  build: Record<string, unknown>,
  requirements: Requirements,
  labelsFor: (hash: string) => Record<string, string>,
  notebookDir = '',
): Promise<{ hash: string; labels: Record<string, string> }> {
  await copyRuntime(runtimeDir, join(outDir, 'runtime'));
  await writeFile(join(outDir, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  await writeFile(
    join(outDir, 'requirements.txt'),
    `# From ${requirements.source}\n${requirements.lines.join('\n')}\n`,
  );
  await writeFile(join(outDir, '.dockerignore'), DOCKERIGNORE);
  const hash = await hashContext(outDir, renderDockerfile(baseImage, {}, notebookDir));
  const labels = labelsFor(hash);
  await writeFile(join(outDir, 'labels.json'), `${JSON.stringify(labels, null, 2)}\n`);
  await writeFile(join(outDir, 'Dockerfile'), renderDockerfile(baseImage, labels, notebookDir));
  return { hash, labels };
}

function imageLabels(
  input: NotebookContextInput & { notebookRel: string; hash: string; dataFiles: Record<string, string> },
): Record<string, string> {
  return commonLabels({
    title: basename(input.notebookRel, '.ipynb'),
    description: `Model server for ${input.notebookRel} (${input.choice.mode === 'estimator' ? input.choice.variable : 'predict(records)'})`,
    baseImage: input.baseImage,
    git: input.git,
    hash: input.hash,
    extra: {
      'mlops.notebook': input.notebookRel,
      'mlops.mlflow.run_id': input.mlflowRunId ?? '',
      'mlops.data.sha256': JSON.stringify(input.dataFiles),
      'mlops.model.mode': input.choice.mode,
      'mlops.model.variable': input.choice.variable,
    },
  });
}

/** The OCI labels and the mlops.* labels every model image carries. */
export function commonLabels(input: {
  title: string;
  description: string;
  baseImage: string;
  git: GitState;
  hash: string;
  extra: Record<string, string>;
}): Record<string, string> {
  return {
    'org.opencontainers.image.title': input.title,
    'org.opencontainers.image.description': input.description,
    'org.opencontainers.image.created': new Date().toISOString(),
    'org.opencontainers.image.version': input.hash.slice(0, 12),
    'org.opencontainers.image.base.name': input.baseImage,
    ...(input.git.commit ? { 'org.opencontainers.image.revision': input.git.commit } : {}),
    ...(input.git.remote ? { 'org.opencontainers.image.source': input.git.remote } : {}),
    'mlops.git.commit': input.git.commit ?? '',
    'mlops.git.dirty': String(input.git.dirty),
    ...input.extra,
    'mlops.context.hash': input.hash,
    'mlops.version': input.hash.slice(0, 12),
  };
}

async function copyRuntime(from: string, to: string): Promise<void> {
  const target = join(to, 'mlops_runtime');
  await mkdir(target, { recursive: true });
  for (const file of await readdir(join(from, 'mlops_runtime'))) {
    if (file.endsWith('.py')) await cp(join(from, 'mlops_runtime', file), join(target, file));
  }
}

/** SHA-256 over the paths and contents of every file in the context, plus the Dockerfile template. */
async function hashContext(dir: string, template: string): Promise<string> {
  const hash = createHash('sha256').update(template);
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
  for (const file of files) hash.update(`${file}\0${await sha256File(join(dir, file))}\0`);
  return hash.digest('hex');
}

/** A Docker repository name from a notebook's file name: lower case, safe characters only. */
export function defaultImageName(notebook: string): string {
  const stem = basename(notebook, extname(notebook))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return `mlops/${stem || 'model'}`;
}

export interface ModelContextInput {
  model: MlflowModel;
  baseImage: string;
  runtimeDir: string;
  outDir: string;
  git: GitState;
}

/** The build context of an MLflow logged model: its files, the model server and the requirements it logged. */
export async function writeModelContext(input: ModelContextInput): Promise<BuildContext> {
  const { model } = input;
  await rm(input.outDir, { recursive: true, force: true });
  await mkdir(join(input.outDir, 'workdir'), { recursive: true });
  await cp(model.dir, join(input.outDir, 'workdir', 'mlflow_model'), { recursive: true, dereference: true });
  await writeFile(join(input.outDir, 'notebook.py'), `# An MLflow model, ${model.uri}: nothing to run.\n`);
  const build = {
    mode: 'mlflow',
    modelFile: `mlflow_model/${model.modelFile}`,
    serialization: model.serialization,
    features: model.features,
    sample: model.sample,
    notebookDir: '',
  };
  const requirements = { source: `${model.uri} (requirements.txt)`, lines: model.requirements };
  const name = model.uri.replace(/^.*[/:]/, '') || 'model';
  const { hash, labels } = await completeContext(
    input.outDir,
    input.baseImage,
    input.runtimeDir,
    build,
    requirements,
    (hash) =>
      commonLabels({
        title: name,
        description: `Model server for the MLflow model ${model.uri}`,
        baseImage: input.baseImage,
        git: input.git,
        hash,
        extra: {
          'mlops.notebook': '',
          'mlops.mlflow.run_id': model.runId ?? '',
          'mlops.mlflow.model_uri': model.uri,
          'mlops.data.sha256': '{}',
          'mlops.model.mode': 'mlflow',
          'mlops.model.variable': 'model',
        },
      }),
  );
  return { dir: input.outDir, hash, labels, dataFiles: {} };
}
