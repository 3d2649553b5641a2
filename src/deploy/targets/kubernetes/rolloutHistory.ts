// A Deployment's history is its ReplicaSets: each carries `deployment.kubernetes.io/revision`
// and the annotations the Deployment had (change cause, git commit, MLflow run, digest). Rolling
// back is what `kubectl rollout undo` does on the client: take the ReplicaSet of the revision,
// drop its pod-template-hash label, and JSON-patch the Deployment's template and annotations.
// Pure, so the algorithm is unit-tested; the target applies the patch.
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import type { Revision } from '../deployTarget';
import { ANNOTATION, LABEL } from './manifests';

/** The annotations kubectl does not copy from a ReplicaSet back onto the Deployment. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  ANNOTATION.revision,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export function revisionOf(object: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const value = Number(object?.metadata?.annotations?.[ANNOTATION.revision]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** The ReplicaSets a Deployment owns (by owner reference, as the controller sets it), oldest revision first. */
export function ownedReplicaSets(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = deployment.metadata?.uid;
  return replicaSets
    .filter((rs) => rs.metadata?.ownerReferences?.some((owner) => owner.kind === 'Deployment' && owner.uid === uid))
    .filter((rs) => revisionOf(rs) > 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

function templateHash(rs: V1ReplicaSet): string {
  return rs.metadata?.labels?.[LABEL.podTemplateHash] ?? '';
}

/** The revisions, oldest first; the current one is the Deployment's, the stable one the pinned template's. */
export function revisionsFromReplicaSets(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): Revision[] {
  const current = revisionOf(deployment);
  const stableHash = deployment.metadata?.annotations?.[ANNOTATION.stableTemplate];
  return ownedReplicaSets(deployment, replicaSets).map((rs) => {
    const annotations = rs.metadata?.annotations ?? {};
    const image = rs.spec?.template?.spec?.containers?.[0]?.image ?? '';
    const digest = annotations[ANNOTATION.imageDigest] ?? (image.includes('@sha256:') ? image : null);
    return {
      revision: revisionOf(rs),
      image: annotations[ANNOTATION.image] ?? image,
      digest,
      createdAt: annotations[ANNOTATION.deployedAt] ?? toIso(rs.metadata?.creationTimestamp),
      changeCause: annotations[ANNOTATION.changeCause] ?? '',
      deployedBy: annotations[ANNOTATION.deployedBy] ?? '',
      gitCommit: annotations[ANNOTATION.gitCommit] ?? null,
      mlflowRunId: annotations[ANNOTATION.mlflowRunId] ?? null,
      current: revisionOf(rs) === current,
      stable: Boolean(stableHash) && templateHash(rs) === stableHash,
    };
  });
}

/** The pod-template-hash of a revision, which is what a stable pin records. */
export function templateHashOf(
  deployment: V1Deployment,
  replicaSets: V1ReplicaSet[],
  revision: number,
): string | undefined {
  const rs = ownedReplicaSets(deployment, replicaSets).find((candidate) => revisionOf(candidate) === revision);
  return rs ? templateHash(rs) : undefined;
}

export type JsonPatch = { op: 'replace' | 'add'; path: string; value: unknown }[];

export type UndoPlan =
  | { kind: 'patch'; from: number; to: number; patch: JsonPatch }
  | { kind: 'missing'; message: string }
  | { kind: 'current'; message: string };

/**
 * What `kubectl rollout undo [--to-revision=N]` would patch. Without `toRevision` it takes the
 * newest revision before the current one. The stable pin, which lives on the Deployment only,
 * is kept.
 */
export function planUndo(deployment: V1Deployment, replicaSets: V1ReplicaSet[], toRevision?: number): UndoPlan {
  const name = deployment.metadata?.name ?? '';
  const owned = ownedReplicaSets(deployment, replicaSets);
  const current = revisionOf(deployment);
  const known = owned.map(revisionOf);
  const target = toRevision ?? [...known].reverse().find((revision) => revision < current);
  if (target === undefined)
    return { kind: 'missing', message: `${name} has no revision before ${current} to roll back to.` };
  const rs = owned.find((candidate) => revisionOf(candidate) === target);
  if (!rs?.spec?.template)
    return {
      kind: 'missing',
      message: `${name} has no revision ${target} (revisions: ${known.join(', ') || 'none'}).`,
    };
  if (target === current) return { kind: 'current', message: `${name} already runs revision ${current}.` };
  const template = JSON.parse(JSON.stringify(rs.spec.template)) as V1PodTemplateSpec;
  if (template.metadata?.labels) delete template.metadata.labels[LABEL.podTemplateHash];
  const annotations = Object.fromEntries(
    Object.entries(rs.metadata?.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key)),
  );
  const stable = deployment.metadata?.annotations?.[ANNOTATION.stableTemplate];
  if (stable) annotations[ANNOTATION.stableTemplate] = stable;
  else delete annotations[ANNOTATION.stableTemplate];
  return {
    kind: 'patch',
    from: current,
    to: target,
    patch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: deployment.metadata?.annotations ? 'replace' : 'add', path: '/metadata/annotations', value: annotations },
    ],
  };
}

export function toIso(value: Date | string | undefined): string {
  if (!value) return '';
  return value instanceof Date ? value.toISOString() : String(value);
}
