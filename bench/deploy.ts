// Deploys on a single-node swarm: from an update to converged, and from a rollback to converged,
// for our DeployTarget and for `docker service update` / `docker service rollback` doing the same
// to an identical service, in the same run.
import { dockerCli, ensureDockerEngine, ensureSwarm } from '../scripts/lib/docker.mjs';
import { say } from '../scripts/lib/setup.mjs';
import { openSwarmTarget } from '../src/deploy/targets/swarm/swarmTarget';
import { modelImages } from '../test/support/modelImages';
import { median, type BenchSuite } from './suite';

const ROUNDS = 3;

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function docker(args: string[]): Promise<void> {
  const result = await dockerCli(args);
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
}

export const deploySuite: BenchSuite = {
  name: 'deploy',
  async run() {
    const engine = await ensureDockerEngine();
    if (!engine.ok) throw new Error(engine.reason);
    const swarm = await ensureSwarm();
    if (!swarm.ok) throw new Error(swarm.reason);
    const images = await modelImages();
    if (!images.ok) throw new Error(images.reason);
    const target = await openSwarmTarget();
    const ours = `bench-ours-${Date.now().toString(36)}`;
    const theirs = `bench-cli-${Date.now().toString(36)}`;
    const times = {
      oursUpdate: [] as number[],
      oursRollback: [] as number[],
      cliUpdate: [] as number[],
      cliRollback: [] as number[],
    };
    try {
      // Both services get the same spec (health check, start-first, automatic rollback) from the first deploy.
      await target.deploy({ name: ours, image: images.v1 });
      await target.deploy({ name: theirs, image: images.v1 });
      for (let round = 1; round <= ROUNDS; round++) {
        say(`deploy: round ${round} of ${ROUNDS}`);
        times.oursUpdate.push(await seconds(() => target.deploy({ name: ours, image: images.v2 })));
        times.oursRollback.push(await seconds(() => target.rollback(ours)));
        // The CLI waits for convergence (--detach=false) as our deploy does.
        times.cliUpdate.push(
          await seconds(() =>
            docker([
              'service',
              'update',
              '--detach=false',
              '--quiet',
              '--image',
              images.v2,
              '--container-label-add',
              `round=${round}`,
              theirs,
            ]),
          ),
        );
        times.cliRollback.push(
          await seconds(() => docker(['service', 'rollback', '--detach=false', '--quiet', theirs])),
        );
      }
    } finally {
      await target.remove(ours).catch(() => undefined);
      await target.remove(theirs).catch(() => undefined);
    }
    const row = (what: string, ourTimes: number[], cliTimes: number[]) =>
      `| ${what} | ${median(ourTimes).toFixed(1)} s | ${median(cliTimes).toFixed(1)} s | ${(median(ourTimes) / median(cliTimes)).toFixed(2)} |`;
    return [
      '## Deploy on Docker Swarm',
      '',
      `A model image from Containerise (the churn random forest) on a single-node swarm, one replica with its health check, start-first updates with automatic rollback. Ours: \`deploy\` of a new image and \`rollback\` to the previous revision, each waiting until every task runs healthy (and recording the revision on the cluster). The peer: \`docker service update --image\` and \`docker service rollback\` with \`--detach=false\`, which also wait for convergence, on an identical service. Medians of ${ROUNDS} rounds.`,
      '',
      '| operation | ours | docker CLI | ratio (ours / CLI) |',
      '| --- | --- | --- | --- |',
      row('update to a new image, until converged', times.oursUpdate, times.cliUpdate),
      row('roll back, until converged', times.oursRollback, times.cliRollback),
      '',
    ].join('\n');
  },
};
