// The decisions of a deployment's reviewers: `reviews.jsonl` beside its audit log, appended line
// by line so they survive restarts and a crash loses at most the line being written. Each
// decision also goes to the audit log, so it shows in the deployment's history.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { readJsonLines, type JsonLinesOptions } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import { appendAudit } from '../../monitor/audit';
import { VERDICTS, type ReviewDecision, type ReviewTally } from './model';

export const REVIEWS_FILE = 'reviews.jsonl';

const DecisionLine: v.GenericSchema<unknown, ReviewDecision> = v.looseObject({
  requestId: v.string(),
  verdict: v.picklist(VERDICTS),
  comment: v.optional(v.string()),
  reviewer: v.string(),
  ts: v.string(),
  candidateVersion: v.string(),
  productionVersion: v.string(),
});

const VERDICT_TEXT: Record<ReviewDecision['verdict'], string> = {
  candidate: 'the candidate right',
  production: 'production right',
  both: 'both right',
  neither: 'neither right',
};

export interface DecisionContext {
  /** The deployment's monitoring folder (`monitoringDir`). */
  dir: string;
  targetId: string;
  deployment: string;
}

export function appendDecision(context: DecisionContext, decision: ReviewDecision): void {
  if (!VERDICTS.includes(decision.verdict))
    throw new MlopsError(`A review verdict is one of ${VERDICTS.join(', ')}, not ${JSON.stringify(decision.verdict)}.`);
  mkdirSync(context.dir, { recursive: true });
  appendFileSync(join(context.dir, REVIEWS_FILE), `${JSON.stringify(decision)}\n`);
  const comment = decision.comment ? `: “${decision.comment}”` : '';
  appendAudit(context.dir, {
    at: decision.ts,
    target: context.targetId,
    deployment: context.deployment,
    kind: 'review',
    message: `${decision.reviewer} found ${VERDICT_TEXT[decision.verdict]} on request ${decision.requestId} (${decision.candidateVersion} against ${decision.productionVersion})${comment}.`,
    by: decision.reviewer,
  });
}

/** Every decision, oldest first; damaged lines are skipped (and given to `options.onBadLine`). */
export function readDecisions(dir: string, options: JsonLinesOptions = {}): ReviewDecision[] {
  return readJsonLines(join(dir, REVIEWS_FILE), DecisionLine, 'a review decision', options);
}

/** The last decision on each request, optionally only those about one candidate version, oldest first. */
export function latestDecisions(decisions: readonly ReviewDecision[], candidateVersion?: string): ReviewDecision[] {
  const latest = new Map<string, ReviewDecision>();
  for (const decision of decisions) {
    if (candidateVersion !== undefined && decision.candidateVersion !== candidateVersion) continue;
    latest.delete(decision.requestId);
    latest.set(decision.requestId, decision);
  }
  return [...latest.values()];
}

export function tally(decisions: readonly ReviewDecision[]): ReviewTally {
  const counts: ReviewTally = { reviews: 0, candidate: 0, production: 0, both: 0, neither: 0 };
  for (const decision of latestDecisions(decisions)) {
    counts.reviews++;
    counts[decision.verdict]++;
  }
  return counts;
}
