// Traffic splits on a real single-node Docker Swarm, through HAProxy and the Python router beside it:
// an A/B test whose shares over 2,000 users match the weights and whose assignment is sticky,
// a weight change, a shadow variant whose answers are logged and never returned, the end of a
// split, a variant that cannot start failing the split before the router is touched, a proxy
// that cannot start leaving the previous one serving, and a deployment from before the proxy
// (its Python router on the port) getting it at its next split.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Dockerode from 'dockerode';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { DOCKER_SOCKET, PROXY_IMAGE } from '../../scripts/lib/docker.mjs';
import { buildImage } from '../../src/containerize/image/buildImage';
import { openSwarmTarget, type SwarmTarget } from '../../src/deploy/targets/swarm/swarmTarget';
import { swarmWithModelImages } from '../support/modelImages';
import { needService } from '../support/services';

const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
const names: string[] = [];
const images: string[] = [];
let unavailable = '';
let v1 = '';
let v2 = '';
let target: SwarmTarget;

const SAMPLE = JSON.stringify({ dataframe_records: [{ tenure_months: 3, monthly_charges: 90, support_calls: 4 }] });

function uniqueName(prefix: string): string {
  const name = `split-${prefix}-${Date.now().toString(36)}`;
  names.push(name);
  return name;
}

interface Answer {
  status: number;
  variant: string;
  requestId: string;
}

function predict(port: number, headers: Record<string, string>, agent?: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/invocations',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            variant: String(res.headers['x-mlops-variant'] ?? ''),
            requestId: String(res.headers['x-request-id'] ?? ''),
          }),
        );
      },
    );
    req.on('error', () => resolve({ status: 0, variant: '', requestId: '' }));
    req.end(SAMPLE);
  });
}

let retried = 0;

/**
 * Sends one request per header set, 4 at a time on keep-alive connections, answers in the sets'
 * order. A request the router could not deliver (no answer, 502, 503, 504: a task restarting on
 * a loaded machine) is sent again, up to 3 times, and counted in `retried`: these tests are about
 * which variant answers, not about health checks under load.
 */
async function predictAll(port: number, headerSets: Record<string, string>[]): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const answers: Answer[] = new Array(headerSets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < headerSets.length) {
        const index = next++;
        let answer = await predict(port, headerSets[index]!, agent);
        for (let attempt = 0; attempt < 3 && [0, 502, 503, 504].includes(answer.status); attempt++) {
          retried++;
          await new Promise((resolve) => setTimeout(resolve, 1000));
          answer = await predict(port, headerSets[index]!, agent);
        }
        answers[index] = answer;
      }
    }),
  );
  agent.destroy();
  return answers;
}

/** A GET through the router, sent again (up to 5 times) when the connection fails, as predictAll does. */
async function getText(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, headers }, (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (chunk: string) => (text += chunk))
            .on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        })
          .on('error', reject)
          .end();
      });
    } catch (error) {
      if (attempt >= 5) throw error;
      retried++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function variantServices(name: string): Promise<string[]> {
  const services = await docker.listServices({
    filters: { label: [`mlops.deployment=${name}`, 'mlops.role=variant'] },
  });
  return services.map((service) => service.Spec?.Name ?? '').sort();
}

function ready(t: TestContext): boolean {
  return needService(t, !unavailable, unavailable);
}

before(async () => {
  const built = await swarmWithModelImages();
  if (!built.ok) return void (unavailable = built.reason);
  ({ v1, v2 } = built);
  target = await openSwarmTarget({ proxyImage: PROXY_IMAGE });
});

after(async () => {
  if (unavailable) return;
  for (const name of names) await target.remove(name).catch(() => undefined);
  for (const image of images)
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
});

describe('traffic splits on a single-node swarm', { timeout: 900_000 }, () => {
  test('production 70 / candidate 30: the shares of 2,000 users match the weights, every key stays on its variant, weights change, the split ends', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('ab');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const progress: string[] = [];
    const status = await target.split(
      name,
      {
        variants: [
          { name: 'production', weight: 70 },
          { name: 'candidate', image: v2, weight: 30 },
        ],
        stickyKey: 'header:X-User-Id',
      },
      { onProgress: ({ message }) => progress.push(message) },
    );
    assert.equal(status.via, 'router');
    assert.equal(status.stickyKey, 'header:X-User-Id');
    assert.deepEqual(
      status.variants.map((v) => [v.name, v.image, v.weight, v.shadow, v.workload, v.replicas.running]),
      [
        ['production', v1, 70, false, name, 1],
        ['candidate', v2, 30, false, `${name}--candidate`, 1],
      ],
    );
    assert.ok(
      progress.some((message) => message.includes('Starting variant candidate')),
      progress.join('\n'),
    );
    assert.deepEqual(await variantServices(name), [`${name}--candidate`]);
    assert.ok(
      !(await target.list()).some((deployment) => deployment.name.includes('--')),
      'variants are not deployments',
    );

    const users = await predictAll(
      port,
      Array.from({ length: 2000 }, (_, i) => ({ 'X-User-Id': `user-${i}` })),
    );
    assert.ok(
      users.every((answer) => answer.status === 200),
      `failed: ${users.filter((a) => a.status !== 200).length}`,
    );
    const candidateShare = (100 * users.filter((answer) => answer.variant === 'candidate').length) / users.length;
    const productionShare = (100 * users.filter((answer) => answer.variant === 'production').length) / users.length;
    t.diagnostic(
      `2,000 users: production ${productionShare.toFixed(1)} %, candidate ${candidateShare.toFixed(1)} % (${retried} requests sent again)`,
    );
    assert.ok(Math.abs(candidateShare - 30) <= 3, `candidate share ${candidateShare} %`);
    assert.ok(Math.abs(productionShare - 70) <= 3, `production share ${productionShare} %`);

    const keys = Array.from({ length: 200 }, (_, i) => `sticky-${i}`);
    const thrice = await predictAll(
      port,
      [...keys, ...keys, ...keys].map((key) => ({ 'X-User-Id': key })),
    );
    const seen = new Map<string, Set<string>>();
    thrice.forEach((answer, index) =>
      seen.set(keys[index % 200]!, (seen.get(keys[index % 200]!) ?? new Set()).add(answer.variant)),
    );
    const moved = [...seen].filter(([, variants]) => variants.size !== 1 || variants.has(''));
    assert.deepEqual(
      moved.map(([key, variants]) => `${key}: ${[...variants].join(', ')}`),
      [],
      'every key stays on one variant',
    );

    // New weights: only the router changes; the split keeps its start time.
    const changed = await target.split(name, {
      variants: [
        { name: 'production', weight: 50 },
        { name: 'candidate', weight: 50 },
      ],
      stickyKey: 'header:X-User-Id',
    });
    assert.deepEqual(
      changed.variants.map((v) => [v.name, v.image, v.weight]),
      [
        ['production', v1, 50],
        ['candidate', v2, 50],
      ],
    );
    assert.equal(changed.startedAt, status.startedAt);
    assert.deepEqual(await target.splitStatus(name), changed, 'a fresh read from the cluster gives the same split');
    const even = await predictAll(
      port,
      Array.from({ length: 400 }, (_, i) => ({ 'X-User-Id': `even-${i}` })),
    );
    const evenShare = (100 * even.filter((answer) => answer.variant === 'candidate').length) / even.length;
    assert.ok(evenShare > 40 && evenShare < 60, `candidate share at 50/50: ${evenShare} %`);

    await target.endSplit(name);
    assert.equal(await target.splitStatus(name), null);
    assert.deepEqual(await variantServices(name), []);
    const afterwards = await predictAll(
      port,
      Array.from({ length: 100 }, (_, i) => ({ 'X-User-Id': `user-${i}` })),
    );
    assert.ok(
      afterwards.every((answer) => answer.status === 200 && answer.variant !== 'candidate'),
      JSON.stringify(afterwards.slice(0, 3)),
    );
    await assert.rejects(target.endSplit(name), /has no traffic split to end/);
  });

  test('a shadow variant gets the mirrored requests, logged with their request ids, and its answers are never returned', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('shadow');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const status = await target.split(name, {
      variants: [
        { name: 'production', weight: 100 },
        { name: 'shadow', image: v2, weight: 100, shadow: true },
      ],
    });
    assert.deepEqual(
      status.variants.map((v) => [v.name, v.weight, v.shadow]),
      [
        ['production', 100, false],
        ['shadow', 100, true],
      ],
    );
    const productionVersion = (JSON.parse((await getText(port, '/version')).text) as { version: string }).version;

    const ids = Array.from({ length: 60 }, (_, i) => `shadow-test-${i}`);
    const answers = await predictAll(
      port,
      ids.map((id) => ({ 'X-Request-Id': id })),
    );
    assert.ok(
      answers.every((answer) => answer.status === 200 && answer.variant === 'production'),
      JSON.stringify(answers.filter((a) => a.variant !== 'production').slice(0, 3)),
    );
    assert.deepEqual(
      answers.map((answer) => answer.requestId),
      ids,
    );

    // Mirrors are sent after the answer: wait for the shadow's log to hold them all. The log is
    // read with the deployment's data token, which the variant's tasks share.
    const auth = { 'X-Mlops-Token': await target.dataToken(name) };
    let lines: { request_id?: string; version?: string; shadow?: boolean }[] = [];
    for (let attempt = 0; attempt < 40; attempt++) {
      const log = await getText(port, '/router/backends/requests?limit=1000', auth);
      assert.equal(log.status, 200, log.text);
      lines = log.text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as (typeof lines)[number]);
      if (ids.every((id) => lines.some((line) => line.shadow && line.request_id === id))) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const shadowLines = lines.filter((line) => ids.includes(line.request_id ?? '') && line.shadow === true);
    const productionLines = lines.filter((line) => ids.includes(line.request_id ?? '') && !line.shadow);
    assert.deepEqual(
      [...new Set(shadowLines.map((line) => line.request_id))].sort(),
      [...ids].sort(),
      'the shadow logged every mirrored request under its id',
    );
    assert.deepEqual([...new Set(productionLines.map((line) => line.request_id))].sort(), [...ids].sort());
    assert.ok(productionLines.every((line) => line.version === productionVersion));
    assert.ok(
      shadowLines.every((line) => line.version !== productionVersion),
      'the shadow lines come from the other version',
    );
    // Removing a deployment during a split removes its variants too.
    await target.remove(name);
    assert.deepEqual(await variantServices(name), []);
  });

  test('a variant that cannot start fails the split before the router is touched, and nothing of the split is left', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('broken');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const context = mkdtempSync(join(tmpdir(), 'mlops-split-broken-'));
    writeFileSync(join(context, 'Dockerfile'), `FROM ${v2}\nENV MLOPS_MODEL_DIR=/nonexistent\n`);
    const broken = `mlops-test-split/broken:${Date.now().toString(36)}`;
    images.push(broken);
    await buildImage(docker, context, broken);

    const routerBefore = await docker.getService(`${name}-router`).inspect();
    await assert.rejects(
      target.split(
        name,
        {
          variants: [
            { name: 'production', weight: 50 },
            { name: 'bad', image: broken, weight: 50 },
          ],
        },
        { timeoutMs: 120_000 },
      ),
      /The split of .* did not start, and production serves all its traffic as before: .*keeps failing to start/s,
    );
    const routerAfter = await docker.getService(`${name}-router`).inspect();
    assert.equal(
      routerAfter.Version.Index,
      routerBefore.Version.Index,
      'the router was never changed, so production served throughout',
    );
    assert.deepEqual(await variantServices(name), []);
    assert.equal(await target.splitStatus(name), null);
    const answers = await predictAll(port, [{}, {}, {}]);
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200],
    );

    const direct = uniqueName('direct');
    await target.deploy({ name: direct, image: v1 });
    await assert.rejects(
      target.split(direct, {
        variants: [
          { name: 'production', weight: 1 },
          { name: 'b', image: v2, weight: 1 },
        ],
      }),
      /has no router, so its traffic cannot be split/,
    );
    await assert.rejects(
      target.split(name, {
        variants: [
          { name: 'production', weight: 1 },
          { name: 'b', weight: 1 },
        ],
      }),
      /The variant 'b' of .* has no image/,
    );
  });
  test('a proxy that does not start with a split is rolled back: the previous config serves and nothing of the split is left', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('noproxy');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const proxyBefore = await docker.getService(`${name}-router`).inspect();
    // A model image has no haproxy: its task cannot start.
    const wrong = await openSwarmTarget({ proxyImage: v1 });
    await assert.rejects(
      wrong.split(
        name,
        {
          variants: [
            { name: 'production', weight: 50 },
            { name: 'candidate', image: v2, weight: 50 },
          ],
        },
        { timeoutMs: 180_000 },
      ),
      /The router of .* did not start with the split, so its previous routing was restored/,
    );
    const proxyAfter = await docker.getService(`${name}-router`).inspect();
    assert.equal(proxyAfter.Spec.TaskTemplate.ContainerSpec.Image, PROXY_IMAGE);
    assert.deepEqual(
      proxyAfter.Spec.TaskTemplate.ContainerSpec.Configs.map((config: { ConfigName: string }) => config.ConfigName),
      proxyBefore.Spec.TaskTemplate.ContainerSpec.Configs.map((config: { ConfigName: string }) => config.ConfigName),
      'the previous config',
    );
    assert.deepEqual(await variantServices(name), []);
    assert.equal(await target.splitStatus(name), null);
    const answers = await predictAll(port, [{}, {}, {}, {}]);
    assert.deepEqual(
      answers.map((answer) => [answer.status, answer.variant]),
      Array.from({ length: 4 }, () => [200, 'production']),
    );
  });

  test('a deployment from before the proxy (its Python router on the port, splitting) gets HAProxy and a router-api at its next split, its split kept', async (t) => {
    if (!ready(t)) return;
    const name = uniqueName('legacy');
    const port = await freePort();
    await target.deploy({ name, image: v1, publishedPort: port, publishMode: 'host' });
    const first = await target.split(name, {
      variants: [
        { name: 'production', weight: 70 },
        { name: 'candidate', image: v2, weight: 30 },
      ],
      stickyKey: 'header:X-User-Id',
    });
    // What such a deployment runs: the Python router (command, groups, sticky key, data token and
    // health check as the router-api has them) as NAME-router on the published port, the split in
    // its label, and no router-api.
    const proxy = await docker.getService(`${name}-router`).inspect();
    const api = await docker.getService(`${name}-router-api`).inspect();
    const pythonRouter = api.Spec.TaskTemplate.ContainerSpec.Image as string; // the newest variant's image
    await docker.getService(api.ID).remove();
    await docker.getService(proxy.ID).update({
      ...proxy.Spec,
      TaskTemplate: api.Spec.TaskTemplate,
      version: proxy.Version.Index,
    });
    for (let attempt = 0; ; attempt++) {
      const tasks = (await docker.listTasks({
        filters: JSON.stringify({ service: [`${name}-router`], 'desired-state': ['running'] }),
      })) as { Status?: { State?: string }; Spec?: { ContainerSpec?: { Image?: string } } }[];
      if (tasks.some((task) => task.Status?.State === 'running' && task.Spec?.ContainerSpec?.Image === pythonRouter))
        break;
      assert.ok(attempt < 240, 'the Python router runs on the port');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const before = await predictAll(
      port,
      Array.from({ length: 20 }, (_, i) => ({ 'X-User-Id': `legacy-${i}` })),
    );
    assert.ok(
      before.every((answer) => answer.status === 200 && answer.variant),
      'the Python router serves the split',
    );

    const progress: string[] = [];
    const changed = await target.split(
      name,
      {
        variants: [
          { name: 'production', weight: 50 },
          { name: 'candidate', weight: 50 },
        ],
        stickyKey: 'header:X-User-Id',
      },
      { onProgress: ({ message }) => progress.push(message) },
    );
    assert.ok(
      progress.some((message) => message.includes('Replacing the Python router')),
      progress.join('\n'),
    );
    assert.equal(changed.startedAt, first.startedAt, 'the split kept its start');
    const replaced = await docker.getService(`${name}-router`).inspect();
    assert.equal(replaced.Spec.TaskTemplate.ContainerSpec.Image, PROXY_IMAGE);
    assert.equal(replaced.Spec.EndpointSpec.Ports[0].PublishedPort, port);
    assert.equal(
      (await docker.getService(`${name}-router-api`).inspect()).Spec.TaskTemplate.ContainerSpec.Command.join(' '),
      'python3 -m mlops_runtime.router',
    );
    const users = await predictAll(
      port,
      Array.from({ length: 400 }, (_, i) => ({ 'X-User-Id': `migrated-${i}` })),
    );
    const share = (100 * users.filter((answer) => answer.variant === 'candidate').length) / users.length;
    assert.ok(
      users.every((answer) => answer.status === 200),
      `failed: ${users.filter((a) => a.status !== 200).length}`,
    );
    assert.ok(share > 40 && share < 60, `candidate share at 50/50 through HAProxy: ${share} %`);
    const auth = { 'X-Mlops-Token': await target.dataToken(name) };
    assert.equal(
      (await getText(port, '/router/backends/requests?limit=10', auth)).status,
      200,
      'the router-api answers',
    );
  });
});
