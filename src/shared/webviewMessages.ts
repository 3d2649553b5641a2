// The messages every webview panel shares; each area's contract.ts builds its own unions from them.
import * as v from 'valibot';

/** Webview -> host: the webview has loaded and wants its first data. */
export const ReadyMessage = v.object({ type: v.literal('ready') });

/** Webview -> host: show the "MLOps" output channel. */
export const ShowLogMessage = v.object({ type: v.literal('showLog') });

/** Host -> webview: something failed; the panel shows the message in its error banner. */
export interface ErrorUpdate {
  type: 'error';
  message: string;
}

/** Host -> webview: the outcome of an action, such as a revert or a save. */
export interface NoticeUpdate {
  type: 'notice';
  message: string;
}
