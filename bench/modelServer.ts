// The model server under concurrent one-row requests beside `mlflow models serve` and MLServer with
// adaptive batching, for the same fitted models: throughput, p50, p99 and CPU per 1,000 predictions
// at 32 and 128 keep-alive clients, every answer checked against the model's own predict.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { ensureMlflow, MLFLOW_VERSION } from '../scripts/lib/mlflow.mjs';
import { ensureMlserver, MLSERVER_VERSION } from '../scripts/lib/mlserver.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { writeModelContext } from '../src/containerize/image/buildContext';
import { readMlflowModel } from '../src/containerize/mlflow/mlflowModel';
import { runtimeDir } from '../src/containerize/runtimeFiles';
import { askOnce, drive, type LoadResult, type Target } from './serving/loadClient';
import {
  startMlflowServe,
  startMlserver,
  startOurs,
  startTrivial,
  type Batching,
  type Server,
} from './serving/servers';
import type { BenchSuite } from './suite';

const CLIENTS = [32, 128];
const WARM_UP_SECONDS = 5;
const SECONDS = 10;
/** Rows checked one at a time on each server before the load (every answer under load is checked too). */
const CHECKED_ROWS = 48;
/** MLServer's batching: the limits of our server's defaults (64 rows, 5 ms), and larger batches after a longer wait. */
const BATCHING: Record<'mlserver' | 'mlserver-wait', Batching> = {
  mlserver: { maxBatchSize: 64, maxBatchTimeSeconds: 0.005 },
  'mlserver-wait': { maxBatchSize: 128, maxBatchTimeSeconds: 0.02 },
};

const Written = v.object({
  sklearn: v.string(),
  features: v.array(v.string()),
  rows: v.array(v.array(v.number())),
  models: v.record(v.string(), v.object({ mlflow: v.string(), pickle: v.string(), predictions: v.array(v.number()) })),
});
type Written = v.InferOutput<typeof Written>;

const MlflowAnswer = v.object({ predictions: v.array(v.unknown()) });
const V2Answer = v.object({ outputs: v.tuple([v.object({ data: v.array(v.unknown()) })]) });

const MODELS = [
  { key: 'forest', title: 'random forest (100 trees, depth 8)' },
  { key: 'logistic', title: 'logistic regression' },
];

type Process = 'ours' | 'mlflow' | 'mlserver' | 'mlserver-wait';
type ServerName = Process | 'ours-v2';
/** What is measured: a server process and the protocol it is asked in (ours in both, from one process). */
const SERVERS: { name: ServerName; process: Process; protocol: 'invocations' | 'v2'; title: string }[] = [
  {
    name: 'ours',
    process: 'ours',
    protocol: 'invocations',
    title: 'ours (`python3 -m mlops_runtime`, `/invocations`)',
  },
  { name: 'ours-v2', process: 'ours', protocol: 'v2', title: 'ours (V2 `/infer`)' },
  {
    name: 'mlflow',
    process: 'mlflow',
    protocol: 'invocations',
    title: `\`mlflow models serve\` ${MLFLOW_VERSION} (\`/invocations\`)`,
  },
  {
    name: 'mlserver',
    process: 'mlserver',
    protocol: 'v2',
    title: `MLServer ${MLSERVER_VERSION}, batches of ${BATCHING.mlserver.maxBatchSize} after ${BATCHING.mlserver.maxBatchTimeSeconds * 1000} ms (V2 \`/infer\`)`,
  },
  {
    name: 'mlserver-wait',
    process: 'mlserver-wait',
    protocol: 'v2',
    title: `MLServer ${MLSERVER_VERSION}, batches of ${BATCHING['mlserver-wait'].maxBatchSize} after ${BATCHING['mlserver-wait'].maxBatchTimeSeconds * 1000} ms (V2 \`/infer\`)`,
  },
];
const PROCESSES: Process[] = ['ours', 'mlflow', 'mlserver', 'mlserver-wait'];

function writeModels(python: string, dir: string): Written {
  const written = spawnSync(
    python,
    [
      join(import.meta.dirname, 'serving', 'write_models.py'),
      join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace', 'data', 'customers.csv'),
      dir,
    ],
    { encoding: 'utf8', env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true' }, maxBuffer: 64 * 2 ** 20 },
  );
  if (written.status !== 0) throw new Error(`the models could not be written: ${written.stderr}`);
  return v.parse(Written, JSON.parse(written.stdout));
}

/** Our server's model directory for an MLflow model, as the image build makes it. */
async function oursModelDir(python: string, mlflowDir: string, outDir: string): Promise<string> {
  const context = await writeModelContext({
    model: await readMlflowModel(mlflowDir, mlflowDir),
    baseImage: 'unused-by-the-bench',
    runtimeDir: runtimeDir(),
    outDir,
    git: { commit: null, dirty: false, remote: null },
  });
  const trained = spawnSync(python, ['-m', 'mlops_runtime.train', context.dir], {
    env: { ...process.env, PYTHONPATH: join(context.dir, 'runtime') },
    encoding: 'utf8',
  });
  if (trained.status !== 0) throw new Error(`mlops_runtime.train failed: ${trained.stdout}${trained.stderr}`);
  return join(context.dir, 'model');
}

function mlflowTarget(port: number, features: string[], rows: number[][]): Target {
  return {
    port,
    path: '/invocations',
    bodies: rows.map((row) => JSON.stringify({ dataframe_split: { columns: features, data: [row] } })),
    predictions: (text) => v.parse(MlflowAnswer, JSON.parse(text)).predictions,
  };
}

function v2Target(port: number, model: string, rows: number[][]): Target {
  return {
    port,
    path: `/v2/models/${model}/infer`,
    bodies: rows.map((row) =>
      JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, row.length], datatype: 'FP64', data: row }] }),
    ),
    predictions: (text) => v.parse(V2Answer, JSON.parse(text)).outputs[0].data,
  };
}

/** Asks for CHECKED_ROWS rows spread over the data one at a time; throws on the first answer that differs. */
async function checkAnswers(name: string, target: Target, expected: number[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const step = Math.max(1, Math.floor(target.bodies.length / CHECKED_ROWS));
    for (let row = 0; row < target.bodies.length; row += step) {
      const problem = await askOnce(agent, target, row, expected[row]);
      if (problem) throw new Error(`${name} does not answer as the model predicts: ${problem.message}`);
    }
  } finally {
    agent.destroy();
  }
}

interface Measured {
  model: string;
  server: ServerName;
  clients: number;
  result: LoadResult;
}

export const modelServerSuite: BenchSuite = {
  name: 'model-server',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(mlflow.reason);
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-model-server-'));
    try {
      say('model-server: fitting and saving the forest and the logistic regression');
      const written = writeModels(mlflow.python, dir);
      const mlserver = ensureMlserver(written.sklearn);
      if (!mlserver.ok) throw new Error(mlserver.reason);
      const load = loadavg()[0];
      const options = (clients: number, server: Server) => ({
        clients,
        warmUpSeconds: WARM_UP_SECONDS,
        seconds: SECONDS,
        serverPid: server.pid,
      });

      say(`model-server: the load client against a trivial server, ${CLIENTS.at(-1)} clients`);
      const trivial = await startTrivial();
      const ceiling = await drive(
        mlflowTarget(trivial.port, written.features, written.rows),
        written.rows.map(() => 0),
        options(CLIENTS.at(-1)!, trivial),
      ).finally(() => trivial.stop());

      const measured: Measured[] = [];
      for (const model of MODELS) {
        const files = written.models[model.key];
        const oursDir = await oursModelDir(mlflow.python, files.mlflow, join(dir, `${model.key}-context`));
        for (const kind of PROCESSES) {
          say(`model-server: ${model.key} on ${kind}`);
          const logDir = join(dir, `${model.key}-${kind}`);
          mkdirSync(logDir, { recursive: true });
          const started =
            kind === 'ours'
              ? await startOurs(mlflow.python, runtimeDir(), oursDir, logDir, model.key)
              : kind === 'mlflow'
                ? await startMlflowServe(mlflow.mlflow, files.mlflow)
                : await startMlserver(
                    mlserver.mlserver,
                    logDir,
                    { name: model.key, file: files.pickle },
                    BATCHING[kind],
                  );
          try {
            for (const server of SERVERS.filter((s) => s.process === kind)) {
              const target =
                server.protocol === 'v2'
                  ? v2Target(started.port, model.key, written.rows)
                  : mlflowTarget(started.port, written.features, written.rows);
              await checkAnswers(server.name, target, files.predictions);
              for (const clients of CLIENTS) {
                say(`model-server: ${model.key} on ${server.name}, ${clients} clients for ${SECONDS} s`);
                const result = await drive(target, files.predictions, options(clients, started));
                measured.push({ model: model.key, server: server.name, clients, result });
                say(
                  `model-server: ${whole(result.perSecond)} requests/s, p50 ${fixed(result.p50)} ms, p99 ${fixed(result.p99)} ms, ${fixed(result.serverCpuPer1000)} CPU s per 1,000, ${result.errors} errors, ${result.wrong} wrong`,
                );
              }
            }
          } finally {
            await started.stop();
          }
        }
      }
      const oursWrong = measured.find((m) => m.server.startsWith('ours') && (m.result.wrong || m.result.errors));
      if (oursWrong)
        throw new Error(
          `ours failed under load (${oursWrong.model}, ${oursWrong.clients}): ${oursWrong.result.firstProblem}`,
        );
      return report(measured, ceiling, load, written.rows.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const whole = (value: number) => Math.round(value).toLocaleString('en');

function report(measured: Measured[], ceiling: LoadResult, load: number, rows: number): string {
  const find = (model: string, server: ServerName, clients: number) =>
    measured.find((m) => m.model === model && m.server === server && m.clients === clients)!.result;
  const lines = [
    '## Model server',
    '',
    `The model server beside \`mlflow models serve\` (MLflow ${MLFLOW_VERSION}, \`--env-manager local\`, its defaults: one uvicorn worker) and MLServer ${MLSERVER_VERSION} with \`mlserver-sklearn\` (its defaults: one inference worker process; adaptive batching on, in two settings: \`max_batch_size\` ${BATCHING.mlserver.maxBatchSize} and \`max_batch_time\` ${BATCHING.mlserver.maxBatchTimeSeconds} s, the limits of our server's defaults, and ${BATCHING['mlserver-wait'].maxBatchSize} and ${BATCHING['mlserver-wait'].maxBatchTimeSeconds} s; \`debug: false\`, so no access log), one at a time on loopback. The same fitted models for all three: a ${MODELS.map((m) => m.title).join(' and a ')} on the churn fixture's three numeric features, saved once as an MLflow model (plain pickle); ours serves it as the image build converts it, \`mlflow models serve\` from the MLflow model, MLServer from the same \`model.pkl\`. Ours logs every request to its JSON Lines file and runs its model in a process of its own (\`MLOPS_MODEL_PROCESS=1\`). Each request is one row (the ${rows} rows in turn): \`dataframe_split\` to \`/invocations\` for ours and MLflow, a V2 request with one FP64 tensor of shape [1, 3] to \`/v2/models/NAME/infer\` for MLServer and ours (one process of ours answers both, in turn). A Node client (\`node:http\` Agent, keep-alive) keeps 32 or 128 requests in flight, each client sending its next request when its answer arrives: ${WARM_UP_SECONDS} s of warm-up, then ${SECONDS} s measured. CPU is the server's process tree (workers included) from \`/proc\`, user + system, over the measured window. The load client, the server and whatever else runs share the machine's 2 cores, whose load average was ${load.toFixed(1)} when the run started; against a trivial Node server answering a fixed prediction, the same client reached ${whole(ceiling.perSecond)} requests/s with ${CLIENTS.at(-1)} clients (p50 ${fixed(ceiling.p50)} ms, ${fixed(ceiling.clientCpuPer1000)} CPU s of its own per 1,000). Near that ceiling, and with the other work on the cores changing from one configuration to the next, throughput and latency say less than the CPU per prediction, which the other work changes much less.`,
    '',
    `Before the load, ${CHECKED_ROWS} rows were asked one at a time from each server and every answer was the model's own \`predict\` for its row; under load every answer is checked the same way (wrong answers and errors are counted over warm-up and window).`,
    '',
    '| model | clients | server | requests/s | p50 | p99 | server CPU s per 1,000 | client CPU s per 1,000 | errors | wrong answers |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const model of MODELS)
    for (const clients of CLIENTS)
      for (const server of SERVERS) {
        const r = find(model.key, server.name, clients);
        lines.push(
          `| ${model.key} | ${clients} | ${server.title} | ${whole(r.perSecond)} | ${fixed(r.p50, 1)} ms | ${fixed(r.p99, 1)} ms | ${fixed(r.serverCpuPer1000)} | ${fixed(r.clientCpuPer1000)} | ${r.errors} | ${r.wrong} |`,
        );
      }
  lines.push(
    '',
    "Ratios, ours / peer, against the issue's goals (throughput: higher is better; p99 and CPU: lower is better), each peer beside ours asked in the same protocol: MLflow beside ours on `/invocations`, MLServer beside ours on V2, taking for each measure MLServer's better setting:",
    '',
    '| model | clients | throughput / MLflow | goal | throughput / MLServer | goal | p99 / MLflow | p99 / MLServer | goal | CPU per prediction / MLflow | / MLServer |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const model of MODELS)
    for (const clients of CLIENTS) {
      // Each peer beside ours asked in its protocol: MLflow beside /invocations, MLServer beside V2.
      const [ours, oursV2, mlflow, mlserver, mlserverWait] = SERVERS.map((s) => find(model.key, s.name, clients));
      // MLServer at its better setting for each measure.
      const mlserverBest = {
        perSecond: Math.max(mlserver.perSecond, mlserverWait.perSecond),
        p99: Math.min(mlserver.p99, mlserverWait.p99),
        serverCpuPer1000: Math.min(mlserver.serverCpuPer1000, mlserverWait.serverCpuPer1000),
      };
      const mlflowGoal = model.key === 'forest' ? (clients === 32 ? 4 : undefined) : 2;
      const mlserverGoal = model.key === 'forest' && clients === 32 ? 1.2 : undefined;
      const goal = (ratio: number, min: number | undefined) =>
        min === undefined ? '' : `≥ ${min}: ${ratio >= min ? 'met' : 'not met'}`;
      const [rMlflow, rMlserver] = [ours.perSecond / mlflow.perSecond, oursV2.perSecond / mlserverBest.perSecond];
      const [pMlflow, pMlserver] = [ours.p99 / mlflow.p99, oursV2.p99 / mlserverBest.p99];
      lines.push(
        `| ${model.key} | ${clients} | ${fixed(rMlflow)} | ${goal(rMlflow, mlflowGoal)} | ${fixed(rMlserver)} | ${goal(rMlserver, mlserverGoal)} | ${fixed(pMlflow)} | ${fixed(pMlserver)} | ≤ 1: ${pMlflow <= 1 && pMlserver <= 1 ? 'met' : 'not met'} | ${fixed(ours.serverCpuPer1000 / mlflow.serverCpuPer1000)} | ${fixed(oursV2.serverCpuPer1000 / mlserverBest.serverCpuPer1000)} |`,
      );
    }
  const problems = measured.filter((m) => m.result.firstProblem);
  if (problems.length)
    lines.push(
      '',
      ...problems.map(
        (m) => `- ${m.server}, ${m.model}, ${m.clients} clients, first problem: ${m.result.firstProblem}`,
      ),
    );
  lines.push('');
  return lines.join('\n');
}
