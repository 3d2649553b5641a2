// The messages between the Monitor panel and its webview: the health of one deployment over a
// time window, one union per direction. The host validates every incoming message and ignores
// anything else.
import * as v from 'valibot';
import { ReadyMessage, ShowLogMessage, type ErrorUpdate, type NoticeUpdate } from '../shared/webviewMessages';
import type { AuditEntry, MonitorSeries, MonitorSummary, Thresholds } from './model';

export type {
  Alert,
  AuditEntry,
  DriftRow,
  MonitorSeries,
  OutputDrift,
  ResourceUse,
  MonitorSummary,
  PredictionSummary,
  SeriesPoint,
  Thresholds,
  VersionHealth,
} from './model';

/** The windows the panel offers, in seconds: 5 min, 15 min, 1 h, 6 h, 24 h, 7 days. */
export const MONITOR_RANGES = [300, 900, 3600, 21600, 86400, 604800] as const;
export type MonitorRange = (typeof MONITOR_RANGES)[number];
export const DEFAULT_MONITOR_RANGE: MonitorRange = 900;

/** Monitor panel: webview -> host. */
export const MonitorRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('setRange'), seconds: v.picklist(MONITOR_RANGES) }),
  v.object({ type: v.literal('setLive'), on: v.boolean() }),
  v.object({ type: v.literal('refresh') }),
  v.object({ type: v.literal('revert') }),
  ShowLogMessage,
]);
export type MonitorRequest = v.InferOutput<typeof MonitorRequest>;

/**
 * Monitor panel: host -> webview. `data` carries the window's numbers and its series, already
 * downsampled (POINT_BUDGET points per series at most); `notice` reports an outcome, such as a revert.
 */
export type MonitorUpdate =
  | { type: 'init'; title: string; thresholds: Thresholds; rangeSeconds: MonitorRange; live: boolean }
  | { type: 'data'; summary: MonitorSummary; series: MonitorSeries[]; refreshedAt: string }
  | { type: 'audit'; entries: AuditEntry[] }
  | { type: 'busy'; on: boolean }
  | ErrorUpdate
  | NoticeUpdate;
