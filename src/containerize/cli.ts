// `mlops containerize NOTEBOOK_OR_MODEL_URI`: the notebook toolbar's Containerise (and the
// Experiments view's, for MLflow models), from a terminal or CI.
import { resolve } from 'node:path';
import type { CliCommand } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { mlflowClientUri, resolveTrackingStore } from '../experiments/trackingStoreResolver';
import { containerizeModel, containerizeNotebook, type ContainerizeModelOptions } from './containerize';

/**
 * The store MLflow resolves a runs:/ or models:/ URI from (--tracking-uri, MLFLOW_TRACKING_URI, or
 * the workspace's) and the credentials its server gets.
 */
async function trackingOf(
  modelUri: string,
  flag: string | undefined,
  workspace: string | undefined,
): Promise<Pick<ContainerizeModelOptions, 'trackingUri' | 'trackingCredentials'>> {
  if (!/^(runs|models):\//.test(modelUri)) return {};
  const resolved = await resolveTrackingStore({ flag, env: process.env, workspaceRoot: workspace ?? process.cwd() });
  return resolved
    ? {
        trackingUri: mlflowClientUri({ uri: resolved.uri, base: process.cwd() }),
        trackingCredentials: resolved.credentials,
      }
    : {};
}

export const containerizeCommand: CliCommand = {
  name: 'containerize',
  summary: 'Build an image that serves the model a notebook fits (or an MLflow model), then smoke-test it',
  usage:
    'containerize NOTEBOOK_OR_MODEL_URI [--workspace DIR] [--model VAR] [--tag IMAGE] [--base-image IMG] [--out DIR] [--python PATH] [--no-build] [--smoke|--no-smoke] [--run-id ID] [--tracking-uri URI] [--json]',
  options: {
    workspace: { type: 'string' },
    model: { type: 'string' },
    tag: { type: 'string' },
    'base-image': { type: 'string' },
    out: { type: 'string' },
    python: { type: 'string' },
    'no-build': { type: 'boolean' },
    smoke: { type: 'boolean' },
    'no-smoke': { type: 'boolean' },
    'run-id': { type: 'string' },
    'tracking-uri': { type: 'string' },
  },
  async run({ values, positionals, json, io }) {
    const [target] = positionals;
    if (!target || positionals.length > 1)
      throw new UsageError('containerize takes one notebook (.ipynb), model folder or runs:/ or models:/ URI');
    const controller = new AbortController();
    const cancel = () => controller.abort();
    process.once('SIGINT', cancel);
    try {
      // A notebook's workspace is the repository that holds it (else its folder), wherever the command runs.
      const workspace = typeof values.workspace === 'string' ? resolve(values.workspace) : undefined;
      const common = {
        ...(typeof values.python === 'string' ? { python: values.python } : {}),
        ...(typeof values.tag === 'string' ? { tag: values.tag } : {}),
        ...(typeof values['base-image'] === 'string' ? { baseImage: values['base-image'] } : {}),
        ...(typeof values.out === 'string' ? { outDir: resolve(values.out) } : {}),
        build: values['no-build'] !== true,
        smoke: values['no-smoke'] !== true,
        signal: controller.signal,
        onProgress: (message: string) => !json && io.stderr(`${message}\n`),
        onLine: (line: string) => !json && io.stderr(`  ${line}\n`),
      };
      const result = target.endsWith('.ipynb')
        ? await containerizeNotebook({
            ...common,
            notebook: resolve(target),
            ...(workspace ? { workspaceRoot: workspace } : {}),
            ...(typeof values.model === 'string' ? { variable: values.model } : {}),
            ...(typeof values['run-id'] === 'string' ? { mlflowRunId: values['run-id'] } : {}),
          })
        : await containerizeModel({
            ...common,
            modelUri: /^(runs|models):\//.test(target) ? target : resolve(target),
            workspaceRoot: workspace ?? process.cwd(),
            ...(await trackingOf(
              target,
              typeof values['tracking-uri'] === 'string' ? values['tracking-uri'] : undefined,
              workspace,
            )),
          });
      if (json) {
        const { image, contextDir, contextHash, model, labels, smoke, reused, requirements } = result;
        io.stdout(
          `${JSON.stringify({ image, contextDir, contextHash, model, labels, smoke, reused, requirements }, null, 2)}\n`,
        );
      } else {
        io.stdout(
          `${result.image ? `${result.reused ? 'Reused' : 'Built'} ${result.image}` : `Build context written`} (context ${result.contextDir})\n`,
        );
        if (result.smoke) io.stdout(`Smoke test ${result.smoke.ok ? 'passed' : 'FAILED'}: ${result.smoke.message}\n`);
      }
      return result.smoke && !result.smoke.ok ? 1 : 0;
    } finally {
      process.removeListener('SIGINT', cancel);
    }
  },
};
