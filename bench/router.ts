// The cost of the request path: HAProxy with the generated configuration (and the Python router it
// replaces on predictions, for comparison) against calling the model server directly, in the same run,
// with 1, 8 and 64 requests in flight, for one group, a 90/10 split by request id or by a sticky
// header, and a shadow group: the p50 it adds, the share of direct throughput it keeps, and the CPU
// the proxy itself spends per 1,000 requests (a figure the load of a shared machine does not move).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/codeServer.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { PROXY_SHADOW_METRICS_PATH, type ProxyGroup } from '../src/serving/haproxyConfig';
import { proxyPrograms, startProxy, startRuntime, writeProxyConfig, type Running } from '../test/support/proxyStack';
import { ms, type BenchSuite } from './suite';

const ROUNDS = 5;
const SECONDS = 2; // per configuration, concurrency and round
const WARM_UP = 200;
const IN_FLIGHT = [1, 8, 64];
const THROUGHPUT_IN_FLIGHT = [8, 64];
const CLOCK_TICKS = 100; // per second, in /proc/PID/stat
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

/** POST /invocations; resolves with the variant that answered (X-Mlops-Variant, else "direct"). */
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

interface Measured {
  latencies: number[];
  done: number;
  seconds: number;
}

interface Configuration {
  name: string;
  port: number;
  /** The process whose CPU is counted: the proxy's (HAProxy's master, whose worker is its child), the
   * model server's when direct. */
  pid?: number;
  /** Direct only: every tenth request goes to this port, a split made by the client. */
  candidatePort?: number;
  /** The configuration its p50 and throughput are compared with; the first (direct) when absent. */
  peer?: string;
  shadowMetrics?: boolean;
  byInFlight: Map<number, Measured>;
  variants: Map<string, number>;
  cpuSeconds: number;
  requests: number;
}

/** The CPU seconds (user and system) of a process and its children, from /proc. */
function cpuSeconds(pid: number): number {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3, state
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  };
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === pid || parent === pid) total += ticks(stat);
    } catch {
      // a process that ended meanwhile
    }
  }
  return total / CLOCK_TICKS;
}

/** inFlight requests at all times for SECONDS on kept-alive connections; the last ones finish after. */
async function measure(configuration: Configuration, inFlight: number, offset: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const measured = configuration.byInFlight.get(inFlight) ?? { latencies: [], done: 0, seconds: 0 };
  configuration.byInFlight.set(inFlight, measured);
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const cpuBefore = configuration.pid ? cpuSeconds(configuration.pid) : 0; // the scan takes a few ms
  const doneBefore = measured.done;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async (_, worker) => {
        for (let i = offset + worker; performance.now() < deadline; i += inFlight) {
          const sent = performance.now();
          const { port, candidatePort } = configuration;
          const variant = await invoke(agent, candidatePort !== undefined && i % 10 === 9 ? candidatePort : port, i);
          measured.latencies.push(performance.now() - sent);
          measured.done++;
          configuration.variants.set(variant, (configuration.variants.get(variant) ?? 0) + 1);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  measured.seconds += (performance.now() - started) / 1000;
  if (configuration.pid) configuration.cpuSeconds += cpuSeconds(configuration.pid) - cpuBefore;
  configuration.requests += measured.done - doneBefore;
}

async function warmUp(port: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    for (let i = 0; i < WARM_UP; i++) await invoke(agent, port, i);
  } finally {
    agent.destroy();
  }
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}

/** A process and its descendants (a model server's model runs in a child process), from /proc. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // a process that ended meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  return tree;
}

/** Binds every thread of a process and of its descendants to the given CPUs (as `taskset -c` reads
 * them); processes started later inherit it. */
function pin(root: number, cpus: string): void {
  for (const pid of processTree(root)) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
    if (result.status !== 0 && readdirSync('/proc').includes(String(pid)))
      throw new Error(`taskset could not pin process ${pid} to CPU ${cpus}: ${result.stderr}`);
  }
}

/** The value of a counter labelled only by group in Prometheus text, 0 when absent. */
function counter(text: string, name: string): number {
  const match = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

export const routerSuite: BenchSuite = {
  name: 'router',
  async run() {
    const programs = proxyPrograms();
    if (!programs.ok) throw new Error(programs.reason);
    const { python } = programs;
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-router-'));
    const runtime = join(repoRoot, 'runtime');
    const processes: Running[] = [];
    const load = loadavg()[0];
    // The live model servers get a core of their own, and the client, the proxies and the shadow's model
    // server the other, as on a deployment where the proxy and the shadow are containers apart from the
    // live model's: what the proxy then costs is its own latency, not CPU taken from the model server.
    const pinned = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
    if (pinned) pin(process.pid, '1');
    try {
      const [modelA, modelB] = [join(dir, 'a'), join(dir, 'b')];
      const written = spawnSync(python, ['-c', WRITE_MODELS, modelA, modelB], {
        env: { ...process.env, PYTHONPATH: [runtime, join(runtime, 'tests')].join(':') },
        encoding: 'utf8',
      });
      if (written.status !== 0) throw new Error(`the models could not be written: ${written.stderr}`);
      const server = async (model: string) => {
        const started = await startRuntime(python, 'mlops_runtime', {
          MLOPS_MODEL_DIR: model,
          MLOPS_LABELS_FILE: join(dir, 'no-labels.json'),
          MLOPS_DRAIN_SECONDS: '0',
        });
        processes.push(started);
        return started.port;
      };
      const [a, b, c] = [await server(modelA), await server(modelB), await server(modelB)];
      const modelServer = processes[0].process.pid;
      if (pinned) for (const started of processes.slice(0, 2)) pin(started.process.pid!, '0');
      const production: ProxyGroup = {
        name: 'production',
        weight: 90,
        shadow: false,
        server: { address: `127.0.0.1:${a}` },
      };
      const candidate: ProxyGroup = {
        name: 'candidate',
        weight: 10,
        shadow: false,
        server: { address: `127.0.0.1:${b}` },
      };
      const backends = (groups: ProxyGroup[]) =>
        JSON.stringify(
          groups.map((group) => ({
            name: group.name,
            addresses: ['address' in group.server ? group.server.address : ''],
            weight: group.weight,
            shadow: group.shadow,
          })),
        );
      // The Python router: beside HAProxy as its api backend, and alone for the comparison.
      const pythonRouter = async (groups: ProxyGroup[]) => {
        const started = await startRuntime(python, 'mlops_runtime.router', { MLOPS_ROUTER_BACKENDS: backends(groups) });
        processes.push(started);
        return { port: started.port, pid: started.process.pid };
      };
      const haproxy = async (groups: ProxyGroup[], stickyKey: string | null = null) => {
        const api = await pythonRouter(groups);
        const port = await freePort();
        const config = writeProxyConfig(join(dir, `haproxy-${port}`), {
          groups,
          stickyKey,
          api: { address: `127.0.0.1:${api.port}` },
          port,
          bindAddress: '127.0.0.1',
        });
        const proxy = await startProxy(programs.haproxy, config, port);
        processes.push(proxy);
        return { port, pid: proxy.process.pid };
      };
      const one = [{ ...production, weight: 100 }];
      const split = [production, candidate];
      const shadow = (percent: number) => [
        { ...production, weight: 100 },
        { name: 'shadow', weight: percent, shadow: true, server: { address: `127.0.0.1:${c}` } },
      ];
      const measuredAgain = 'direct to the model server, measured again (the noise floor)';
      const clientSplit = 'direct to both model servers, 90/10 by the client (the peer of the splits)';
      const splitPeer = { peer: clientSplit };
      const routes: [string, Pick<Configuration, 'port' | 'pid' | 'candidatePort' | 'peer'>][] = [
        ['direct to the model server (the peer)', { port: a, pid: modelServer }],
        [measuredAgain, { port: a, pid: modelServer }],
        [clientSplit, { port: a, candidatePort: b, pid: modelServer }],
        ['HAProxy, one group', await haproxy(one)],
        ['HAProxy, split 90/10 by request id', { ...(await haproxy(split)), ...splitPeer }],
        [
          'HAProxy, split 90/10, sticky on `X-User-Id`',
          { ...(await haproxy(split, 'header:X-User-Id')), ...splitPeer },
        ],
        ['HAProxy, one group + a shadow mirroring 10%', await haproxy(shadow(10))],
        ['HAProxy, one group + a shadow mirroring 100%', await haproxy(shadow(100))],
        ['Python router alone (before), one group', await pythonRouter(one)],
      ];
      const configurations: Configuration[] = routes.map(([name, route]) => ({
        name,
        ...route,
        shadowMetrics: name.includes('shadow'),
        byInFlight: new Map(),
        variants: new Map(),
        cpuSeconds: 0,
        requests: 0,
      }));
      for (const configuration of configurations) await warmUp(configuration.port);
      // Rounds in turn, so that what else runs on the machine weighs on every configuration alike.
      for (let round = 1; round <= ROUNDS; round++) {
        say(`router: round ${round} of ${ROUNDS}`);
        for (const inFlight of IN_FLIGHT)
          for (const configuration of configurations) await measure(configuration, inFlight, round * 100_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the last copies reach the shadow
      const shadows: string[] = [];
      for (const configuration of configurations.filter((c) => c.shadowMetrics)) {
        const text = await (await fetch(`http://127.0.0.1:${configuration.port}${PROXY_SHADOW_METRICS_PATH}`)).text();
        const [sent, dropped, failed] = ['', '_dropped', '_failures'].map((kind) =>
          counter(text, `mlops_proxy_shadow${kind}_total`),
        );
        shadows.push(
          `${configuration.name}: ${sent.toLocaleString('en')} mirrored, ${dropped.toLocaleString('en')} dropped (64 in flight at most), ${failed.toLocaleString('en')} failed`,
        );
      }

      const [direct, ...others] = configurations;
      const peerOf = (c: Configuration) => configurations.find((other) => other.name === c.peer) ?? direct;
      const figures = (c: Configuration, inFlight: number) => {
        const measured = c.byInFlight.get(inFlight)!;
        return { p50: percentile(measured.latencies, 0.5), perSecond: measured.done / measured.seconds };
      };
      const latencyRow = (c: Configuration) =>
        `| ${c.name} | ${IN_FLIGHT.map((inFlight) => {
          const [own, peer] = [figures(c, inFlight), figures(peerOf(c), inFlight)];
          return c === direct ? `${ms(own.p50)} | ` : `${ms(own.p50)} | ${ms(own.p50 - peer.p50)}`;
        }).join(' | ')} |`;
      const cpu = (c: Configuration) => `${Math.round((c.cpuSeconds / c.requests) * 1_000_000)} ms`;
      const throughputRow = (c: Configuration) =>
        `| ${c.name} | ${THROUGHPUT_IN_FLIGHT.map((inFlight) => {
          const [own, peer] = [figures(c, inFlight), figures(peerOf(c), inFlight)];
          const rate = Math.round(own.perSecond).toLocaleString('en');
          return c === direct ? `${rate} | ` : `${rate} | ${(own.perSecond / peer.perSecond).toFixed(2)}`;
        }).join(' | ')} | ${cpu(c)} |`;
      const share = (c: Configuration) => {
        const total = [...c.variants.values()].reduce((sum, n) => sum + n, 0);
        return `${(((c.variants.get('candidate') ?? 0) / total) * 100).toFixed(1)}%`;
      };
      const byName = (name: string) => configurations.find((c) => c.name === name)!;
      return [
        '## Request path overhead: HAProxy (and the Python router) against direct',
        '',
        `HAProxy 2.6 (Debian's package) with the configuration \`src/serving/haproxyConfig.ts\` generates, in front of the model server (\`python3 -m mlops_runtime\`), all on loopback, serving a scikit-learn LogisticRegression on the churn model's three named features; the candidate and shadow groups are model servers with another such model. Ours: requests through HAProxy in each configuration (the Python router runs beside it for everything but predictions), and through the Python router alone as before. The peer: the same requests sent directly to the model server; for the splits, sent directly to the two model servers, every tenth to the candidate. Each request is one row as \`dataframe_split\` with an \`X-User-Id\` header (${USERS} users in turn), sent by a Node client on kept-alive connections (\`node:http\` Agent). For each number in flight, ${ROUNDS} rounds of ${SECONDS} s per configuration, taking the configurations in turn, after ${WARM_UP} warm-up requests each; p50 over every request of the rounds, throughput over their time. The model server measured twice shows how far two runs of the same thing differ on this machine. The proxy's CPU is the user and system time of its processes (HAProxy's master and worker, or the Python router; the model server's own in the direct rows) over all the rounds, per 1,000 requests: on shared cores it is what the proxy takes from the model server. ${pinned ? "The production and candidate model servers run on one core (`taskset`), the client, HAProxy, the routers and the shadow's model server on the other, as on a deployment where the proxy and the shadow run in containers apart from the live model server's: the latency the proxy adds is its own, not CPU it takes from the model server (the CPU column says what it would take on shared cores)." : "The client, HAProxy, the routers and the model servers share the machine's cores (`taskset` was not available to give the model servers a core of their own)."} The machine's load average was ${load.toFixed(1)} when the run started.`,
        '',
        `| configuration | ${IN_FLIGHT.map((n) => `p50 (${n} in flight) | p50 added to the peer's`).join(' | ')} |`,
        `| --- | ${IN_FLIGHT.map(() => '--- | ---').join(' | ')} |`,
        latencyRow(direct),
        ...others.map(latencyRow),
        '',
        `| configuration | ${THROUGHPUT_IN_FLIGHT.map((n) => `requests/s (${n} in flight) | ratio to the peer`).join(' | ')} | CPU per 1,000 requests: the proxy's (direct: the model server's) |`,
        `| --- | ${THROUGHPUT_IN_FLIGHT.map(() => '--- | ---').join(' | ')} | --- |`,
        throughputRow(direct),
        ...others.map(throughputRow),
        '',
        `Every answer was 200 with one prediction. The candidate answered ${share(byName('HAProxy, split 90/10 by request id'))} of the split's requests by request id and ${share(byName('HAProxy, split 90/10, sticky on `X-User-Id`'))} by sticky user. Mirrored: ${shadows.join('; ')}.`,
        '',
      ].join('\n');
    } finally {
      if (pinned) pin(process.pid, `0-${availableParallelism() - 1}`);
      await Promise.all(processes.map((started) => started.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
