// The messages between the Environment panel and its webview: one union per direction. The host
// validates every incoming message against EnvironmentRequest and ignores anything else.
import * as v from 'valibot';
import { ReadyMessage, ShowLogMessage } from '../shared/webviewMessages';

export const CheckStatus = v.picklist(['ok', 'warning', 'missing']);
export type CheckStatus = v.InferOutput<typeof CheckStatus>;

export interface EnvironmentCheck {
  id: string;
  label: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
}

/** Environment panel: webview -> host. */
export const EnvironmentRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('rerun') }),
  ShowLogMessage,
]);
export type EnvironmentRequest = v.InferOutput<typeof EnvironmentRequest>;

/** Environment panel: host -> webview. */
export type EnvironmentUpdate = { type: 'running' } | { type: 'checks'; checks: EnvironmentCheck[]; checkedAt: string };
