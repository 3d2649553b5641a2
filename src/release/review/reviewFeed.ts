// What the Review panel needs of a deployment, without knowing where it comes from: the samples
// not judged yet, the gate, recording a decision, and promotion.
import type { ReviewGate, ReviewSample, ReviewTally, Verdict } from './model';

export interface ReviewFeed {
  /** "churn on Swarm (/var/run/docker.sock)" */
  title: string;
  /** Samples not judged yet, disagreements first. */
  samples(signal: AbortSignal): Promise<ReviewSample[]>;
  /** The gate over the decisions about the candidate version (all decisions when it is not known). */
  gate(candidateVersion: string | undefined): { gate: ReviewGate; tally: ReviewTally };
  decide(sample: ReviewSample, verdict: Verdict, comment: string | undefined): Promise<void>;
  /** Promotes the candidate variant, with the tally as the reason. */
  promote(variant: string, reason: string): Promise<void>;
}
