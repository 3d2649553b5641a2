// Each revision of a deployment is a Swarm config object (mlops-NAME-rev-N) holding what was
// deployed, by whom and why. Swarm itself keeps only the previous spec; configs keep them all,
// on the cluster, where they outlive any workspace.
import type Docker from 'dockerode';
import * as v from 'valibot';
import type { DeploySpec } from '../deployTarget';
import { LABEL, revisionConfigName } from './labels';

const RevisionRecord = v.object({
  revision: v.number(),
  image: v.string(),
  imageRef: v.string(),
  digest: v.nullable(v.string()),
  createdAt: v.string(),
  changeCause: v.string(),
  deployedBy: v.string(),
  gitCommit: v.nullable(v.string()),
  mlflowRunId: v.nullable(v.string()),
  modelImage: v.boolean(),
  spec: v.looseObject({ name: v.string(), image: v.string() }),
});
export type RevisionRecord = Omit<v.InferOutput<typeof RevisionRecord>, 'spec'> & { spec: DeploySpec };

export async function saveRevision(docker: Docker, record: RevisionRecord): Promise<void> {
  await docker.createConfig({
    Name: revisionConfigName(record.spec.name, record.revision),
    Labels: { [LABEL.deployment]: record.spec.name, [LABEL.revision]: String(record.revision) },
    Data: Buffer.from(JSON.stringify(record)).toString('base64'),
  });
}

/** Every revision of a deployment, oldest first. A config that does not parse is skipped. */
export async function listRevisions(docker: Docker, name: string): Promise<RevisionRecord[]> {
  const configs = await docker.listConfigs({ filters: JSON.stringify({ label: [`${LABEL.deployment}=${name}`] }) });
  const records: RevisionRecord[] = [];
  for (const config of configs) {
    const data = (config.Spec as { Data?: string } | undefined)?.Data;
    if (!data) continue;
    const parsed = v.safeParse(RevisionRecord, safeJson(Buffer.from(data, 'base64').toString('utf8')));
    if (parsed.success) records.push(parsed.output as RevisionRecord);
  }
  return records.sort((a, b) => a.revision - b.revision);
}

export async function removeRevisions(docker: Docker, name: string): Promise<void> {
  const configs = await docker.listConfigs({ filters: JSON.stringify({ label: [`${LABEL.deployment}=${name}`] }) });
  await Promise.all(configs.map((config) => docker.getConfig(config.ID).remove()));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
