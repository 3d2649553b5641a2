// The human review of a candidate's live answers: the samples shown to a reviewer, the decisions
// they make, and the gate those decisions open. The CLI (`mlops review`), the review panel and the
// promotion flow all speak these types; nothing here imports vscode.

/** Which answer the reviewer found right. */
export type Verdict = 'candidate' | 'production' | 'both' | 'neither';

export const VERDICTS: readonly Verdict[] = ['candidate', 'production', 'both', 'neither'];

export interface Answer {
  version: string;
  /** The router group that answered: `production`, or the candidate's (what promotion names). */
  variant: string;
  /** The first prediction of the answer, as the model server returned it. */
  prediction: unknown;
}

/** One request answered by production and by the candidate. */
export interface ReviewSample {
  requestId: string;
  /** When production answered, ISO 8601 UTC. */
  ts: string;
  /** The first input row; a row sent as a list has its features named 0, 1, ... */
  input: Record<string, unknown>;
  production: Answer;
  candidate: Answer;
  disagree: boolean;
}

/** One line of `reviews.jsonl`. */
export interface ReviewDecision {
  requestId: string;
  verdict: Verdict;
  comment?: string;
  reviewer: string;
  /** ISO 8601 UTC. */
  ts: string;
  candidateVersion: string;
  productionVersion: string;
}

export interface ReviewTally {
  /** Requests judged; a later decision on a request replaces the earlier one. */
  reviews: number;
  candidate: number;
  production: number;
  both: number;
  neither: number;
}

/** The thresholds of a deployment's review gate. */
export interface GateSettings {
  minReviews: number;
  /** The share (0..1) of reviews that found the candidate right (candidate or both). */
  minAcceptance: number;
}

export interface ReviewGate extends GateSettings {
  open: boolean;
  reviews: number;
  /** Reviews that found the candidate right: candidate or both. */
  accepted: number;
  /** accepted / reviews; null before the first review. */
  acceptance: number | null;
  /** What the gate is waiting for, or why it is open. */
  reason: string;
}
