// Notebook (or MLflow model) -> build context -> image -> smoke test: the one path shared by the
// notebook toolbar, the Experiments view, the command palette and `mlops containerize`.
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { TrackingCredentials } from '../experiments/trackingAuth';
import { MlopsError } from '../shared/errors';
import { connectDocker } from './docker/dockerClient';
import { buildImage } from './image/buildImage';
import { readMlflowModel, resolveModelDir } from './mlflow/mlflowModel';
import { defaultImageName, writeModelContext, writeNotebookContext, type BuildContext } from './image/buildContext';
import { readGitState } from './image/gitState';
import { resolveRequirements, type Requirements } from './image/requirements';
import { smokeTest, type SmokeResult } from './image/smokeTest';
import { openWorkspace } from './image/workspaceFiles';
import { analyzeNotebook, checkAnalysis } from './notebook/analyzeNotebook';
import { chooseServing, type ServeChoice } from './notebook/chooseModel';
import type { NotebookAnalysis } from './notebook/notebookAnalysis';
import { notebookWorkspace } from './notebook/notebookWorkspace';
import { runtimeDir } from './runtimeFiles';

export const DEFAULT_BASE_IMAGE = 'python:3.11-slim';

export interface ContainerizeOptions {
  notebook: string;
  /** Where the notebook's data may come from; by default the git repository that holds it, else its folder. */
  workspaceRoot?: string;
  python?: string;
  /** The variable to serve; asked for with `choose` or defaulted when absent. */
  variable?: string;
  tag?: string;
  baseImage?: string;
  outDir?: string;
  build?: boolean;
  /** Rebuild every layer, even when an image or layers exist for these inputs. */
  noCache?: boolean;
  smoke?: boolean;
  dockerHost?: string;
  mlflowRunId?: string;
  signal?: AbortSignal;
  /** Lets the caller look at what was detected and pick the model; undefined cancels. */
  choose?(analysis: NotebookAnalysis, proposed: ServeChoice): Promise<ServeChoice | undefined>;
  onProgress?(message: string, fraction: number): void;
  onLine?(line: string): void;
}

export interface ContainerizeResult {
  image: string | null;
  reused: boolean;
  contextDir: string;
  contextHash: string;
  model: { variable: string; kind: ServeChoice['mode'] | 'mlflow'; estimator: string | null };
  labels: Record<string, string>;
  requirements: Requirements;
  smoke: SmokeResult | null;
}

export async function containerizeNotebook(options: ContainerizeOptions): Promise<ContainerizeResult> {
  const notebook = resolve(options.notebook);
  const found = await stat(notebook).catch(() => undefined);
  if (!found)
    throw new MlopsError(
      `The notebook ${options.notebook} does not exist.`,
      'Check the path, or save the notebook first.',
    );
  if (!found.isFile())
    throw new MlopsError(`${options.notebook} is a folder, not a notebook.`, 'Give the path of an .ipynb file.');
  const workspaceRoot = options.workspaceRoot ? resolve(options.workspaceRoot) : await notebookWorkspace(notebook);
  await openWorkspace(workspaceRoot);
  const progress = options.onProgress ?? (() => undefined);
  progress('Reading the notebook', 0);
  const analysis = await analyzeNotebook(notebook, options.python);
  checkAnalysis(options.notebook, analysis);
  let choice = chooseServing(options.notebook, analysis, options.variable);
  if (options.choose) {
    progress('Choose the model to serve', 0.02);
    const picked = await options.choose(analysis, choice);
    if (!picked) throw new MlopsError('Containerise was cancelled.');
    choice = picked;
  }
  options.signal?.throwIfAborted();
  progress('Writing the build context', 0.05);
  const [requirements, git] = await Promise.all([
    resolveRequirements(dirname(notebook), workspaceRoot, analysis.requirements),
    readGitState(dirname(notebook)),
  ]);
  const context = await writeNotebookContext({
    notebook,
    workspaceRoot,
    analysis,
    choice,
    requirements,
    baseImage: options.baseImage || DEFAULT_BASE_IMAGE,
    runtimeDir: runtimeDir(),
    outDir: options.outDir ?? join(workspaceRoot, '.mlops', 'images', defaultImageName(notebook).split('/').pop()!),
    git,
    ...(options.mlflowRunId ? { mlflowRunId: options.mlflowRunId } : {}),
  });
  const model = {
    variable: choice.variable,
    kind: choice.mode,
    estimator: choice.mode === 'estimator' ? choice.model.estimator : null,
  };
  return buildAndTest(options, context, defaultImageName(notebook), { model, requirements });
}

export interface ContainerizeModelOptions extends Omit<
  ContainerizeOptions,
  'notebook' | 'variable' | 'choose' | 'workspaceRoot'
> {
  /** Where the build context goes (under .mlops/images) and whose git commit the labels name. */
  workspaceRoot: string;
  /** A folder with an MLmodel file, or a runs:/ or models:/ URI. */
  modelUri: string;
  trackingUri?: string;
  /** What the tracking server at `trackingUri` gets, and no other: MLflow's variables are set to these. */
  trackingCredentials?: TrackingCredentials;
}

/** An MLflow logged model (a run's model, or a registered version) -> image -> smoke test. */
export async function containerizeModel(options: ContainerizeModelOptions): Promise<ContainerizeResult> {
  const progress = options.onProgress ?? (() => undefined);
  progress(`Resolving ${options.modelUri}`, 0);
  const python = options.python ?? 'python3';
  const dir = await resolveModelDir(options.modelUri, python, {
    uri: options.trackingUri,
    credentials: options.trackingCredentials,
  });
  const model = await readMlflowModel(dir, options.modelUri);
  progress('Writing the build context', 0.05);
  const name = `mlops/${
    options.modelUri
      .replace(/^(runs|models):\/+/, '')
      .replace(/[^a-z0-9._-]+/gi, '-')
      .toLowerCase()
      .replace(/^[._-]+|[._-]+$/g, '') || 'model'
  }`;
  const context = await writeModelContext({
    model,
    baseImage: options.baseImage || DEFAULT_BASE_IMAGE,
    runtimeDir: runtimeDir(),
    outDir: options.outDir ?? join(options.workspaceRoot, '.mlops', 'images', name.slice('mlops/'.length)),
    git: await readGitState(options.workspaceRoot),
  });
  const requirements = { source: `${options.modelUri} (requirements.txt)`, lines: model.requirements };
  return buildAndTest(options, context, name, {
    model: { variable: 'model', kind: 'mlflow', estimator: null },
    requirements,
  });
}

async function buildAndTest(
  options: Omit<ContainerizeOptions, 'notebook'>,
  context: BuildContext,
  imageName: string,
  described: Pick<ContainerizeResult, 'model' | 'requirements'>,
): Promise<ContainerizeResult> {
  const progress = options.onProgress ?? (() => undefined);
  const result: ContainerizeResult = {
    image: null,
    reused: false,
    contextDir: context.dir,
    contextHash: context.hash,
    labels: context.labels,
    smoke: null,
    ...described,
  };
  if (options.build === false) return result;

  const docker = await connectDocker(options.dockerHost);
  const tag = options.tag || `${imageName}:${context.hash.slice(0, 12)}`;
  result.image = tag;
  result.reused = !options.noCache && (await reuseImage(docker, context, tag));
  if (!result.reused) {
    progress('Building the image', 0.1);
    await buildImage(docker, context.dir, tag, {
      signal: options.signal,
      noCache: options.noCache,
      onLine: options.onLine,
      onStep: (step, total, instruction) =>
        progress(`Step ${step}/${total}: ${instruction.slice(0, 80)}`, 0.1 + (0.75 * (step - 1)) / total),
    });
  }
  if (options.smoke !== false) {
    progress('Smoke test: starting the container', 0.88);
    result.smoke = await smokeTest(docker, tag, { signal: options.signal });
    options.onLine?.(`smoke test: ${result.smoke.message}`);
  }
  progress('Done', 1);
  return result;
}

/** Tags an image built earlier from the same context hash, if there is one. */
async function reuseImage(docker: Docker, context: BuildContext, tag: string): Promise<boolean> {
  const [existing] = await docker.listImages({
    filters: JSON.stringify({ label: [`mlops.context.hash=${context.hash}`] }),
  });
  if (!existing) return false;
  const at = tag.lastIndexOf(':');
  const [repo, version] = at > tag.lastIndexOf('/') ? [tag.slice(0, at), tag.slice(at + 1)] : [tag, 'latest'];
  await docker.getImage(existing.Id).tag({ repo, tag: version });
  return true;
}
