// Where a rollout stands, read the way `kubectl rollout status` reads it, from one Deployment
// object. Pure; the target feeds it the objects a watch delivers.
import type { V1Deployment } from '@kubernetes/client-node';

export type RolloutState =
  | { kind: 'progressing'; message: string; fraction: number }
  | { kind: 'complete'; message: string }
  | { kind: 'deadlineExceeded'; message: string };

/**
 * `staleDeadline`: when a deadline condition that was there before the change being followed
 * last changed status. The controller keeps it after a rollback until the rollout completes; it
 * is not this rollout's. (A new template resets the condition, so a new deadline has a new time.)
 */
export function rolloutState(deployment: V1Deployment, staleDeadline?: string): RolloutState {
  const name = deployment.metadata?.name ?? '';
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  if ((deployment.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { kind: 'progressing', message: `waiting for the controller to see ${name}'s new spec`, fraction: 0 };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (
    progressing?.reason === 'ProgressDeadlineExceeded' &&
    !(staleDeadline && conditionTime(progressing.lastTransitionTime) === staleDeadline)
  ) {
    return { kind: 'deadlineExceeded', message: progressing.message ?? `${name} exceeded its progress deadline` };
  }
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  // Each new replica counts twice (updated, then available), old ones once as they go.
  const fraction =
    desired === 0
      ? 1
      : Math.min(1, (Math.min(updated, desired) + Math.min(available, updated, desired)) / (2 * desired));
  if (updated < desired)
    return { kind: 'progressing', message: `${updated} of ${desired} new replicas updated, ${ready} ready`, fraction };
  if (total > updated)
    return {
      kind: 'progressing',
      message: `${total - updated} old replica${total - updated === 1 ? '' : 's'} pending termination`,
      fraction,
    };
  if (available < updated)
    return { kind: 'progressing', message: `${available} of ${updated} updated replicas available`, fraction };
  return { kind: 'complete', message: `${name} rolled out: ${available} of ${desired} replicas available` };
}

/** When the deployment's deadline condition became false, if it is set. */
export function deadlineConditionTime(deployment: V1Deployment): string | undefined {
  const progressing = deployment.status?.conditions?.find((condition) => condition.type === 'Progressing');
  return progressing?.reason === 'ProgressDeadlineExceeded' ? conditionTime(progressing.lastTransitionTime) : undefined;
}

/** Typed responses carry Dates, watch events carry the JSON text: both become one ISO form. */
function conditionTime(value: Date | string | undefined): string {
  const time = value === undefined ? NaN : new Date(value).getTime();
  return Number.isNaN(time) ? '' : new Date(time).toISOString();
}
