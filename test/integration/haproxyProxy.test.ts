// The request path for real: Debian's haproxy with the generated configuration on loopback, in front of
// model servers (`python -m mlops_runtime`) whose tasks dnsmasq names as Swarm's DNS does, with the Python
// router beside it. Checks the split and sticky assignment against assignment.py, the request ids and
// variants in the request log, the shadow's share and that its answers never reach or delay a client,
// retries when a task drains or dies, tasks followed through DNS, and what goes to the Python router.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../scripts/lib/codeServer.mjs';
import { PROXY_SHADOW_METRICS_PATH, PROXY_METRICS_PATH, type ProxyInput } from '../../src/serving/haproxyConfig';
import {
  checkProxyConfig,
  proxyPrograms,
  startDns,
  startModelServer,
  startProxy,
  startRuntime,
  start,
  waitFor,
  writeFunctionModel,
  writeProxyConfig,
  type Running,
} from '../support/proxyStack';
import { needService } from '../support/services';

const BODY = JSON.stringify({ instances: [{ x: 1 }] });
const SHADOW_PERCENT = 25;
const TOKEN = 'proxy-test-data-token-0123456789';
const AUTHORIZED = { 'X-Mlops-Token': TOKEN };

/** Whether a request id is one data_access.py says a server with TOKEN issued. */
function issued(requestId: string): boolean {
  const [random, signature] = requestId.split('.');
  const key = createHmac('sha256', TOKEN).update('mlops request id').digest();
  return signature === createHmac('sha256', key).update(random).digest('hex').slice(0, 16);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

function call(port: number, agent: Agent, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const started = performance.now();
    const sent = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        agent,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        // A response cut short (its task killed while answering) fails the call rather than hang it.
        response.on('aborted', () => reject(new Error(`${path}: the answer was cut short`)));
        response.on('error', reject);
        response.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) flat[name] = String(value);
          resolve({ status: response.statusCode ?? 0, headers: flat, body: text, ms: performance.now() - started });
        });
      },
    );
    sent.setTimeout(30_000, () => sent.destroy(new Error(`${path} did not answer within 30 s`)));
    sent.on('error', reject);
    sent.end(body);
  });
}

/** count calls of make(i), inFlight at a time; onDone(n) after each. */
async function many<T>(count: number, inFlight: number, make: (i: number) => Promise<T>, onDone?: (n: number) => void) {
  const results: T[] = new Array<T>(count);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < count; i = next++) {
        results[i] = await make(i);
        onDone?.(++done);
      }
    }),
  );
  return results;
}

/** assignment.py's fraction of a key. */
function fraction(key: string): number {
  return Number(createHash('sha256').update(key, 'utf8').digest().readBigUInt64BE(0)) / 2 ** 64;
}

const liveGroup = (key: string) => (fraction(key) * 100 < 90 ? 'production' : 'candidate');
const mirrored = (requestId: string) => fraction(`${requestId}:shadow`) * 100 < SHADOW_PERCENT;

interface LogLine {
  request_id: string;
  variant?: string;
  shadow?: boolean;
  status: number;
}

function logLines(dir: string): LogLine[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'requests.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

/** A sample of HAProxy's Prometheus exporter, e.g. haproxy_backend_retry_warnings_total{proxy="x"}. */
async function exporterValue(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}${PROXY_METRICS_PATH}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return Number(line?.slice(sample.length + 1) ?? NaN);
}

function counter(metrics: string, name: string): number {
  return Number(new RegExp(`^${name}\\{group="shadow"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
}

test(
  'HAProxy with the generated configuration routes real model servers as the router did',
  { timeout: 300_000 },
  async (t) => {
    const programs = proxyPrograms();
    if (!needService(t, programs.ok, programs.ok ? '' : programs.reason) || !programs.ok) return;
    const dir = mkdtempSync(join(tmpdir(), 'mlops-haproxy-'));
    const running: Running[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(async () => {
      agent.destroy();
      await Promise.all(running.map((process) => process.stop('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    });
    const { python } = programs;
    for (const name of ['production', 'candidate'])
      writeFunctionModel(python, join(dir, name), `return ["${name}" for r in records]`);
    // A slow shadow: if its answers held up the client's, every live request would take 300 ms.
    writeFunctionModel(python, join(dir, 'shadow'), 'import time\ntime.sleep(0.3)\nreturn ["shadow" for r in records]');

    // Tasks on loopback addresses of their own, all on one port, as Swarm's tasks on the overlay network.
    const taskPort = await freePort();
    const tasks = new Map<string, Running>();
    const startTask = async (address: string, model: string) => {
      const task = await startModelServer(python, join(dir, model), address, taskPort, join(dir, `log-${address}`), {
        MLOPS_DATA_TOKEN: TOKEN,
        MLOPS_MODEL_NAME: 'churn',
      });
      running.push(task);
      tasks.set(address, task);
    };
    await Promise.all([
      startTask('127.0.0.2', 'production'),
      startTask('127.0.0.3', 'production'),
      startTask('127.0.0.4', 'candidate'),
      startTask('127.0.0.5', 'shadow'),
    ]);
    const hosts = join(dir, 'hosts');
    const names = (production: string[]) =>
      [
        ...production.map((a) => `${a} tasks.production`),
        '127.0.0.4 tasks.candidate',
        '127.0.0.5 tasks.shadow',
        '',
      ].join('\n');
    writeFileSync(hosts, names(['127.0.0.2', '127.0.0.3']));
    const dnsPort = await freePort();
    const dns = startDns(programs.dnsmasq, hosts, dnsPort);
    running.push(dns);
    await waitFor(
      () => dns.log().includes('read ') || dns.process.exitCode !== null,
      () => `dnsmasq did not start:\n${dns.log()}`,
    );

    const router = await startRuntime(python, 'mlops_runtime.router', {
      MLOPS_ROUTER_BACKENDS: JSON.stringify([
        { name: 'production', addresses: [`127.0.0.2:${taskPort}`, `127.0.0.3:${taskPort}`], weight: 90 },
        { name: 'candidate', addresses: [`127.0.0.4:${taskPort}`], weight: 10 },
        { name: 'shadow', addresses: [`127.0.0.5:${taskPort}`], weight: SHADOW_PERCENT, shadow: true },
      ]),
      MLOPS_ROUTER_STICKY_KEY: 'header:X-User-Id',
      MLOPS_DATA_TOKEN: TOKEN,
    });
    running.push(router);
    const port = await freePort();
    const input: ProxyInput = {
      groups: [
        { name: 'production', weight: 90, shadow: false, server: { dns: 'tasks.production', port: taskPort } },
        { name: 'candidate', weight: 10, shadow: false, server: { dns: 'tasks.candidate', port: taskPort } },
        { name: 'shadow', weight: SHADOW_PERCENT, shadow: true, server: { dns: 'tasks.shadow', port: taskPort } },
      ],
      stickyKey: 'header:X-User-Id',
      api: { address: `127.0.0.1:${router.port}` },
      port,
      bindAddress: '127.0.0.1',
      dnsResolver: `127.0.0.1:${dnsPort}`,
      maxTasks: 4,
      // The shadow takes 300 ms and queues behind its own batches: at the few hundred live requests a
      // second of a quiet machine, well over 200 copies can be in flight at once.
      maxShadowInFlight: 1000,
      dataToken: { file: join(dir, 'token') },
    };
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);

    await t.test('the generated configurations pass haproxy -c', () => {
      const variants: [string, ProxyInput][] = [
        ['sticky header, shadow, DNS', input],
        [
          'request id, fixed addresses, metrics port',
          {
            ...input,
            groups: input.groups.map((group, i) => ({ ...group, server: { address: `127.0.0.${i + 2}:${taskPort}` } })),
            stickyKey: null,
            metricsPort: port + 1,
          },
        ],
        ['field sticky key', { ...input, stickyKey: 'field:user_id' }],
        ['resolv.conf, no data token', { ...input, dnsResolver: undefined, dataToken: undefined }],
      ];
      for (const entry of variants) {
        const [name, variant] = entry;
        const checked = checkProxyConfig(
          programs.haproxy,
          writeProxyConfig(join(dir, `check-${variants.indexOf(entry)}`), variant),
        );
        assert.ok(checked.ok, `${name}:\n${checked.output}`);
        assert.doesNotMatch(checked.output, /\[WARNING\]|\[ALERT\]/, `${name}:\n${checked.output}`);
      }
      const missing = { ...input, dataToken: { file: join(dir, 'no-token') } };
      const refused = checkProxyConfig(programs.haproxy, writeProxyConfig(join(dir, 'check-no-token'), missing));
      assert.ok(!refused.ok);
      assert.match(refused.output, /the data token file \S+no-token cannot be read/);
    });

    const proxy = await startProxy(programs.haproxy, writeProxyConfig(join(dir, 'proxy'), input), port);
    running.push(proxy);
    // Every task is up in HAProxy before counting: the first answers from each address.
    await waitFor(
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 40; i++)
          seen.add((await call(port, agent, '/invocations', {}, BODY)).headers['x-mlops-backend'] ?? '');
        return ['production/127.0.0.2', 'production/127.0.0.3', 'candidate/127.0.0.4'].every((b) => seen.has(b));
      },
      () => `HAProxy did not reach every task:\n${proxy.log()}`,
      30_000,
    );
    const shadowBefore = logLines(join(dir, 'log-127.0.0.5')).length;
    const mirroredBefore = counter(
      await (await fetch(`http://127.0.0.1:${port}${PROXY_SHADOW_METRICS_PATH}`)).text(),
      'mlops_proxy_shadow_total',
    );

    let split: Answer[] = [];
    await t.test('2,000 requests split 90/10 by request id, each to the group assignment.py picks', async () => {
      split = await many(2000, 8, () => call(port, agent, '/invocations', {}, BODY));
      const counts = new Map<string, number>();
      for (const answer of split) {
        assert.equal(answer.status, 200, answer.body);
        const variant = answer.headers['x-mlops-variant'];
        assert.deepEqual(JSON.parse(answer.body), { predictions: [variant] }, 'the answer is the variant’s own');
        assert.equal(variant, liveGroup(answer.headers['x-request-id']), answer.headers['x-request-id']);
        counts.set(variant, (counts.get(variant) ?? 0) + 1);
      }
      const candidate = ((counts.get('candidate') ?? 0) / 2000) * 100;
      t.diagnostic(`the candidate answered ${candidate.toFixed(1)}% of 2,000 requests`);
      assert.ok(Math.abs(candidate - 10) <= 3, `the candidate answered ${candidate}%`);
      assert.ok(!counts.has('shadow'), 'a shadow never answers a client');
    });

    await t.test('a sticky header keeps each user on the group assignment.py picks for it', async () => {
      const answers = await many(900, 8, (i) =>
        call(port, agent, '/invocations', { 'X-User-Id': `user-${i % 300}` }, BODY),
      );
      const groups = new Map<string, Set<string>>();
      answers.forEach((answer, i) => {
        assert.equal(answer.status, 200, answer.body);
        const user = `user-${i % 300}`;
        groups.set(user, (groups.get(user) ?? new Set()).add(answer.headers['x-mlops-variant']));
      });
      for (const [user, seen] of groups) assert.deepEqual([...seen], [liveGroup(user)], user);
    });

    await t.test('Open Inference Protocol infer requests are split and mirrored as /invocations', async () => {
      const infer = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'INT64', data: [1] }] });
      const answers = await many(200, 8, () => call(port, agent, '/v2/models/churn/infer', {}, infer));
      for (const answer of answers) {
        assert.equal(answer.status, 200, answer.body);
        const variant = answer.headers['x-mlops-variant'];
        assert.equal(variant, liveGroup(answer.headers['x-request-id']));
        assert.ok(answer.body.includes(`"${variant}"`), answer.body);
      }
      const chosen = answers.map((answer) => answer.headers['x-request-id']).filter(mirrored);
      await waitFor(
        () => {
          const logged = new Set(logLines(join(dir, 'log-127.0.0.5')).map((line) => line.request_id));
          return chosen.every((id) => logged.has(id));
        },
        () => `the shadow did not log every infer request chosen for it`,
        20_000,
      );
    });

    await t.test('the request id and the variant reach the request log; a client’s valid id is kept', async () => {
      const kept = await call(port, agent, '/invocations', { 'X-Request-Id': 'client-chosen-id.1' }, BODY);
      assert.equal(kept.headers['x-request-id'], 'client-chosen-id.1');
      const replaced = await call(port, agent, '/invocations', { 'X-Request-Id': 'not valid' }, BODY);
      // Made by HAProxy: a uuid signed with the data token as data_access.py signs, so any task takes it.
      assert.match(
        replaced.headers['x-request-id'],
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[0-9a-f]{16}$/,
      );
      assert.ok([replaced, ...split].every((answer) => issued(answer.headers['x-request-id'])));
      const logged = new Map<string, LogLine>();
      for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
        for (const line of logLines(join(dir, `log-${address}`))) logged.set(line.request_id, line);
      for (const answer of [...split, kept, replaced]) {
        const line = logged.get(answer.headers['x-request-id']);
        assert.equal(line?.variant, answer.headers['x-mlops-variant'], answer.headers['x-request-id']);
        assert.equal(line?.shadow, undefined);
      }
      // The same lines through the one port: the Python router's fan-out of every task's log.
      assert.equal((await call(port, agent, '/router/backends/requests')).status, 401, 'the token is still asked for');
      const fanned = await call(port, agent, '/router/backends/requests?limit=100000', AUTHORIZED);
      assert.equal(fanned.status, 200, fanned.body);
      assert.ok(fanned.body.includes('"request_id":"client-chosen-id.1"'));
    });

    await t.test('the shadow gets its share of the requests, and its 300 ms answers delay none', async () => {
      const ids = split.map((answer) => answer.headers['x-request-id']);
      const expected = ids.filter(mirrored);
      const metrics = () => fetch(`http://127.0.0.1:${port}${PROXY_SHADOW_METRICS_PATH}`).then((r) => r.text());
      let text = await metrics();
      const dropped = counter(text, 'mlops_proxy_shadow_dropped_total');
      await waitFor(
        () => logLines(join(dir, 'log-127.0.0.5')).length - shadowBefore >= expected.length - dropped,
        () => `the shadow logged ${logLines(join(dir, 'log-127.0.0.5')).length - shadowBefore} of ${expected.length}`,
        30_000,
      );
      const shadowLines = logLines(join(dir, 'log-127.0.0.5')).slice(shadowBefore);
      const shadowIds = new Set(shadowLines.map((line) => line.request_id));
      const splitIds = new Set(ids);
      for (const line of shadowLines) {
        assert.equal(line.shadow, true);
        assert.equal(line.variant, 'shadow');
        assert.equal(line.status, 200);
        if (splitIds.has(line.request_id))
          assert.ok(mirrored(line.request_id), `${line.request_id} was not to be mirrored`);
      }
      const missing = expected.filter((id) => !shadowIds.has(id));
      assert.ok(missing.length <= dropped, `${missing.length} not mirrored, ${dropped} dropped`);
      assert.ok(dropped <= expected.length * 0.02, `${dropped} dropped of ${expected.length}`);
      const share = ((expected.length - missing.length) / ids.length) * 100;
      t.diagnostic(`the shadow got ${share.toFixed(1)}% of the requests (${dropped} dropped)`);
      assert.ok(Math.abs(share - SHADOW_PERCENT) <= 3, `the shadow got ${share}% of the requests`);
      text = await metrics();
      assert.equal(counter(text, 'mlops_proxy_shadow_failures_total'), 0, text);
      assert.ok(counter(text, 'mlops_proxy_shadow_total') - mirroredBefore >= expected.length - dropped, text);
      const p50 = split.map((answer) => answer.ms).sort((a, b) => a - b)[1000];
      t.diagnostic(`the live p50 was ${p50.toFixed(1)} ms beside a 300 ms shadow`);
      assert.ok(p50 < 150, `the live p50 was ${p50.toFixed(1)} ms, as if the 300 ms shadow held it up`);
    });

    await t.test(
      'a task that drains, then one that is killed, cost no request: they are retried on another',
      async () => {
        const phase = async (name: string, hit: () => Promise<void>) => {
          let fired = false;
          const answers = await many(
            1500,
            8,
            () => call(port, agent, '/invocations', {}, BODY),
            (done) => {
              if (done === 300 && !fired) {
                fired = true;
                void hit();
              }
            },
          );
          const failed = answers.filter((answer) => answer.status !== 200);
          assert.deepEqual(
            failed.map((a) => `${a.status} ${a.body}`),
            [],
            `${name}: ${failed.length} failed\n${proxy.log()}`,
          );
        };
        await phase('draining 127.0.0.2', () => tasks.get('127.0.0.2')!.stop('SIGTERM'));
        await startTask('127.0.0.2', 'production');
        await waitFor(
          async () =>
            (await call(port, agent, '/invocations', {}, BODY)).headers['x-mlops-backend'] === 'production/127.0.0.2',
          () => `the restarted task got no request:\n${proxy.log()}`,
          20_000,
        );
        await phase('killing 127.0.0.3', () => tasks.get('127.0.0.3')!.stop('SIGKILL'));
        // A task that answers every request 503, as a draining server may; it stands in HAProxy.
        const draining = join(dir, 'draining.cfg');
        writeFileSync(
          draining,
          [
            'defaults',
            '    mode http',
            '    timeout client 60s',
            'frontend task',
            `    bind 127.0.0.7:${taskPort}`,
            '    http-request return status 503 content-type text/plain string "draining"',
            '',
          ].join('\n'),
        );
        const answering503 = start(programs.haproxy, ['-db', '-f', draining]);
        running.push(answering503);
        writeFileSync(hosts, names(['127.0.0.2', '127.0.0.7']));
        dns.process.kill('SIGHUP');
        const retries = () => exporterValue(port, 'haproxy_backend_retry_warnings_total{proxy="group_production"}');
        const before = await retries();
        await waitFor(
          async () => {
            await call(port, agent, '/invocations', {}, BODY);
            return (await retries()) > before;
          },
          () => `no request reached the task answering 503:\n${proxy.log()}`,
          10_000,
        );
        await phase('a task answering 503', async () => {});
        t.diagnostic(`retries on group_production: ${(await retries()) - before} while a task answered 503`);
        writeFileSync(hosts, names(['127.0.0.2']));
        dns.process.kill('SIGHUP');
        await answering503.stop();
      },
    );

    await t.test('tasks that come and go in DNS are followed within seconds', async () => {
      await startTask('127.0.0.6', 'production');
      writeFileSync(hosts, names(['127.0.0.2', '127.0.0.6']));
      dns.process.kill('SIGHUP');
      const since = Date.now();
      const backends = new Set<string>();
      await waitFor(
        async () => {
          backends.add((await call(port, agent, '/invocations', {}, BODY)).headers['x-mlops-backend']);
          return backends.has('production/127.0.0.6');
        },
        () => `the new task got no request:\n${proxy.log()}`,
        10_000,
      );
      t.diagnostic(`a new task got its first request ${Date.now() - since} ms after DNS named it`);
      assert.ok(Date.now() - since < 5000);
    });

    await t.test('/router/*, /feedback and everything else go to the Python router beside HAProxy', async () => {
      const health = await call(port, agent, '/router/health');
      assert.equal(health.status, 200, health.body);
      assert.match(health.headers.server, /mlops-router/);
      const groups = (JSON.parse(health.body) as { groups: { name: string }[] }).groups.map((group) => group.name);
      assert.deepEqual(groups, ['production', 'candidate', 'shadow']);
      const metrics = await call(port, agent, '/router/backends/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^mlops_backend_up\{group="candidate",instance="127\.0\.0\.4:\d+"\} 1$/m);
      // Feedback on requests that tasks since restarted or killed answered: their signed ids are taken.
      const outcomes = split.slice(0, 50).map((answer) => ({ request_id: answer.headers['x-request-id'], label: 1 }));
      const feedback = await call(port, agent, '/feedback', AUTHORIZED, JSON.stringify(outcomes));
      assert.equal(feedback.status, 202, feedback.body);
      const exporter = await call(port, agent, PROXY_METRICS_PATH);
      assert.match(exporter.body, /^haproxy_backend_http_requests_total\{proxy="group_candidate"\} [1-9]/m);
      assert.match(exporter.body, /^haproxy_backend_retry_warnings_total\{proxy="group_production"\} \d+/m);
    });
  },
);
