// What the A/B panel and the promotion flow read about a deployment's test: its split from the
// cluster, the request log brought into the lake, the per-variant report since the split began,
// and the review gate of the candidate. Shared by the extension and `mlops abtest`.
import type { Lake } from '../datasets/model';
import { PRODUCTION_VARIANT, type DeployTarget, type SplitStatus } from '../deploy/targets/deployTarget';
import { monitoringDir } from '../monitor/countsLog';
import { pullRequestLog } from '../monitor/observe';
import { deploymentSource } from '../monitor/sources';
import { abReport } from './abReport';
import type { AbReport } from './model';
import type { ReviewGateState } from './model';
import type { BadLineReporter } from '../shared/badLines';
import { deploymentGate } from './review/gate';

export interface AbState {
  split: SplitStatus | null;
  report: AbReport;
  /** The gate of the leading candidate (or the only one). */
  gate: ReviewGateState | null;
}

export interface AbStateRequest {
  workspace: string;
  lake: Lake;
  target: DeployTarget;
  targetId: string;
  name: string;
  /** The `mlops.review.gate` setting. */
  gateSetting?: Record<string, Record<string, unknown>>;
  /** Told of each damaged line of the review decisions (it is skipped). */
  onBadLine?: BadLineReporter;
  signal?: AbortSignal;
}

/** Without a split, the last hour is shown (what a split that just ended left). */
const NO_SPLIT_WINDOW_MS = 3_600_000;

export async function abState(request: AbStateRequest): Promise<AbState> {
  const { target, name, lake } = request;
  const split = target.splitStatus ? await target.splitStatus(name) : null;
  const to = Date.now();
  const from = split?.startedAt ? Date.parse(split.startedAt) : to - NO_SPLIT_WINDOW_MS;
  if (split)
    await pullRequestLog(lake, await deploymentSource(target, name), {
      targetId: request.targetId,
      name,
      signal: request.signal,
    });
  const report = await abReport(lake, { target: request.targetId, deployment: name, from, to });
  const candidate =
    report.verdict.leader && report.verdict.leader !== PRODUCTION_VARIANT
      ? report.verdict.leader
      : split?.variants.find((v) => v.name !== PRODUCTION_VARIANT)?.name;
  return { split, report, gate: candidate ? candidateGate(request, report, candidate) : null };
}

/** The review gate of a variant: the decisions about the version it runs. */
export function candidateGate(
  request: Pick<AbStateRequest, 'workspace' | 'targetId' | 'name' | 'gateSetting' | 'onBadLine'>,
  report: AbReport,
  variant: string,
): ReviewGateState {
  const candidateVersion = report.variants.find((v) => v.variant === variant)?.versions.at(-1);
  const dir = monitoringDir(request.workspace, request.targetId, request.name);
  const { gate } = deploymentGate(dir, request.name, request.workspace, {
    ...(request.gateSetting ? { setting: request.gateSetting } : {}),
    ...(request.onBadLine ? { onBadLine: request.onBadLine } : {}),
    ...(candidateVersion ? { candidateVersion } : {}),
  });
  return { open: gate.open, reason: `review gate of ${variant}: ${gate.reason}` };
}
