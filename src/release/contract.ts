// The messages between the A/B test panel and its webview: a deployment's traffic split, the
// per-variant figures and their significance, one union per direction. The host validates every
// incoming message and ignores anything else.
import * as v from 'valibot';
import type { SplitStatus } from '../deploy/targets/deployTarget';
import { ReadyMessage, ShowLogMessage, type ErrorUpdate, type NoticeUpdate } from '../shared/webviewMessages';
import type { AbReport, ReviewGateState } from './model';

export type { AbReport, AbSeriesPoint, AbVerdict, ReviewGateState, VariantComparison, VariantFigures } from './model';
export type { SplitStatus, SplitVariantStatus } from '../deploy/targets/deployTarget';

const variantName = v.pipe(v.string(), v.regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/));

/** A/B panel: webview -> host. Weights are shares of the live traffic, by variant. */
export const AbRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('refresh') }),
  v.object({ type: v.literal('setLive'), on: v.boolean() }),
  v.object({
    type: v.literal('setWeights'),
    weights: v.pipe(
      v.record(variantName, v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100))),
      v.check((w) => Object.keys(w).length > 0, 'no weights'),
    ),
  }),
  v.object({ type: v.literal('stop') }),
  v.object({ type: v.literal('promote'), variant: variantName }),
  ShowLogMessage,
]);
export type AbRequest = v.InferOutput<typeof AbRequest>;

/** A/B panel: host -> webview. `gate` is the deployment's review gate, null when it has none. */
export type AbUpdate =
  | { type: 'init'; title: string; live: boolean }
  | { type: 'data'; split: SplitStatus | null; report: AbReport; gate: ReviewGateState | null; refreshedAt: string }
  | { type: 'busy'; on: boolean }
  | ErrorUpdate
  | NoticeUpdate;
