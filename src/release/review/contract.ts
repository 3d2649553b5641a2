// The messages between the Review panel and its webview: a deployment's candidate answers beside
// production's, judged one at a time, one union per direction. The host validates every incoming
// message and ignores anything else.
import * as v from 'valibot';
import { ReadyMessage, ShowLogMessage, type ErrorUpdate, type NoticeUpdate } from '../../shared/webviewMessages';
import { VERDICTS, type ReviewGate, type ReviewSample, type ReviewTally, type Verdict } from './model';

export type { ReviewGate, ReviewSample, ReviewTally, Verdict } from './model';

/** Review panel: webview -> host. */
export const ReviewRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('refresh') }),
  v.object({
    type: v.literal('decide'),
    requestId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    verdict: v.picklist(VERDICTS),
    comment: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  }),
  v.object({ type: v.literal('promote') }),
  ShowLogMessage,
]);
export type ReviewRequest = v.InferOutput<typeof ReviewRequest>;

/**
 * Review panel: host -> webview. `samples` are the ones not judged yet, disagreements first;
 * `gate` follows every decision.
 */
export type ReviewUpdate =
  | { type: 'init'; title: string }
  | { type: 'samples'; samples: ReviewSample[] }
  | { type: 'gate'; gate: ReviewGate; tally: ReviewTally }
  | { type: 'decided'; requestId: string; verdict: Verdict }
  | { type: 'busy'; on: boolean }
  | ErrorUpdate
  | NoticeUpdate;
