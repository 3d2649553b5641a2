// @ts-check
// Kubernetes in the demo: when the control plane binaries are built (npm test builds them once),
// a local cluster with kwok as the kubelet, a deployment with two revisions made with the CLI, and
// the cluster written into the demo's settings as a deploy target.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubernetesBinariesReady, kubernetesBinDir, startControlPlane } from './kubernetes.mjs';
import { repoRoot, say } from './setup.mjs';

/**
 * @param {string} workspace
 * @returns {Promise<(() => Promise<void>) | undefined>} stops the cluster
 */
export async function prepareDemoKubernetes(workspace) {
  if (!kubernetesBinariesReady()) {
    say(
      `no local Kubernetes cluster in the demo: its binaries are not built in ${kubernetesBinDir()} (npm test builds them once, in 15 to 30 minutes)`,
    );
    return undefined;
  }
  say(
    'starting a local Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler, kwok as the kubelet)',
  );
  const plane = await startControlPlane();
  const cli = (/** @type {string[]} */ args) =>
    spawnSync(
      process.execPath,
      [join(repoRoot, 'dist', 'cli.js'), ...args, '--target', 'kubernetes', '--kubeconfig', plane.kubeconfig],
      { encoding: 'utf8' },
    );
  for (const [image, cause] of [
    ['mlops-demo/churn:1', 'first model'],
    ['mlops-demo/churn:2', 'retrained with more trees'],
  ]) {
    const result = cli(['deploy', '--name', 'churn', '--image', image, '--replicas', '2', '--change-cause', cause]);
    if (result.status !== 0) say(`the demo deployment did not go as planned: ${result.stderr.trim()}`);
  }
  const file = join(workspace, '.vscode', 'settings.json');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const settings = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const targets = [{ name: 'Local Kubernetes (kwok)', kubernetes: { context: 'mlops-test', namespace: 'default' } }];
  writeFileSync(
    file,
    `${JSON.stringify({ ...settings, 'mlops.kubeconfig': plane.kubeconfig, 'mlops.deployTargets': targets }, null, 2)}\n`,
  );
  return plane.stop;
}
