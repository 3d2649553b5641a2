// The labels of a local image: what Containerise recorded about its model (notebook, MLflow run or
// registered version, training data).
import { connectDocker } from './dockerClient';

export async function imageLabels(image: string, dockerHost?: string): Promise<Record<string, string>> {
  return (await (await connectDocker(dockerHost || undefined)).getImage(image).inspect()).Config.Labels ?? {};
}
