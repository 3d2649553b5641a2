// The messages between the Back-test Report panel and its webview: a saved or fresh back-test of a
// candidate against a baseline, one union per direction. The host validates every incoming message
// and ignores anything else.
import * as v from 'valibot';
import { ReadyMessage, ShowLogMessage, type ErrorUpdate, type NoticeUpdate } from '../../shared/webviewMessages';
import type { BacktestReport } from './model';

export type {
  BacktestReport,
  Comparison as BacktestComparison,
  DisagreementRow,
  GateVerdict,
  VersionResult as BacktestVersion,
} from './model';

/** Back-test panel: webview -> host. */
export const BacktestRequest = v.variant('type', [ReadyMessage, v.object({ type: v.literal('save') }), ShowLogMessage]);
export type BacktestRequest = v.InferOutput<typeof BacktestRequest>;

/** Back-test panel: host -> webview. `file` is where the report is saved, null until it is. */
export type BacktestUpdate =
  { type: 'report'; report: BacktestReport; file: string | null } | ErrorUpdate | NoticeUpdate;
