// The pipeline files of a workspace: `mlops.pipeline.yaml` at the root, then `pipelines/*.yaml`.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_PIPELINE_FILE = 'mlops.pipeline.yaml';

export async function findPipelines(root: string): Promise<string[]> {
  const atRoot = await readdir(root).catch(() => [] as string[]);
  const inFolder = await readdir(join(root, 'pipelines')).catch(() => [] as string[]);
  return [
    ...atRoot
      .filter((name) => name === DEFAULT_PIPELINE_FILE || name === 'mlops.pipeline.yml')
      .map((name) => join(root, name)),
    ...inFolder
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
      .map((name) => join(root, 'pipelines', name)),
  ];
}
