// Deployments on a real single-node Docker Swarm (dockerd from Debian): zero downtime through the
// proxy (Debian's HAProxy) across updates and rollbacks, automatic rollback of a broken version, a
// history that lives on the cluster, a registry, the command line, and the errors users meet.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { DOCKER_SOCKET, ensureDockerEngine, ensureSwarm, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { startRegistry } from '../../scripts/lib/registry.mjs';
import { runCli } from '../../src/shared/cliFramework';
import { deployCommand, historyCommand, removeCommand, rollbackCommand, statusCommand } from '../../src/deploy/cli';
import type { DeploymentStatus } from '../../src/deploy/targets/deployTarget';
import { openSwarmTarget, type SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { describeError, MlopsError } from '../../src/shared/errors';
import { swarmWithModelImages } from '../support/modelImages';
import { registryAvailable } from '../support/registry';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
const names: string[] = [];
let unavailable = '';
let v1 = '';
let v2 = '';
let target: SwarmTarget;

/** A service name no earlier run used. */
function uniqueName(prefix: string): string {
  const name = `${prefix}-${Date.now().toString(36)}`;
  names.push(name);
  return name;
}

const SAMPLE = JSON.stringify({ dataframe_records: [{ tenure_months: 3, monthly_charges: 90, support_calls: 4 }] });

function predict(port: number, agent?: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/invocations',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(SAMPLE);
  });
}

/** Sends requests on 8 keep-alive connections until stopped; counts the ones that failed. */
function trafficLoop(port: number): { sent(): number; stop(): Promise<{ ok: number; failed: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let running = true;
  let ok = 0;
  let failed = 0;
  const loops = Array.from({ length: 8 }, async () => {
    while (running) {
      if ((await predict(port, agent)) === 200) ok++;
      else failed++;
    }
  });
  return {
    sent: () => ok + failed,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failed };
    },
  };
}

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

before(async () => {
  const images = await swarmWithModelImages();
  if (!images.ok) return void (unavailable = images.reason);
  ({ v1, v2 } = images);
  target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
});

after(async () => {
  if (unavailable) return;
  for (const name of names) await target.remove(name).catch(() => undefined);
});

describe('deploying to a single-node swarm', { timeout: 600_000 }, () => {
  test('updates and rollbacks under traffic through the proxy fail none of 5,000 requests, and the history records them', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('zero');
    const port = await freePort();
    const first = await target.deploy({
      name,
      image: v1,
      publishedPort: port,
      publishMode: 'host',
      changeCause: 'first model',
    });
    assert.equal(first.rolledBack, false);
    assert.deepEqual(first.status.replicas, { running: 1, desired: 1 });
    assert.equal(first.status.endpoints[0]?.url, `http://127.0.0.1:${port}`);
    assert.equal(await predict(port), 200);
    const proxy = await docker.getService(`${name}-router`).inspect();
    assert.equal(proxy.Spec.TaskTemplate.ContainerSpec.Image, PROXY_IMAGE, 'HAProxy holds the port');

    const traffic = trafficLoop(port);
    const second = await target.deploy({
      name,
      image: v2,
      publishedPort: port,
      publishMode: 'host',
      changeCause: 'more trees',
    });
    assert.equal(second.status.revision, 2);
    assert.equal(second.status.image, v2);
    let back = await target.rollback(name);
    // A loaded machine serves fewer requests during one update and rollback: more of both follow,
    // between the same two revisions, until 5,000 requests went through them.
    let cycles = 1;
    for (; traffic.sent() < 5000 && cycles < 8; cycles++) {
      await target.rollback(name, 2);
      back = await target.rollback(name, 1);
    }
    const { ok, failed } = await traffic.stop();
    t.diagnostic(`${ok} requests through ${cycles} updates and ${cycles} rollbacks, ${failed} failed`);
    assert.equal(failed, 0);
    assert.ok(ok >= 5000, `only ${ok} requests were sent`);
    assert.equal(back.status.revision, 1);
    assert.equal(back.status.image, v1);
    assert.equal(
      (await docker.getService(`${name}-router`).inspect()).Version.Index,
      proxy.Version.Index,
      'model updates and rollbacks never touch the proxy',
    );

    const history = await target.history(name);
    assert.deepEqual(
      history.map((r) => [r.revision, r.image, r.changeCause, r.current]),
      [
        [1, v1, 'first model', true],
        [2, v2, 'more trees', false],
      ],
    );
    assert.match(history[0]!.gitCommit ?? '', /^$|^[0-9a-f]{40}$/);
  });

  test('a version whose server cannot start is rolled back automatically; the previous one keeps serving and the reason is given', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('broken');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const traffic = trafficLoop(port);
    const broken = await target.deploy({
      name,
      image: v2,
      publishedPort: port,
      publishMode: 'host',
      env: { MLOPS_MODEL_DIR: '/nonexistent' },
      changeCause: 'a bad model path',
    });
    const { failed } = await traffic.stop();
    assert.equal(broken.rolledBack, true);
    assert.equal(broken.status.revision, 1);
    assert.match(
      broken.status.message ?? '',
      /revision 2 failed \(task: non-zero exit \(1\)\).*\/nonexistent\/model\.json is missing/,
    );
    assert.equal(failed, 0, 'the previous version served throughout');
    assert.equal(await predict(port), 200);
    assert.deepEqual(
      (await target.history(name)).map((r) => [r.revision, r.current]),
      [
        [1, true],
        [2, false],
      ],
    );
  });

  test('the history lives on the cluster: a new client sees it, rolls back to revision N, and pins a stable revision', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('history');
    for (const [image, cause] of [
      [v1, 'one'],
      [v2, 'two'],
      [v1, 'three'],
    ] as const)
      await target.deploy({ name, image, changeCause: cause });
    // A fresh client, as after the workspace is deleted: nothing is read from local files.
    const other = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
    assert.deepEqual(
      (await other.history(name)).map((r) => [r.revision, r.changeCause, r.current]),
      [
        [1, 'one', false],
        [2, 'two', false],
        [3, 'three', true],
      ],
    );
    const back = await other.rollback(name, 2);
    assert.equal(back.status.revision, 2);
    assert.equal(back.status.image, v2);
    await other.pinStable(name, 1);
    const history = await other.history(name);
    assert.deepEqual(
      history.map((r) => [r.revision, r.current, r.stable]),
      [
        [1, false, true],
        [2, true, false],
        [3, false, false],
      ],
    );
    await assert.rejects(other.rollback(name, 9), /has no revision 9 \(revisions: 1, 2, 3\)/);
  });

  test('scaling converges, tasks name their node and revision, and logs stream the server output', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('scale');
    await target.deploy({ name, image: v1 });
    const scaled = await target.scale(name, 2);
    assert.deepEqual(scaled.replicas, { running: 2, desired: 2 });
    const running = (await target.tasks(name)).filter((task) => task.state === 'running');
    assert.equal(running.length, 2);
    const [node] = (await docker.listNodes()).map((n) => n.Description?.Hostname);
    assert.ok(
      running.every((task) => task.node === node && task.revision === 1 && task.image === v1),
      JSON.stringify(running),
    );
    const lines: string[] = [];
    await target.logs(name, { tail: 50, onLine: (line) => lines.push(line) });
    assert.ok(
      lines.some((line) => /serving .* on 0\.0\.0\.0 port 8080/.test(line)),
      lines.join('\n'),
    );
  });

  test('mlops deploy, status, history, rollback and remove print JSON and exit with their codes', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('cli');
    const port = String(await freePort());
    const program = {
      name: 'mlops',
      version: '0',
      commands: [deployCommand, statusCommand, historyCommand, rollbackCommand, removeCommand],
    };
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const code = await runCli(program, [...args, '--json'], {
        stdout: (text) => out.push(text),
        stderr: (text) => out.push(text),
      });
      return { code, json: JSON.parse(out.join('')) as unknown };
    };
    assert.equal(
      (
        await cli(
          'deploy',
          '--target',
          'swarm',
          '--image',
          v1,
          '--name',
          name,
          '--port',
          port,
          '--host-port',
          '--proxy-image',
          PROXY_IMAGE,
        )
      ).code,
      0,
    );
    assert.equal(
      (
        await cli(
          'deploy',
          '--target',
          'swarm',
          '--image',
          v2,
          '--name',
          name,
          '--port',
          port,
          '--host-port',
          '--proxy-image',
          PROXY_IMAGE,
          '--change-cause',
          'v2',
        )
      ).code,
      0,
    );
    const status = (await cli('status', '--target', 'swarm', '--name', name)).json as DeploymentStatus;
    assert.deepEqual(
      {
        image: status.image,
        revision: status.revision,
        replicas: status.replicas,
        health: status.health,
        url: status.endpoints[0]?.url,
      },
      {
        image: v2,
        revision: 2,
        replicas: { running: 1, desired: 1 },
        health: 'healthy',
        url: `http://127.0.0.1:${port}`,
      },
    );
    const history = (await cli('history', '--target', 'swarm', '--name', name)).json as {
      revision: number;
      changeCause: string;
      current: boolean;
      stable: boolean;
      createdAt: string;
      image: string;
    }[];
    assert.deepEqual(
      history.map((r) => Object.keys(r).sort()),
      [0, 1].map(() => ['changeCause', 'createdAt', 'current', 'image', 'revision', 'stable']),
    );
    assert.deepEqual(
      history.map((r) => [r.revision, r.changeCause, r.current]),
      [
        [1, `first deploy of ${v1}`, false],
        [2, 'v2', true],
      ],
    );
    assert.equal((await cli('rollback', '--target', 'swarm', '--name', name)).code, 0);
    assert.equal(((await cli('status', '--target', 'swarm', '--name', name)).json as DeploymentStatus).revision, 1);
    assert.equal((await cli('remove', '--target', 'swarm', '--name', name)).code, 0);
    assert.equal((await cli('status', '--target', 'swarm', '--name', name)).code, 1);
  });
});

describe('deploying through a registry', { timeout: 300_000 }, () => {
  test('the image is pushed and the revision runs it by digest; an unreachable registry is named and changes nothing', async (t) => {
    if (!ready(t)) return;
    const available = await registryAvailable();
    if (!needService(t, available.ok, available.reason)) return;
    const registry = await startRegistry();
    try {
      const name = uniqueName('registry');
      const result = await target.deploy({ name, image: v1, registry: registry.host });
      assert.match(
        result.revision.digest ?? '',
        new RegExp(`^${registry.host.replace(/\./g, '\\.')}/mlops-test-deploy/churn@sha256:[0-9a-f]{64}$`),
      );
      assert.equal(result.status.image, result.revision.digest);
      assert.ok((await registry.catalog()).includes('mlops-test-deploy/churn'));
      const nowhere = `127.0.0.1:${await freePort()}`;
      await assert.rejects(target.deploy({ name, image: v2, registry: nowhere }), (error: Error) => {
        assert.match(describeError(error), new RegExp(`Registry ${nowhere} did not answer`));
        return true;
      });
      assert.equal((await target.status(name)).revision, 1, 'the failed push changed nothing');
    } finally {
      await registry.stop();
    }
  });

  test('a registry refusing the credentials is named with the user, never the password', async (t) => {
    if (!ready(t)) return;
    const available = await registryAvailable();
    if (!needService(t, available.ok, available.reason)) return;
    const registry = await startRegistry({ auth: { username: 'alice', password: 'right-password' } });
    try {
      const wrong = await openSwarmTarget({
        credentials: async () => ({ username: 'alice', password: 'wrong-password', serveraddress: registry.host }),
      });
      await assert.rejects(
        wrong.deploy({ name: uniqueName('refused'), image: v1, registry: registry.host }),
        (error: Error) => {
          assert.match(describeError(error), /refused the push for user alice/);
          assert.doesNotMatch(describeError(error), /wrong-password/);
          return true;
        },
      );
    } finally {
      await registry.stop();
    }
  });
});

describe('deploy errors', { timeout: 300_000 }, () => {
  test('an image that is not in the engine, and a name Swarm would refuse, are named', async (t) => {
    if (!ready(t)) return;
    await assert.rejects(
      target.deploy({ name: uniqueName('missing'), image: 'mlops-test-deploy/nothing:here' }),
      /No image mlops-test-deploy\/nothing:here in the Docker Engine/,
    );
    await assert.rejects(target.deploy({ name: 'Not_Valid', image: v1 }), /'Not_Valid' is not a valid deployment name/);
  });

  test('a daemon stopped mid-deploy is reported, and the service and its history survive the restart', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('daemon');
    await target.deploy({ name, image: v1 });
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8'));
    const deploying = target.deploy(
      { name, image: v2, changeCause: 'interrupted' },
      {
        onProgress: ({ message }) => {
          if (message.startsWith('Updating')) setTimeout(() => process.kill(pid, 'SIGTERM'), 300);
        },
      },
    );
    await assert.rejects(
      deploying,
      (error: Error) => error instanceof MlopsError || /connect|socket|ECONNREFUSED|ENOENT/.test(error.message),
    );
    // A stopping engine first stops its containers (each within its grace period), then a new one
    // reloads the swarm: minutes on a slow machine.
    let engine = await ensureDockerEngine();
    for (let attempt = 0; attempt < 3 && !engine.ok; attempt++) engine = await ensureDockerEngine();
    assert.ok(engine.ok, engine.ok ? '' : engine.reason);
    const restarted = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
    // Swarm comes back with the engine: the service converges again, on one of the two revisions.
    for (let i = 0; i < 120 && !(await restarted.status(name).catch(() => undefined))?.replicas.running; i++)
      await new Promise((resolve) => setTimeout(resolve, 1000));
    const status = await restarted.status(name);
    assert.ok([1, 2].includes(status.revision), JSON.stringify(status));
    assert.deepEqual(
      (await restarted.history(name)).map((r) => r.revision),
      [1, 2],
    );
    target = restarted;
  });

  test('an engine that is not in a swarm is named with the remedy, and initialising the swarm lets the deploy go on', async (t) => {
    if (!ready(t)) return;
    // Leaving the swarm removes its services, so this test comes last and removes its own first,
    // and it never runs on a swarm that holds services it did not make.
    for (const name of names.splice(0)) await target.remove(name).catch(() => undefined);
    const others = (await docker.listServices()).map((service) => service.Spec?.Name ?? service.ID);
    if (
      !needService(
        t,
        others.length === 0,
        `the swarm runs other services (${others.join(', ')}), which leaving it would remove`,
      )
    )
      return;
    await docker.swarmLeave({ force: true });
    try {
      const name = uniqueName('noswarm');
      await assert.rejects(target.deploy({ name, image: v1 }), (error: Error) => {
        assert.match(describeError(error), /is not part of a swarm \(swarm: inactive\).*MLOps: Initialise Swarm/s);
        return true;
      });
      await target.initSwarm();
      assert.equal((await target.deploy({ name, image: v1 })).status.revision, 1);
    } finally {
      await ensureSwarm();
    }
  });
});
