// The audit log of each deployment as the Deployments view reads it, and where it records the
// reverts the user asks for: the monitoring folder of the workspace, none without a folder.
import type { AuditTrail } from '../deploy/deployments/auditTrail';
import { readAudit } from './audit';
import { monitoringDir } from './countsLog';
import { auditManualRevert } from './respond';
import { targetKey } from './targetKey';

export function monitorAuditTrail(workspaceRoot: () => string | undefined): AuditTrail {
  return {
    read: (target, name) => {
      const workspace = workspaceRoot();
      return workspace ? readAudit(monitoringDir(workspace, targetKey(target), name)) : [];
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
