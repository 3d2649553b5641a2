// What is recorded of a deployment (alerts, reverts, reviews, splits, promotions), as the
// Deployments view shows it. The monitor keeps the records; extension.ts hands its trail in.
import type { DeployTarget } from '../targets/deployTarget';

/** One record of a deployment's history; the monitor's AuditEntry adds where it belongs. */
export interface DeploymentAuditEntry {
  at: string;
  kind: 'alert' | 'revert' | 'revert-failed' | 'review' | 'split' | 'promotion';
  message: string;
  /** For an alert: the rule it breached, and the feature of a drift alert. */
  alert?: { rule: string; feature?: string };
  /** For a revert: from which revision to which. */
  fromRevision?: number;
  toRevision?: number;
  /** `auto` when autoRevert did it, else the user. */
  by: string;
}

export interface AuditTrail {
  /** The records of a deployment, newest first. */
  read(target: DeployTarget, name: string): DeploymentAuditEntry[];
  /** Records a revert the user asked for. */
  recordRevert(target: DeployTarget, name: string, from: number, to: number): void;
}
