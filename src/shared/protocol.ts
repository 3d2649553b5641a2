// Messages between the extension host and its webview panels: one discriminated union per
// direction and panel. The webview imports the types; the host validates every incoming
// message against the schemas and ignores anything else.
import * as v from 'valibot';

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
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('rerun') }),
  v.object({ type: v.literal('showLog') }),
]);
export type EnvironmentRequest = v.InferOutput<typeof EnvironmentRequest>;

/** Environment panel: host -> webview. */
export type EnvironmentUpdate =
  | { type: 'running' }
  | { type: 'checks'; checks: EnvironmentCheck[]; checkedAt: string };
