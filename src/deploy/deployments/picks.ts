// What the deploy, rollback and scale commands offer and accept: quick-pick items, defaults and
// input validation. Pure (no vscode), so each rule is unit-tested; commands.ts shows them.
import type { DeployResult, DeploymentStatus, Revision } from '../targets/deployTarget';
import { formatWhen, replicasText, revisionLabel, shortImage } from './presentation';

/** An image in the engine, as listed for the image picker. */
export interface LocalImage {
  id: string;
  tags: string[];
  /** Seconds since the epoch, as the engine reports it. */
  created: number;
  labels: Record<string, string>;
}

export interface ImagePick {
  label: string;
  description?: string;
  detail?: string;
  /** The image to deploy; absent on "Enter an image name…". */
  image?: string;
}

export const CONTEXT_HASH_LABEL = 'mlops.context.hash';
export const ENTER_IMAGE_LABEL = '$(edit) Enter an image name…';

/**
 * One item per tag: the image Containerise built last first, then the other model images (they
 * carry `mlops.context.hash`), those of `notebook` before the rest, newest first; then every other
 * tagged image, newest first; then "Enter an image name…".
 */
export function imagePicks(
  images: readonly LocalImage[],
  options: { notebook?: string; lastBuilt?: string; otherLimit?: number } = {},
): ImagePick[] {
  const isModel = (image: LocalImage) => Boolean(image.labels[CONTEXT_HASH_LABEL]);
  const fromNotebook = (image: LocalImage) =>
    Boolean(options.notebook) && image.labels['mlops.notebook'] === options.notebook;
  const rank = (image: LocalImage) => (isModel(image) ? (fromNotebook(image) ? 0 : 1) : 2);
  const sorted = [...images].sort((a, b) => rank(a) - rank(b) || b.created - a.created);
  const picks: ImagePick[] = [];
  let others = 0;
  for (const image of sorted) {
    const tags = image.tags.filter((tag) => tag && !tag.includes('<none>'));
    if (!tags.length) continue;
    const model = isModel(image);
    if (!model && others++ >= (options.otherLimit ?? 50)) continue;
    const built = formatWhen(new Date(image.created * 1000).toISOString());
    for (const tag of tags) {
      picks.push({
        label: `$(${model ? 'package' : 'file-binary'}) ${tag}`,
        description: model ? modelDescription(image.labels) : undefined,
        detail: model
          ? `built ${built}${image.labels['mlops.git.commit'] ? ` · commit ${image.labels['mlops.git.commit'].slice(0, 8)}${image.labels['mlops.git.dirty'] === 'true' ? ' (with local changes)' : ''}` : ''}`
          : `created ${built}`,
        image: tag,
      });
    }
  }
  const last = picks.findIndex((pick) => pick.image === options.lastBuilt);
  if (last >= 0) {
    const [pick] = picks.splice(last, 1);
    picks.unshift({ ...pick!, description: ['last built', pick!.description].filter(Boolean).join(' · ') });
  }
  picks.push({ label: ENTER_IMAGE_LABEL, description: 'any image the target can run or pull' });
  return picks;
}

function modelDescription(labels: Record<string, string>): string {
  const source = labels['mlops.notebook'] || labels['mlops.mlflow.model_uri'] || '';
  const model = labels['mlops.model.variable'] ? `model ${labels['mlops.model.variable']}` : '';
  return [source, model].filter(Boolean).join(' · ') || 'model image';
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$/;

/** A service name from an image: `registry:5000/mlops/churn_forest:4f2a` gives `churn-forest`. */
export function serviceNameFromImage(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const repository = lastSegment.includes(':') ? lastSegment.slice(0, lastSegment.indexOf(':')) : lastSegment;
  const name = repository
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return name || 'model';
}

/** Why a service name is refused, or undefined when Swarm and DNS both accept it. */
export function validateServiceName(name: string): string | undefined {
  if (!name) return 'A name is needed: lower-case letters, digits and dashes.';
  if (name.length > 48) return `At most 48 characters (this is ${name.length}).`;
  if (/[A-Z]/.test(name)) return 'Lower-case letters only.';
  if (!NAME_PATTERN.test(name))
    return 'Only lower-case letters, digits and dashes, starting and ending with a letter or digit.';
  return undefined;
}

/** Why a replica count is refused, or undefined. Deploys need at least one; scaling may go to zero. */
export function validateReplicas(text: string, min = 1): string | undefined {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return 'A whole number of replicas.';
  const count = Number(value);
  if (count < min) return `At least ${min} replica${min === 1 ? '' : 's'}.`;
  if (count > 1000) return 'At most 1000 replicas.';
  return undefined;
}

/** Why a host port is refused, or undefined; empty means no published port. */
export function validateHostPort(text: string): string | undefined {
  const value = text.trim();
  if (!value) return undefined;
  if (!/^\d+$/.test(value)) return 'A port number (1–65535), or empty to publish none.';
  const port = Number(value);
  if (port < 1 || port > 65535) return 'Ports go from 1 to 65535.';
  return undefined;
}

/** A NodePort: empty for a ClusterIP Service, else 30000–32767 (the API server's default range). */
export function validateNodePort(text: string): string | undefined {
  const value = text.trim();
  if (!value) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 30000 || Number(value) > 32767)
    return 'A NodePort from 30000 to 32767, or empty for a ClusterIP Service.';
  return undefined;
}

export function parseHostPort(text: string): number | undefined {
  const value = text.trim();
  return value ? Number(value) : undefined;
}

/** The port of an endpoint URL (`http://127.0.0.1:8080/` gives 8080). */
export function endpointPort(url: string): number | undefined {
  try {
    const parsed = new URL(url);
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : parsed.protocol === 'http:' ? 80 : NaN));
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** The ports the deployments of a target publish. */
export function publishedPorts(deployments: readonly DeploymentStatus[]): Set<number> {
  return new Set(
    deployments.flatMap((d) => d.endpoints.map((e) => endpointPort(e.url))).filter((p): p is number => p !== undefined),
  );
}

/** The first port from `start` that no deployment publishes and `isFree` accepts; up to 100 tries. */
export async function suggestHostPort(
  taken: ReadonlySet<number>,
  isFree: (port: number) => Promise<boolean>,
  start = 8080,
): Promise<number | undefined> {
  for (let port = start; port < start + 100 && port <= 65535; port++) {
    if (taken.has(port)) continue;
    if (await isFree(port)) return port;
  }
  return undefined;
}

export interface DeploymentRef {
  targetId: string;
  targetName: string;
  status: DeploymentStatus;
}

export interface DeploymentPick {
  label: string;
  description: string;
  detail: string;
  ref: DeploymentRef;
}

/** Deployments by name; the target is named when there are several. */
export function deploymentPicks(refs: readonly DeploymentRef[]): DeploymentPick[] {
  const severalTargets = new Set(refs.map((r) => r.targetId)).size > 1;
  return [...refs]
    .sort((a, b) => a.status.name.localeCompare(b.status.name) || a.targetName.localeCompare(b.targetName))
    .map((ref) => ({
      label: `$(rocket) ${ref.status.name}`,
      description: [severalTargets ? ref.targetName : '', replicasText(ref.status), `rev ${ref.status.revision}`]
        .filter(Boolean)
        .join(' · '),
      detail: shortImage(ref.status.image),
      ref,
    }));
}

export interface RevisionPick {
  label: string;
  description: string;
  detail: string;
  revision: number;
  current: boolean;
  stable: boolean;
}

/** Revisions newest first, each with its date, image and change cause; the current one says it serves now. */
export function revisionPicks(revisions: readonly Revision[]): RevisionPick[] {
  return [...revisions]
    .sort((a, b) => b.revision - a.revision)
    .map((revision) => ({
      label: `$(${revision.current ? 'check' : revision.stable ? 'pinned' : 'history'}) ${revisionLabel(revision)}`,
      description: [
        revision.current ? 'current: serving now' : '',
        revision.stable ? 'stable' : '',
        formatWhen(revision.createdAt),
      ]
        .filter(Boolean)
        .join(' · '),
      detail: [
        shortImage(revision.image),
        revision.changeCause ? `“${revision.changeCause}”` : 'no change cause',
        revision.deployedBy ? `by ${revision.deployedBy}` : '',
      ]
        .filter(Boolean)
        .join(' · '),
      revision: revision.revision,
      current: revision.current,
      stable: revision.stable,
    }));
}

/** The revision a rollback picker highlights first: the newest one that is not current. */
export function defaultRollbackRevision(revisions: readonly Revision[]): number | undefined {
  return [...revisions].sort((a, b) => b.revision - a.revision).find((r) => !r.current)?.revision;
}

export interface Outcome {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

/** What a finished deploy says: converged, converged but unwell, or rolled back (the previous version still serves). */
export function deployOutcome(result: DeployResult, targetName: string): Outcome {
  const { status, revision } = result;
  if (result.rolledBack) {
    return {
      severity: 'error',
      message:
        `Revision ${revision.revision} of ${status.name} (${shortImage(revision.image)}) failed and was rolled back: ` +
        `revision ${status.revision} (${shortImage(status.image)}) still serves. ${status.message ?? 'The orchestrator gave no reason.'}`,
    };
  }
  const summary = `${status.name} revision ${revision.revision} (${shortImage(revision.image)}) on ${targetName}: ${replicasText(status)}`;
  if (status.health === 'failed' || status.health === 'degraded') {
    return {
      severity: status.health === 'failed' ? 'error' : 'warning',
      message: `Deployed ${summary}.${status.message ? ` ${status.message}` : ''}`,
    };
  }
  return { severity: 'info', message: `Deployed ${summary}.` };
}

/** What a finished rollback says. */
export function rollbackOutcome(result: DeployResult, toRevision: number | undefined): Outcome {
  const { status } = result;
  const to = toRevision ?? result.revision.revision;
  if (result.rolledBack) {
    return {
      severity: 'error',
      message: `Rolling ${status.name} back to revision ${to} failed and was undone: revision ${status.revision} (${shortImage(status.image)}) still serves. ${status.message ?? 'The orchestrator gave no reason.'}`,
    };
  }
  const summary = `Rolled back ${status.name} to revision ${to} (${shortImage(result.revision.image)}): ${replicasText(status)}.`;
  if (status.health === 'failed' || status.health === 'degraded')
    return {
      severity: status.health === 'failed' ? 'error' : 'warning',
      message: `${summary}${status.message ? ` ${status.message}` : ''}`,
    };
  return { severity: 'info', message: summary };
}
