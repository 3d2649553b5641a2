// The namespaces a Kubernetes target shows in the Deployments view: its own first, then the
// others the user may list, without the cluster's system namespaces.
import type { DeployTarget } from '../../targets/deployTarget';
import type { KubernetesTarget } from '../../targets/kubernetes/kubernetesTarget';

/** Namespaces that hold the cluster's own workloads: not worth browsing for models. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

export function asKubernetes(target: DeployTarget): KubernetesTarget | undefined {
  return target.kind === 'kubernetes' ? (target as KubernetesTarget) : undefined;
}

/** The namespaces to show under a Kubernetes target: its own first, then the others users may list. */
export async function kubernetesNamespaces(target: DeployTarget): Promise<string[]> {
  const kubernetes = asKubernetes(target);
  if (!kubernetes) return [];
  const all = await kubernetes.namespaces().catch(() => [kubernetes.namespace]);
  return [
    kubernetes.namespace,
    ...all.filter((name) => name !== kubernetes.namespace && !SYSTEM_NAMESPACES.has(name)).sort(),
  ];
}
