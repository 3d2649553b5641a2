// The cost of the router: the latency it adds (p50, p99, one request at a time) and the requests
// per second it passes (8 in flight), beside calling the model server directly, in the same run,
// for one group, a 90/10 split by request id or by a sticky header, and a shadow group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMlflow } from '../scripts/lib/mlflow.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { ms, type BenchSuite } from './suite';

const ROUNDS = 3;
const PER_ROUND = 1000;
const WARM_UP = 200;
const IN_FLIGHT = 8;
const SECONDS = 5;
const USERS = 1000;

// Two logistic regressions on the churn model's three features, written as the image build writes
// model directories (fitted on a DataFrame, so the server's named columns reach them as they were).
const WRITE_MODELS = String.raw`
import sys
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from serving import features, write_model
names = ["tenure_months", "monthly_charges", "support_calls"]
for seed, directory in enumerate(sys.argv[1:]):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"tenure_months": rng.integers(0, 73, 2000).astype(float), "monthly_charges": rng.uniform(20, 120, 2000), "support_calls": rng.poisson(1.5, 2000).astype(float)})
    y = (X.support_calls * 0.8 - X.tenure_months * 0.05 + rng.normal(0, 1, 2000) > 0).astype(int)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    write_model(directory, model=model, task="classification", classes=[0, 1], features=features(*[(n, "float64") for n in names]), sample=X.head(1).to_dict("records"))
`;

const BODY = JSON.stringify({
  dataframe_split: { columns: ['tenure_months', 'monthly_charges', 'support_calls'], data: [[14, 79.85, 3]] },
});

interface Started {
  port: number;
  stop(): Promise<void>;
}

/** A Python server of the runtime on a free loopback port, read from the line it logs when it listens. */
async function startServer(python: string, module: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(python, ['-m', module], {
    env: { ...process.env, ...env, MLOPS_HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const started = { port: 0, stop: () => stopProcess(child) };
  const deadline = Date.now() + 60_000;
  while (!started.port) {
    const match = / port (\d+)$/m.exec(log);
    if (match) started.port = Number(match[1]);
    else if (child.exitCode !== null || Date.now() > deadline) {
      await started.stop();
      throw new Error(`python -m ${module} did not start (exit ${child.exitCode}):\n${log}`);
    } else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return started;
}

/** SIGTERM, then SIGKILL if the process is still there after 10 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** POST /invocations; resolves with the variant that answered (the router's X-Mlops-Variant, else "direct"). */
function invoke(agent: Agent, port: number, user: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path: '/invocations',
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(BODY),
          'X-User-Id': `user-${user % USERS}`,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const variant = response.headers['x-mlops-variant'];
          if (response.statusCode === 200 && (JSON.parse(text) as { predictions: unknown[] }).predictions.length === 1)
            resolve(typeof variant === 'string' ? variant : 'direct');
          else reject(new Error(`port ${port} answered ${response.statusCode}: ${text}`));
        });
        response.on('error', reject);
      },
    );
    call.setTimeout(30_000, () => call.destroy(new Error(`port ${port} did not answer within 30 s`)));
    call.on('error', reject);
    call.end(BODY);
  });
}

interface Configuration {
  name: string;
  port: number;
  agent: Agent;
  latencies: number[];
  variants: Map<string, number>;
  perSecond: number;
}

async function sequential(configuration: Configuration, count: number, record: boolean): Promise<void> {
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const variant = await invoke(configuration.agent, configuration.port, i);
    if (!record) continue;
    configuration.latencies.push(performance.now() - started);
    configuration.variants.set(variant, (configuration.variants.get(variant) ?? 0) + 1);
  }
}

/** Requests per second with IN_FLIGHT requests at all times for SECONDS (the last ones finish after). */
async function throughput(port: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, worker) => {
        for (let i = worker; performance.now() < deadline; i += IN_FLIGHT, done++) await invoke(agent, port, i);
      }),
    );
  } finally {
    agent.destroy();
  }
  return done / ((performance.now() - started) / 1000);
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}

/** The value of an unlabelled-but-for-group counter in Prometheus text, 0 when absent. */
function counter(text: string, name: string): number {
  const match = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function routerMetrics(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/router/metrics`);
  return response.text();
}

export const routerSuite: BenchSuite = {
  name: 'router',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok)
      throw new Error(`the model server serves scikit-learn from the MLflow virtualenv: ${mlflow.reason}`);
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-router-'));
    const runtime = join(repoRoot, 'runtime');
    const env = { PYTHONPATH: [runtime, join(runtime, 'tests')].join(':'), PYTHONDONTWRITEBYTECODE: '1' };
    const processes: Started[] = [];
    const load = loadavg()[0];
    const agents: Agent[] = [];
    try {
      const [modelA, modelB] = [join(dir, 'a'), join(dir, 'b')];
      const written = spawnSync(mlflow.python, ['-c', WRITE_MODELS, modelA, modelB], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      if (written.status !== 0) throw new Error(`the models could not be written: ${written.stderr}`);
      const server = async (model: string) => {
        const started = await startServer(mlflow.python, 'mlops_runtime', {
          ...env,
          MLOPS_MODEL_DIR: model,
          MLOPS_LABELS_FILE: join(dir, 'no-labels.json'),
          MLOPS_DRAIN_SECONDS: '0',
        });
        processes.push(started);
        return started.port;
      };
      const [a, b] = [await server(modelA), await server(modelB)];
      const production = { name: 'production', addresses: [`127.0.0.1:${a}`], weight: 90 };
      const candidate = { name: 'candidate', addresses: [`127.0.0.1:${b}`], weight: 10 };
      const routed = async (backends: object[], sticky?: string) => {
        const started = await startServer(mlflow.python, 'mlops_runtime.router', {
          ...env,
          MLOPS_ROUTER_BACKENDS: JSON.stringify(backends),
          ...(sticky ? { MLOPS_ROUTER_STICKY_KEY: sticky } : {}),
        });
        processes.push(started);
        return started.port;
      };
      const ports: [string, number][] = [
        ['direct to the model server (the peer)', a],
        ['router, one group', await routed([{ ...production, weight: 100 }])],
        ['router, split 90/10 by request id', await routed([production, candidate])],
        ['router, split 90/10, sticky on `X-User-Id`', await routed([production, candidate], 'header:X-User-Id')],
        [
          'router, one group + a shadow group mirroring 100%',
          await routed([
            { ...production, weight: 100 },
            { ...candidate, weight: 100, shadow: true },
          ]),
        ],
      ];
      const shadowPort = ports[4][1];
      const configurations: Configuration[] = ports.map(([name, port]) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        return { name, port, agent, latencies: [], variants: new Map(), perSecond: 0 };
      });
      for (const configuration of configurations) await sequential(configuration, WARM_UP, false);
      // Rounds in turn, so that what else runs on the machine weighs on every configuration alike.
      for (let round = 1; round <= ROUNDS; round++) {
        say(`router: latency round ${round} of ${ROUNDS}`);
        for (const configuration of configurations) await sequential(configuration, PER_ROUND, true);
      }
      for (const configuration of configurations) {
        say(`router: ${IN_FLIGHT} in flight for ${SECONDS} s, ${configuration.name}`);
        configuration.perSecond = await throughput(configuration.port);
      }
      // Let the mirroring threads empty their queue before counting what they sent.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const shadowMetrics = await routerMetrics(shadowPort);
      const mirrored = counter(shadowMetrics, 'mlops_router_shadow_total');
      const dropped = counter(shadowMetrics, 'mlops_router_shadow_dropped_total');
      const failed = counter(shadowMetrics, 'mlops_router_shadow_failures_total');

      const [direct, ...viaRouter] = configurations;
      const [p50, p99] = [percentile(direct.latencies, 0.5), percentile(direct.latencies, 0.99)];
      const latencyRow = (c: Configuration) => {
        const [q50, q99] = [percentile(c.latencies, 0.5), percentile(c.latencies, 0.99)];
        return `| ${c.name} | ${ms(q50)} | ${ms(q99)} | ${ms(q50 - p50)} | ${(q50 / p50).toFixed(2)} | ${(q99 / p99).toFixed(2)} |`;
      };
      const share = (c: Configuration) =>
        `${(((c.variants.get('candidate') ?? 0) / c.latencies.length) * 100).toFixed(1)}%`;
      const measured = ROUNDS * PER_ROUND;
      return [
        '## Router overhead',
        '',
        `The router (\`python3 -m mlops_runtime.router\`) in front of the model server (\`python3 -m mlops_runtime\`), both on loopback, serving a scikit-learn LogisticRegression on the churn model's three named features; the candidate group is a second model server with another such model. Ours: requests through the router in each configuration. The peer: the same requests sent directly to the model server. Each request is one row as \`dataframe_split\` with an \`X-User-Id\` header (${USERS} users in turn), sent by a Node client on kept-alive connections (\`node:http\` Agent). Latency: ${measured.toLocaleString('en')} requests one at a time per configuration, in ${ROUNDS} rounds of ${PER_ROUND.toLocaleString('en')} that take the configurations in turn, after ${WARM_UP} warm-up requests each. Throughput: ${IN_FLIGHT} requests in flight for ${SECONDS} s per configuration. The router opens a new connection to its backend for each request; the client, the router and the model servers share the machine's cores, whose load average was ${load.toFixed(1)} when the run started.`,
        '',
        '| configuration | p50 | p99 | p50 added | ratio p50 (router / direct) | ratio p99 (router / direct) |',
        '| --- | --- | --- | --- | --- | --- |',
        `| ${direct.name} | ${ms(p50)} | ${ms(p99)} | | | |`,
        ...viaRouter.map(latencyRow),
        '',
        `| configuration | requests/s (${IN_FLIGHT} in flight) | ratio (router / direct) |`,
        '| --- | --- | --- |',
        `| ${direct.name} | ${Math.round(direct.perSecond).toLocaleString('en')} | |`,
        ...viaRouter.map(
          (c) =>
            `| ${c.name} | ${Math.round(c.perSecond).toLocaleString('en')} | ${(c.perSecond / direct.perSecond).toFixed(2)} |`,
        ),
        '',
        `Every answer was 200 with one prediction. The candidate answered ${share(viaRouter[1])} of the split's sequential requests by request id and ${share(viaRouter[2])} by sticky user. The shadow router queued ${mirrored.toLocaleString('en')} mirrored requests (${dropped.toLocaleString('en')} dropped because its queue of 100 was full, ${failed.toLocaleString('en')} failed); the shadow model server works on the same cores as the live one.`,
        '',
      ].join('\n');
    } finally {
      for (const agent of agents) agent.destroy();
      await Promise.all(processes.map((started) => started.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
