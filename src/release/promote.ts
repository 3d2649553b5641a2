// One promotion flow, whichever evidence led to it (an A/B result, a review tally, a back-test):
// the chosen variant takes all the traffic as a new revision of the deployment, pinned as stable;
// the split ends (variants and router groups removed); the evidence goes into the deployment's
// history; and when the image came from a registered MLflow model, its alias follows.
import { appendAudit } from '../monitor/audit';
import type { AuditEntry } from '../monitor/model';
import { endpointPort } from '../deploy/deployments/picks';
import {
  PRODUCTION_VARIANT,
  type DeployOptions,
  type DeploySpec,
  type DeployTarget,
  type Revision,
} from '../deploy/targets/deployTarget';
import { describeError, MlopsError } from '../shared/errors';
import { moveAlias, registeredVersionOf, type AliasMove, type TrackingServer } from './mlflowAlias';
import type { ReviewGateState } from './model';

export interface PromotionEvidence {
  source: 'ab-test' | 'review' | 'backtest' | 'manual';
  /** One line: "candidate converts 12.1% vs 10.4%, p = 0.003", "28 of 30 reviews accept it". */
  summary: string;
}

export interface PromoteInput {
  target: DeployTarget;
  /** How the audit log names the target (monitor/targetKey). */
  targetId: string;
  deployment: string;
  /** The variant that wins: `production` keeps the current version and just ends the split. */
  variant: string;
  evidence: PromotionEvidence[];
  /** The deployment's review gate, when it has one: a closed gate refuses the promotion. */
  gate?: ReviewGateState | null;
  /** Where the deployment's audit log lives (monitor/countsLog monitoringDir). */
  auditDir: string;
  by: string;
  /** Moves this alias of the registered model the image came from, when there is one. */
  mlflow?: { server: TrackingServer; alias: string; imageLabels(image: string): Promise<Record<string, string>> };
  options?: DeployOptions;
}

export interface PromotionResult {
  deployment: string;
  variant: string;
  image: string;
  /** The new production revision; null when production won and kept its revision. */
  revision: Revision | null;
  stableRevision: number;
  /** The alias moved, null when the image has no registered version, or why moving it failed. */
  alias: AliasMove | null | { error: string };
  message: string;
}

export async function promote(input: PromoteInput): Promise<PromotionResult> {
  const { target, deployment: name, variant } = input;
  if (input.gate && !input.gate.open) {
    throw new MlopsError(
      `${name} cannot be promoted yet: ${input.gate.reason}`,
      'Review more samples in the review panel (MLOps: Review Candidate Answers).',
    );
  }
  if (!target.splitStatus || !target.endSplit)
    throw new MlopsError(`${target.kind} targets cannot split traffic, so there is nothing to promote.`);
  const report = (message: string, fraction?: number) =>
    input.options?.onProgress?.({ message, ...(fraction !== undefined ? { fraction } : {}) });
  const split = await target.splitStatus(name);
  const chosen = split?.variants.find((v) => v.name === variant);
  if (!chosen) {
    const known = split ? split.variants.map((v) => v.name).join(', ') : 'none: it has no traffic split';
    throw new MlopsError(`${name} has no variant ${variant} (its variants: ${known}).`);
  }
  const why = input.evidence.map((e) => `${e.source}: ${e.summary}`).join('; ') || 'promoted by hand';

  let revision: Revision | null = null;
  if (variant !== PRODUCTION_VARIANT) {
    report(`Deploying ${variant} (${chosen.image}) as ${name}`, 0.1);
    const result = await target.deploy(
      await promotionSpec(target, name, chosen.image, `promote ${variant}: ${why}`),
      input.options,
    );
    if (result.rolledBack) {
      throw new MlopsError(
        `Promoting ${variant} failed and ${target.kind} rolled ${name} back: ${result.status.message ?? 'the new revision did not become healthy'}.`,
        'The split is unchanged; production still serves.',
      );
    }
    revision = result.revision;
  }
  const stableRevision = revision?.revision ?? (await target.history(name)).find((r) => r.current)?.revision;
  if (stableRevision === undefined) throw new MlopsError(`${name} has no current revision to pin as stable.`);
  report(`Pinning revision ${stableRevision} as stable`, 0.7);
  await target.pinStable(name, stableRevision);
  report('Ending the traffic split', 0.8);
  await target.endSplit(name, input.options);

  let alias: PromotionResult['alias'] = null;
  if (input.mlflow && variant !== PRODUCTION_VARIANT) {
    report(`Moving the MLflow alias ${input.mlflow.alias}`, 0.95);
    try {
      const registered = await registeredVersionOf(input.mlflow.server, await input.mlflow.imageLabels(chosen.image));
      alias = registered ? await moveAlias(input.mlflow.server, registered, input.mlflow.alias) : null;
    } catch (error) {
      alias = { error: describeError(error) };
    }
  }

  const message =
    variant === PRODUCTION_VARIANT
      ? `${name}: production (revision ${stableRevision}) kept all the traffic; the split ended. ${why}.`
      : `${name}: ${variant} promoted as revision ${stableRevision} (${chosen.image}), pinned as stable; the split ended. ${why}.`;
  const entry: AuditEntry = {
    at: new Date().toISOString(),
    target: input.targetId,
    deployment: name,
    kind: 'promotion',
    message: withAlias(message, alias),
    toRevision: stableRevision,
    by: input.by,
  };
  appendAudit(input.auditDir, entry);
  return { deployment: name, variant, image: chosen.image, revision, stableRevision, alias, message: entry.message };
}

/** The deployment as it runs now (replicas, published port), with the winner's image. */
async function promotionSpec(
  target: DeployTarget,
  name: string,
  image: string,
  changeCause: string,
): Promise<DeploySpec> {
  const status = await target.status(name);
  const published = status.endpoints.find((e) => e.publishMode !== 'cluster');
  const port = published ? endpointPort(published.url) : undefined;
  return {
    name,
    image,
    replicas: Math.max(1, status.replicas.desired),
    changeCause,
    ...(port !== undefined ? { publishedPort: port } : {}),
    ...(published?.publishMode === 'host' || published?.publishMode === 'ingress'
      ? { publishMode: published.publishMode }
      : {}),
  };
}

function withAlias(message: string, alias: PromotionResult['alias']): string {
  if (!alias) return message;
  if ('error' in alias) return `${message} The MLflow alias was not moved: ${alias.error}`;
  return `${message} MLflow: ${alias.name}@${alias.alias} now names version ${alias.version}${alias.previous ? ` (was ${alias.previous})` : ''}.`;
}
