// Messages between the extension host and its webview panels: one discriminated union per
// direction and panel. The webview imports the types; the host validates every incoming
// message against the schemas and ignores anything else.
import * as v from 'valibot';
import type { Column as DatasetColumn, DatasetProfile } from '../datasets/model';

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
export type EnvironmentUpdate = { type: 'running' } | { type: 'checks'; checks: EnvironmentCheck[]; checkedAt: string };

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
  | { type: 'error'; message: string };

const MAX_PNG_DATA_URL = 20 * 1024 * 1024;

/** Metrics panel: webview -> host. */
export const MetricsRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
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
export type CompareUpdate = { type: 'runs'; runs: CompareRun[] } | { type: 'error'; message: string };

/** Compare panel: webview -> host. The webview builds the CSV of the table as shown. */
export const CompareRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('exportCsv'), csv: v.pipe(v.string(), v.maxLength(50 * 1024 * 1024)) }),
  v.object({
    type: v.literal('openMetrics'),
    runIds: v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(100)),
  }),
]);
export type CompareRequest = v.InferOutput<typeof CompareRequest>;

// The dataset panels: Preview, Profile and Query.
export type { ColumnProfile, DatasetProfile, Column as DatasetColumn } from '../datasets/model';

/**
 * A table cell as it crosses into a webview. JSON carries no bigint, date, NaN or nested value, so
 * the host turns those into their text (numbers that JSON keeps exactly stay numbers).
 */
export type GridCell = string | number | boolean | null;

/** The dataset file a panel shows. */
export interface DatasetFile {
  path: string;
  name: string;
  /** Unknown when the file could not be stat'ed. */
  bytes?: number;
}

export const PREVIEW_PAGE_SIZE = 100;

const nonNegativeInteger = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Preview panel: webview -> host. The host reads PREVIEW_PAGE_SIZE rows from `offset`. */
export const PreviewRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('page'), offset: nonNegativeInteger }),
]);
export type PreviewRequest = v.InferOutput<typeof PreviewRequest>;

/** Preview panel: host -> webview. `open` names the file and the row the webview should ask for. */
export type PreviewUpdate =
  | { type: 'open'; file: DatasetFile; offset: number }
  | {
      type: 'page';
      file: DatasetFile;
      columns: DatasetColumn[];
      rows: GridCell[][];
      offset: number;
      totalRows?: number;
    }
  | { type: 'error'; file: DatasetFile; message: string };

/** Profile panel: webview -> host. */
export const ProfileRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('cancel') }),
  v.object({ type: v.literal('rerun') }),
  v.object({ type: v.literal('export'), format: v.picklist(['json', 'csv']) }),
]);
export type ProfileRequest = v.InferOutput<typeof ProfileRequest>;

/** Profile panel: host -> webview. NaN statistics arrive as null (JSON has no NaN). */
export type ProfileUpdate =
  | { type: 'profiling'; file: DatasetFile; elapsedMs: number; step?: string }
  | { type: 'profile'; file: DatasetFile; profile: DatasetProfile; elapsedMs: number }
  | { type: 'cancelled'; file: DatasetFile }
  | { type: 'error'; file: DatasetFile; message: string };

export const QUERY_ROW_LIMIT = 10_000;

export interface QueryTableVersion {
  version: number;
  createdAt: string;
  rows: number;
  producedBy?: string;
}

export interface QueryTable {
  name: string;
  /** The columns of the latest version. */
  columns: DatasetColumn[];
  /** Newest first. */
  versions: QueryTableVersion[];
}

const tableName = v.pipe(v.string(), v.maxLength(256));

/** Query panel: webview -> host. `versions` pins tables to a version; tables left out read their latest. */
export const QueryRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('refreshTables') }),
  v.object({
    type: v.literal('run'),
    sql: v.pipe(v.string(), v.nonEmpty(), v.maxLength(100_000)),
    versions: v.pipe(
      v.record(tableName, nonNegativeInteger),
      v.check((versions) => Object.keys(versions).length <= 1000, 'at most 1000 pinned tables'),
    ),
  }),
  v.object({ type: v.literal('export'), format: v.picklist(['csv', 'parquet']) }),
]);
export type QueryRequest = v.InferOutput<typeof QueryRequest>;

export interface QueryResultView {
  columns: DatasetColumn[];
  rows: GridCell[][];
  /** True when the result was cut at QUERY_ROW_LIMIT rows. */
  truncated: boolean;
  elapsedMs: number;
}

/** Query panel: host -> webview. `setQuery` fills the editor: the last query when the webview reloads, or one given by a command. */
export type QueryUpdate =
  | { type: 'tables'; tables: QueryTable[] }
  | { type: 'setQuery'; sql: string; versions: Record<string, number> }
  | { type: 'result'; result: QueryResultView }
  | { type: 'queryError'; message: string }
  | { type: 'exported'; format: 'csv' | 'parquet'; path: string }
  | { type: 'error'; message: string };

// The Monitor panel: the health of one deployment over a time window.
import type { AuditEntry, MonitorSeries, MonitorSummary, Thresholds } from '../monitor/model';
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
} from '../monitor/model';

/** The windows the panel offers, in seconds: 5 min, 15 min, 1 h, 6 h, 24 h, 7 days. */
export const MONITOR_RANGES = [300, 900, 3600, 21600, 86400, 604800] as const;
export type MonitorRange = (typeof MONITOR_RANGES)[number];
export const DEFAULT_MONITOR_RANGE: MonitorRange = 900;

/** Monitor panel: webview -> host. */
export const MonitorRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('setRange'), seconds: v.picklist(MONITOR_RANGES) }),
  v.object({ type: v.literal('setLive'), on: v.boolean() }),
  v.object({ type: v.literal('refresh') }),
  v.object({ type: v.literal('revert') }),
  v.object({ type: v.literal('showLog') }),
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
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string };

// The A/B test panel: a deployment's traffic split, per-variant figures and their significance.
import type { SplitStatus } from '../deploy/targets/deployTarget';
import type { AbReport, ReviewGateState } from '../release/model';
export type {
  AbReport,
  AbSeriesPoint,
  AbVerdict,
  ReviewGateState,
  VariantComparison,
  VariantFigures,
} from '../release/model';
export type { SplitStatus, SplitVariantStatus } from '../deploy/targets/deployTarget';

const variantName = v.pipe(v.string(), v.regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/));

/** A/B panel: webview -> host. Weights are shares of the live traffic, by variant. */
export const AbRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
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
  v.object({ type: v.literal('showLog') }),
]);
export type AbRequest = v.InferOutput<typeof AbRequest>;

/** A/B panel: host -> webview. `gate` is the deployment's review gate, null when it has none. */
export type AbUpdate =
  | { type: 'init'; title: string; live: boolean }
  | { type: 'data'; split: SplitStatus | null; report: AbReport; gate: ReviewGateState | null; refreshedAt: string }
  | { type: 'busy'; on: boolean }
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string };

// The Back-test Report panel: a saved or fresh back-test of a candidate against a baseline.
import type { BacktestReport } from '../release/backtest/model';
export type {
  BacktestReport,
  Comparison as BacktestComparison,
  DisagreementRow,
  GateVerdict,
  VersionResult as BacktestVersion,
} from '../release/backtest/model';

/** Back-test panel: webview -> host. */
export const BacktestRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('save') }),
  v.object({ type: v.literal('showLog') }),
]);
export type BacktestRequest = v.InferOutput<typeof BacktestRequest>;

/** Back-test panel: host -> webview. `file` is where the report is saved, null until it is. */
export type BacktestUpdate =
  | { type: 'report'; report: BacktestReport; file: string | null }
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string };

// The Review panel: a deployment's candidate answers beside production's, judged one at a time.
import type { ReviewGate, ReviewSample, ReviewTally, Verdict } from '../release/review/model';
export type { ReviewGate, ReviewSample, ReviewTally, Verdict } from '../release/review/model';
import { VERDICTS } from '../release/review/model';

/** Review panel: webview -> host. */
export const ReviewRequest = v.variant('type', [
  v.object({ type: v.literal('ready') }),
  v.object({ type: v.literal('refresh') }),
  v.object({
    type: v.literal('decide'),
    requestId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    verdict: v.picklist(VERDICTS),
    comment: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  }),
  v.object({ type: v.literal('promote') }),
  v.object({ type: v.literal('showLog') }),
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
  | { type: 'error'; message: string }
  | { type: 'notice'; message: string };
