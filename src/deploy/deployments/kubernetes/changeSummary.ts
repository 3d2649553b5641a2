// What a dry run of a YAML apply would do, in a few words for the confirmation.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { AppliedObject } from '../../targets/kubernetes/kubernetesTarget';

/** "1 created, 2 changed, 1 unchanged". */
export function changeSummary(planned: AppliedObject[]): string {
  const strip = (object: KubernetesObject | null) =>
    JSON.stringify(object, (key, value: unknown) =>
      key === 'managedFields' || key === 'resourceVersion' ? undefined : value,
    );
  const created = planned.filter((p) => !p.before).length;
  const unchanged = planned.filter((p) => p.before && strip(p.before) === strip(p.after)).length;
  const changed = planned.length - created - unchanged;
  return (
    [created && `${created} created`, changed && `${changed} changed`, unchanged && `${unchanged} unchanged`]
      .filter(Boolean)
      .join(', ') || 'nothing to apply'
  );
}
