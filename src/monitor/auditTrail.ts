// The audit log of each deployment as the Deployments view reads it, and where it records the
// reverts the user asks for: the monitoring folder of the workspace, none without a folder.
import type { AuditTrail } from '../deploy/deployments/auditTrail';
import type { BadLineReporter } from '../shared/badLines';
import { readAudit } from './audit';
import { monitoringDir } from './countsLog';
import { auditManualRevert } from './respond';
import { targetKey } from './targetKey';

export function monitorAuditTrail(
  workspaceRoot: () => string | undefined,
  /** Told of each damaged line of an audit log (it is skipped). */
  onBadLine?: BadLineReporter,
): AuditTrail {
  return {
    read: (target, name) => {
      const workspace = workspaceRoot();
      return workspace
        ? readAudit(monitoringDir(workspace, targetKey(target), name), 200, onBadLine ? { onBadLine } : {})
        : [];
    },
    recordRevert: (target, name, from, to) => {
      const workspace = workspaceRoot();
      if (!workspace) return;
      const targetId = targetKey(target);
      auditManualRevert(monitoringDir(workspace, targetId, name), {
        targetId,
        name,
        from,
        to,
        by: 'you',
        message: `${name} was reverted from revision ${from} to its stable revision ${to}.`,
      });
    },
  };
}
