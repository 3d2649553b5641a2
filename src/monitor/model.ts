// What monitoring knows about a deployed model: the numbers of a time window per version, the
// series the monitor panel charts, drift, thresholds and alerts. The CLI (`mlops monitor`), the
// panel and the alert watcher all speak these types; nothing here imports vscode.
import type { DeploymentAuditEntry } from '../deploy/deployments/auditTrail';
import type { ResourceUse } from '../deploy/targets/deployTarget';

export type { ResourceUse };

/** One sample of Prometheus' text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One scrape of every instance (task or pod) of a deployment. */
export interface Scrape {
  /** When it was taken, epoch ms. */
  at: number;
  /** The samples of every instance that answered, each with an `instance` label. */
  samples: Sample[];
  /** Instances that did not answer, and why. */
  unreachable: { instance: string; error: string }[];
}

export interface LatencyQuantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The predictions of a window: class counts (classification) or a value histogram (regression). */
export type PredictionSummary =
  | { kind: 'classes'; counts: Record<string, number> }
  | { kind: 'values'; count: number; mean: number | null; buckets: { le: number; count: number }[] }
  | { kind: 'none' };

/** A version's numbers over a window. */
export interface VersionHealth {
  version: string;
  requests: number;
  errors: number;
  /** errors / requests; null without requests. */
  errorRate: number | null;
  latencyMs: LatencyQuantiles;
  predictions: PredictionSummary;
}

export interface DriftRow {
  feature: string;
  kind: 'numeric' | 'categorical';
  psi: number;
  ks: number | null;
  severity: 'none' | 'moderate' | 'major';
  /** PSI per time slice of the window, oldest first, for a sparkline; null (NaN before JSON) for a slice without requests. */
  trend?: (number | null)[];
}

/** Output drift: the predictions of one version against another's, or of the window against the one before. */
export interface OutputDrift {
  comparison: 'versions' | 'window';
  /** A version, or "the window before". */
  reference: string;
  /** A version, or "this window". */
  current: string;
  kind: 'numeric' | 'categorical';
  psi: number;
  ks: number | null;
  severity: 'none' | 'moderate' | 'major';
  referenceRows: number;
  currentRows: number;
}

/** Per-deployment thresholds; an absent one is not checked. */
export interface Thresholds {
  /** Error rate (0..1) above which an alert fires. */
  errorRate?: number;
  /** p95 latency in ms above which an alert fires. */
  p95LatencyMs?: number;
  /** PSI on any feature above which an alert fires. */
  psi?: number;
  /** Requests a window needs before rates are judged (so 1 error in 2 requests is not 50 %). */
  minRequests?: number;
  /** Revert to the pinned stable revision by itself when an alert fires. */
  autoRevert?: boolean;
}

export type AlertRule = 'errorRate' | 'p95LatencyMs' | 'psi';

export interface Alert {
  rule: AlertRule;
  /** The version breaching it. */
  version: string;
  value: number;
  threshold: number;
  /** The feature, for a PSI alert. */
  feature?: string;
  message: string;
}

/** One line of the audit log (`.mlops/monitoring/audit.jsonl`): what the Deployments view shows, and where it belongs. */
export interface AuditEntry extends DeploymentAuditEntry {
  target: string;
  deployment: string;
  alert?: Alert;
}

/** What `mlops monitor --json` prints and the panel shows above its charts. */
export interface MonitorSummary {
  target: string;
  deployment: string;
  /** The window: its length as given (`15m`), and its ends (ISO). */
  since: string;
  from: string;
  to: string;
  /** Where the numbers came from. */
  source: 'scrape' | 'prometheus';
  requests: number;
  errors: number;
  errorRate: number | null;
  latencyMs: LatencyQuantiles;
  predictions: PredictionSummary;
  versions: VersionHealth[];
  drift: DriftRow[];
  /** Why drift is empty, when it is (no baseline, no logged requests...). */
  driftNote?: string;
  /** Output drift between versions and against the window before. */
  outputDrift: OutputDrift[];
  /** CPU and memory of each task or pod now, where the orchestrator measures them. */
  resources: ResourceUse[];
  /** Why `resources` is empty, when it is. */
  resourcesNote?: string;
  alerts: Alert[];
}

/** A point of a chart: epoch ms and a value (null: no data, a gap). */
export interface SeriesPoint {
  t: number;
  v: number | null;
}

export type SeriesMetric = 'requestRate' | 'errorRate' | 'latencyP50' | 'latencyP95' | 'latencyP99' | 'prediction';

/** One line of a monitor chart, already downsampled on the host. */
export interface MonitorSeries {
  metric: SeriesMetric;
  version: string;
  /** For `prediction`: the class (values are its share, 0..1), or with `bucket` a value bucket's upper bound. */
  key?: string;
  /** The key is a regression bucket's upper bound; values count predictions up to it, as Prometheus' `le`. */
  bucket?: boolean;
  /** Points before downsampling. */
  totalPoints: number;
  points: SeriesPoint[];
}

/** The chart budget: no series sent to the panel has more points. */
export const POINT_BUDGET = 2000;
