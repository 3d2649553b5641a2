// The order of the drift table. Apart from the DOM, so it is unit-tested.
import type { DriftRow } from '../../../src/monitor/contract';

const RANK: Record<DriftRow['severity'], number> = { major: 2, moderate: 1, none: 0 };

/** Most drifted first: by severity, then PSI, then name. */
export function sortDrift(rows: readonly DriftRow[]): DriftRow[] {
  return [...rows].sort(
    (a, b) => RANK[b.severity] - RANK[a.severity] || b.psi - a.psi || a.feature.localeCompare(b.feature),
  );
}
