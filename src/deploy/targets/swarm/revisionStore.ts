// Each revision of a deployment is a Swarm config object (mlops-NAME-rev-N) holding what was
// deployed, by whom and why. Swarm itself keeps only the previous spec; configs keep them all,
// on the cluster, where they outlive any workspace.
import type Docker from 'dockerode';
import * as v from 'valibot';
import { checkedJson } from '../../../shared/checked';
import { MlopsError } from '../../../shared/errors';
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
  spec: v.looseObject({
    name: v.string(),
    image: v.string(),
    replicas: v.optional(v.number()),
    containerPort: v.optional(v.number()),
    publishedPort: v.optional(v.number()),
    publishMode: v.optional(v.picklist(['host', 'ingress'])),
    env: v.optional(v.record(v.string(), v.string())),
    limits: v.optional(v.looseObject({ cpus: v.optional(v.number()), memoryMb: v.optional(v.number()) })),
    changeCause: v.optional(v.string()),
    registry: v.optional(v.string()),
    progressDeadlineSeconds: v.optional(v.number()),
    podAnnotations: v.optional(v.record(v.string(), v.string())),
    autoscale: v.optional(
      v.looseObject({ minReplicas: v.number(), maxReplicas: v.number(), cpuPercent: v.optional(v.number()) }),
    ),
  } satisfies Record<keyof DeploySpec, v.GenericSchema>),
});
export type RevisionRecord = Omit<v.InferOutput<typeof RevisionRecord>, 'spec'> & { spec: DeploySpec };

export async function saveRevision(docker: Docker, record: RevisionRecord): Promise<void> {
  await docker.createConfig({
    Name: revisionConfigName(record.spec.name, record.revision),
    Labels: { [LABEL.deployment]: record.spec.name, [LABEL.revision]: String(record.revision) },
    Data: Buffer.from(JSON.stringify(record)).toString('base64'),
  });
}

/**
 * Every revision of a deployment, oldest first. A config that does not parse is skipped (and
 * given to `onBadRecord`, its message naming the config and the field).
 */
export async function listRevisions(
  docker: Docker,
  name: string,
  onBadRecord?: (problem: MlopsError) => void,
): Promise<RevisionRecord[]> {
  // The proxy's configs carry the deployment's label too, but no revision.
  const configs = await docker.listConfigs({
    filters: JSON.stringify({ label: [`${LABEL.deployment}=${name}`, LABEL.revision] }),
  });
  const records: RevisionRecord[] = [];
  for (const config of configs) {
    const data = config.Spec?.Data;
    if (!data) continue;
    const source = `The Swarm config ${config.Spec?.Name ?? config.ID}`;
    try {
      records.push(
        checkedJson(RevisionRecord, Buffer.from(data, 'base64').toString('utf8'), source, 'a revision record'),
      );
    } catch (error) {
      if (!(error instanceof MlopsError)) throw error;
      onBadRecord?.(error);
    }
  }
  return records.sort((a, b) => a.revision - b.revision);
}

export async function removeRevisions(docker: Docker, name: string): Promise<void> {
  const configs = await docker.listConfigs({ filters: JSON.stringify({ label: [`${LABEL.deployment}=${name}`] }) });
  await Promise.all(configs.map((config) => docker.getConfig(config.ID).remove()));
}
