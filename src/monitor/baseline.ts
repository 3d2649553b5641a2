// The training data drift is measured against: the deployment's `baseline` setting, else the data
// files the notebook read, which Containerise records in the image's `mlops.data.sha256` label.
import type { DeployTarget } from '../deploy/targets/deployTarget';
import { baselineFromImageLabels } from './requestsTable';

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
    const { connectDocker } = await import('../deploy/docker/dockerClient');
    const labels = (await (await connectDocker(dockerHost)).getImage(image).inspect()).Config.Labels ?? {};
    const file = baselineFromImageLabels(labels, workspace);
    return file ? { file } : undefined;
  } catch {
    // An image only in a registry, or no engine here: drift says no baseline is known.
    return undefined;
  }
}
