// The real Kubernetes control plane in tests (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, and kwok as the kubelet), from binaries `npm test` builds into the cache. One
// control plane per test file; each answer says why when there is none.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  kubeconfigText,
  kubernetesBinariesReady,
  kubernetesBinDir,
  startControlPlane,
  type ControlPlane,
} from '../../scripts/lib/kubernetes.mjs';

export type { ControlPlane };

/** A started control plane, or why there is none (the binaries are built by `npm test`). */
export async function controlPlane(): Promise<{ ok: true; plane: ControlPlane } | { ok: false; reason: string }> {
  if (!kubernetesBinariesReady()) {
    return {
      ok: false,
      reason: `the Kubernetes control plane is not built in ${kubernetesBinDir()} (npm test builds it; it takes 15 to 30 minutes once)`,
    };
  }
  try {
    return { ok: true, plane: await startControlPlane() };
  } catch (error) {
    return { ok: false, reason: `the Kubernetes control plane did not start: ${(error as Error).message}` };
  }
}

/** Writes a kubeconfig file beside the control plane's files and returns its path. */
export function writeKubeconfig(
  plane: ControlPlane,
  file: string,
  server: string,
  token: string,
  context: string,
  namespace = 'default',
): string {
  const path = join(plane.dir, file);
  writeFileSync(path, kubeconfigText(server, token, context, namespace));
  return path;
}
