// Deploys on the local Kubernetes control plane (kwok as the kubelet): from apply to rollout
// complete and from rollback to complete, with the API requests each one makes, for our
// KubernetesTarget and for kubectl (`apply --server-side` + `rollout status`, `rollout undo` +
// `rollout status`) doing the same to an identical Deployment, in the same run.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubernetesBinDir, startControlPlane } from '../scripts/lib/kubernetes.mjs';
import { say } from '../scripts/lib/setup.mjs';
import { openKubernetesTarget } from '../src/deploy/targets/kubernetes/kubernetesTarget';
import { deploymentManifest, serviceManifest } from '../src/deploy/targets/kubernetes/manifests';
import { median, type BenchSuite } from './suite';

const ROUNDS = 5;

/** Runs kubectl at -v=6 and counts the API requests it logs. */
function kubectl(kubeconfig: string, args: string[]): Promise<{ seconds: number; requests: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(kubernetesBinDir(), 'kubectl'), ['--kubeconfig', kubeconfig, '-v=6', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(
          new Error(`kubectl ${args.join(' ')} exited with ${code}: ${log.split('\n').slice(-5).join('\n')}`),
        );
      resolve({
        seconds: (performance.now() - started) / 1000,
        requests: log
          .split('\n')
          .filter((line) => /"Response" verb=|round_trippers.*\b(GET|PUT|PATCH|POST|DELETE) https?:/.test(line)).length,
      });
    });
  });
}

export const kubernetesSuite: BenchSuite = {
  name: 'kubernetes',
  async run() {
    const plane = await startControlPlane();
    try {
      const target = await openKubernetesTarget({ kubeconfig: plane.kubeconfig });
      const images = ['bench/churn:1', 'bench/churn:2'];
      const peerFile = (image: string) => {
        const spec = { name: 'bench-kubectl', image, replicas: 2 };
        const manifest = {
          apiVersion: 'v1',
          kind: 'List',
          items: [
            deploymentManifest({
              spec,
              namespace: 'default',
              imageRef: image,
              modelImage: true,
              gitCommit: null,
              mlflowRunId: null,
              deployedBy: 'bench',
              deployedAt: new Date().toISOString(),
              pullSecret: null,
            }),
            serviceManifest(spec, 'default'),
          ],
        };
        const file = join(plane.dir, `peer-${image.replace(/\W/g, '-')}.json`);
        writeFileSync(file, JSON.stringify(manifest));
        return file;
      };
      const peerApply = async (image: string) => {
        const applied = await kubectl(plane.kubeconfig, [
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager=kubectl-bench',
          '-f',
          peerFile(image),
        ]);
        const status = await kubectl(plane.kubeconfig, [
          'rollout',
          'status',
          'deployment/bench-kubectl',
          '--timeout=300s',
        ]);
        return { seconds: applied.seconds + status.seconds, requests: applied.requests + status.requests };
      };
      const peerUndo = async () => {
        const undone = await kubectl(plane.kubeconfig, ['rollout', 'undo', 'deployment/bench-kubectl']);
        const status = await kubectl(plane.kubeconfig, [
          'rollout',
          'status',
          'deployment/bench-kubectl',
          '--timeout=300s',
        ]);
        return { seconds: undone.seconds + status.seconds, requests: undone.requests + status.requests };
      };
      const ours = async (work: () => Promise<unknown>) => {
        const calls = target.apiCalls;
        const started = performance.now();
        await work();
        return { seconds: (performance.now() - started) / 1000, requests: target.apiCalls - calls };
      };
      await target.deploy({ name: 'bench-ours', image: images[0]!, replicas: 2 });
      await peerApply(images[0]!);
      const results = {
        oursDeploy: [] as { seconds: number; requests: number }[],
        oursUndo: [] as { seconds: number; requests: number }[],
        peerDeploy: [] as { seconds: number; requests: number }[],
        peerUndo: [] as { seconds: number; requests: number }[],
      };
      for (let round = 1; round <= ROUNDS; round++) {
        say(`kubernetes: round ${round} of ${ROUNDS}`);
        const image = images[round % 2]!;
        results.oursDeploy.push(
          await ours(() => target.deploy({ name: 'bench-ours', image: `${image}-r${round}`, replicas: 2 })),
        );
        results.oursUndo.push(await ours(() => target.rollback('bench-ours')));
        results.peerDeploy.push(await peerApply(`${image}-r${round}`));
        results.peerUndo.push(await peerUndo());
      }
      const m = (list: { seconds: number; requests: number }[], key: 'seconds' | 'requests') =>
        median(list.map((entry) => entry[key]));
      const row = (what: string, ourList: typeof results.oursDeploy, peerList: typeof results.oursDeploy) =>
        `| ${what} | ${m(ourList, 'seconds').toFixed(2)} s | ${m(peerList, 'seconds').toFixed(2)} s | ${(m(ourList, 'seconds') / m(peerList, 'seconds')).toFixed(2)} | ${m(ourList, 'requests')} | ${m(peerList, 'requests')} |`;
      return [
        '## Deploy on Kubernetes',
        '',
        `A local control plane (etcd 3.6.5, kube-apiserver, kube-controller-manager and kube-scheduler 1.35.4 built from their Go modules, kwok 0.7 as the kubelet, pods ready 0.3–0.9 s after they are scheduled), a Deployment of 2 replicas with maxUnavailable 0 and a Service. Ours: \`deploy\` of a new image (server-side apply, then a watch until the rollout completes) and \`rollback\` to the previous revision (kubectl's undo algorithm, then the same watch). The peer: kubectl 1.35.4 \`apply --server-side --force-conflicts\` (as ours, it takes the fields back from the undo) then \`rollout status\`, and \`rollout undo\` then \`rollout status\`, on an identical Deployment; its requests are counted from its -v=6 log. Our deploy also reads the deployment before it, and the deployment, its Service and its ReplicaSets once after (for the status and the revision it reports). Medians of ${ROUNDS} rounds.`,
        '',
        '| operation | ours | kubectl | ratio (ours / kubectl) | API requests, ours | API requests, kubectl |',
        '| --- | --- | --- | --- | --- | --- |',
        row('apply a new image, until the rollout completes', results.oursDeploy, results.peerDeploy),
        row('roll back, until the rollout completes', results.oursUndo, results.peerUndo),
        '',
      ].join('\n');
    } finally {
      await plane.stop();
    }
  },
};
