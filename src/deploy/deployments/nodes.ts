// The nodes of the Deployments view, shared by the tree and the commands its menus run.
import type { DeploymentEvent, DeploymentStatus, Revision, Task } from '../targets/deployTarget';
import type { DeploymentAuditEntry } from './auditTrail';
import type { TargetSnapshot } from './targets';

export type DeploymentNode =
  | { kind: 'target'; snapshot: TargetSnapshot }
  | { kind: 'namespace'; targetId: string; namespace: string; primary: boolean; snapshot: TargetSnapshot }
  | {
      kind: 'service';
      targetId: string;
      targetName: string;
      status: DeploymentStatus;
      targetKind?: 'swarm' | 'kubernetes';
    }
  | { kind: 'revisions'; targetId: string; name: string }
  | { kind: 'tasks'; targetId: string; name: string; label?: string }
  | { kind: 'events'; targetId: string; name: string }
  | { kind: 'event'; targetId: string; name: string; event: DeploymentEvent }
  | { kind: 'audit'; targetId: string; name: string }
  | { kind: 'auditEntry'; targetId: string; name: string; entry: DeploymentAuditEntry }
  | { kind: 'revision'; targetId: string; name: string; revision: Revision }
  | { kind: 'task'; targetId: string; name: string; task: Task }
  | { kind: 'empty'; targetId: string }
  | { kind: 'problem'; message: string; command?: { id: string; title: string; targetId?: string } };

/** The deployment a node belongs to (a service, or one of its groups, revisions or tasks). */
export function nodeDeployment(node: DeploymentNode | undefined): { targetId: string; name: string } | undefined {
  if (!node) return undefined;
  switch (node.kind) {
    case 'service':
      return { targetId: node.targetId, name: node.status.name };
    case 'revisions':
    case 'tasks':
    case 'events':
    case 'revision':
    case 'task':
    case 'event':
    case 'audit':
    case 'auditEntry':
      return { targetId: node.targetId, name: node.name };
    default:
      return undefined;
  }
}

/** The target a node belongs to. */
export function nodeTargetId(node: DeploymentNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.kind === 'target') return node.snapshot.config.id;
  if (node.kind === 'namespace') return node.targetId;
  if (node.kind === 'problem') return node.command?.targetId;
  return node.targetId;
}

/** True for a value the tree passed to a command (as opposed to `{ image }` or a notebook toolbar's context). */
export function isDeploymentNode(value: unknown): value is DeploymentNode {
  const kind = (value as { kind?: unknown } | undefined)?.kind;
  return (
    typeof kind === 'string' &&
    [
      'target',
      'namespace',
      'service',
      'revisions',
      'tasks',
      'events',
      'revision',
      'task',
      'event',
      'audit',
      'auditEntry',
      'empty',
      'problem',
    ].includes(kind)
  );
}
