// The types the release flows share with their panels (A/B test, promotion): no runtime code, so
// the webviews can import them through src/release/contract.ts.
import type { ProportionTest, WelchTest } from './stats';

/** Whether the review gate lets a candidate be promoted, and what it waits for. */
export interface ReviewGateState {
  open: boolean;
  reason: string;
}

export interface VariantFigures {
  variant: string;
  shadow: boolean;
  versions: string[];
  requests: number;
  errors: number;
  errorRate: number | null;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null };
  /** Answers whose request has a label, and how many of them equal it (first prediction of the request). */
  labelled: number;
  correct: number;
  accuracy: number | null;
  rewards: number;
  meanReward: number | null;
}

export interface VariantComparison {
  /** Compared with production: each estimate is this variant's figure minus production's. */
  variant: string;
  errorRate: ProportionTest | null;
  accuracy: ProportionTest | null;
  reward: WelchTest | null;
  latency: WelchTest | null;
}

export interface AbSeriesPoint {
  /** The bucket's start, ms since the epoch. */
  t: number;
  requests: number;
  errors: number;
  p95: number | null;
}

export interface AbVerdict {
  /** What decides: accuracy when labels came back, else mean reward, else the error rate. */
  metric: 'accuracy' | 'reward' | 'errorRate' | null;
  /** The best variant by that metric; null without data. */
  leader: string | null;
  /** Whether the leader's difference from production is significant (p < 0.05). */
  significant: boolean;
  summary: string;
}

export interface AbReport {
  target: string;
  deployment: string;
  from: string;
  to: string;
  variants: VariantFigures[];
  comparisons: VariantComparison[];
  series: { bucketMs: number; variants: Record<string, AbSeriesPoint[]> };
  verdict: AbVerdict;
}
