// The training data drift is measured against: the deployment's `baseline` setting, else the data
// files the notebook read, which Containerise records in the image's `mlops.data.sha256` label.
import type { DeployTarget } from '../deploy/targets/deployTarget';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatOf } from '../datasets/source';

export async function baselineFor(
  target: DeployTarget,
  name: string,
  workspace: string,
  configured: { file?: string; table?: string } | undefined,
  dockerHost?: string,
): Promise<{ file?: string; table?: string } | undefined> {
  if (configured) return configured;
  try {
    const { image } = await target.status(name);
    const { imageLabels } = await import('../containerize/docker/imageLabels');
    const file = baselineFromImageLabels(await imageLabels(image, dockerHost), workspace);
    return file ? { file } : undefined;
  } catch {
    // An image only in a registry, or no engine here: drift says no baseline is known.
    return undefined;
  }
}

/**
 * The training data of a model image, from its labels: the first data file recorded in
 * `mlops.data.sha256` (workspace-relative paths) that exists and that drift can read (CSV, TSV,
 * Parquet, JSON, JSONL), looked for in the workspace, then beside the notebook (`mlops.notebook`).
 */
export function baselineFromImageLabels(labels: Record<string, string>, workspaceFolder: string): string | undefined {
  let files: unknown;
  try {
    files = JSON.parse(labels['mlops.data.sha256'] ?? '{}');
  } catch {
    return undefined;
  }
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
  const notebook = labels['mlops.notebook'];
  const folders = [workspaceFolder, ...(notebook ? [dirname(resolve(workspaceFolder, notebook))] : [])];
  for (const file of Object.keys(files)) {
    if (!formatOf(file)) continue;
    for (const folder of folders) {
      const path = resolve(folder, file);
      if (existsSync(path) && statSync(path).isFile()) return path;
    }
  }
  return undefined;
}
