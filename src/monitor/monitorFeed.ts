// What the Monitor panel needs from a deployment: its window's numbers and series, a revert to
// the pinned stable revision, and the audit log. The panel knows nothing else about targets or
// metric sources, so it can be driven by a scrape, by Prometheus, or by a test fixture.
import type { AuditEntry, MonitorSeries, MonitorSummary, Thresholds } from './model';

export interface MonitorFeed {
  /** "churn on Swarm (local)" */
  readonly title: string;
  readonly thresholds: Thresholds;
  /** The window's numbers and its chart series (already downsampled to POINT_BUDGET per series). */
  load(rangeSeconds: number, signal: AbortSignal): Promise<{ summary: MonitorSummary; series: MonitorSeries[] }>;
  /** Reverts to the pinned stable revision; resolves to a message for the panel, throws an MlopsError on failure. */
  revertToStable(): Promise<string>;
  /** The audit log lines of this deployment, newest first (alerts and reverts). */
  audit(): Promise<AuditEntry[]>;
}
