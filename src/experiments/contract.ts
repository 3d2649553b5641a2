// The messages between the experiment panels (Metrics, Compare) and their webviews: one union per
// direction and panel. The host validates every incoming message and ignores anything else.
import * as v from 'valibot';
import { ReadyMessage, type ErrorUpdate } from '../shared/webviewMessages';

/** A run as the experiment panels show it. */
export interface PanelRun {
  runId: string;
  runName: string;
  experimentId: string;
  status: string;
  startTime: number | null;
}

export interface ChartPoint {
  step: number;
  timestamp: number;
  value: number;
}

/** One metric of one run, downsampled on the host: the full history never reaches the webview. */
export interface MetricSeries {
  runId: string;
  key: string;
  totalPoints: number;
  points: ChartPoint[];
}

/** Metrics panel: host -> webview. */
export type MetricsUpdate =
  | { type: 'init'; runs: PanelRun[]; keys: string[]; selectedKeys: string[] }
  | { type: 'series'; series: MetricSeries[]; live: boolean }
  | ErrorUpdate;

const MAX_PNG_DATA_URL = 20 * 1024 * 1024;

/** Metrics panel: webview -> host. */
export const MetricsRequest = v.variant('type', [
  ReadyMessage,
  v.object({
    type: v.literal('selectKeys'),
    keys: v.pipe(v.array(v.pipe(v.string(), v.maxLength(500))), v.maxLength(200)),
  }),
  v.object({
    type: v.literal('exportPng'),
    dataUrl: v.pipe(v.string(), v.startsWith('data:image/png;base64,'), v.maxLength(MAX_PNG_DATA_URL)),
  }),
  v.object({ type: v.literal('exportCsv') }),
]);
export type MetricsRequest = v.InferOutput<typeof MetricsRequest>;

export interface MetricSummary {
  last: number;
  min: number;
  max: number;
}

export interface CompareRun extends PanelRun {
  params: Record<string, string>;
  metrics: Record<string, MetricSummary>;
}

/** Compare panel: host -> webview. */
export type CompareUpdate = { type: 'runs'; runs: CompareRun[] } | ErrorUpdate;

/** Compare panel: webview -> host. The webview builds the CSV of the table as shown. */
export const CompareRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('exportCsv'), csv: v.pipe(v.string(), v.maxLength(50 * 1024 * 1024)) }),
  v.object({
    type: v.literal('openMetrics'),
    runIds: v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(100)),
  }),
]);
export type CompareRequest = v.InferOutput<typeof CompareRequest>;
