// Containerise: the first build of a notebook's image against a rebuild after editing only the
// notebook (dependency layers reused), and the model server's latency and throughput on loopback
// beside `mlflow models serve` for the same MLflow model, in the same run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/codeServer.mjs';
import { ensureBaseImage, ensureDockerEngine } from '../scripts/lib/docker.mjs';
import { ensureMlflow, MLFLOW_VERSION } from '../scripts/lib/mlflow.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { containerizeNotebook } from '../src/containerize/containerize';
import { writeModelContext } from '../src/containerize/image/buildContext';
import { readMlflowModel } from '../src/containerize/mlflow/mlflowModel';
import { runtimeDir } from '../src/containerize/runtimeFiles';
import type { BenchSuite } from './suite';

const CONCURRENCY = 8;
const SECONDS = 10;

const LOG_MODEL = `import sys, mlflow, pandas as pd
from sklearn.ensemble import RandomForestClassifier
mlflow.set_tracking_uri(sys.argv[1])
df = pd.read_csv(sys.argv[2])
X = df[["tenure_months", "monthly_charges", "support_calls"]].astype(float)
with mlflow.start_run():
    model = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0).fit(X, df["churned"])
    info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(3), serialization_format="cloudpickle")
print(mlflow.artifacts.download_artifacts(info.model_uri))`;

interface Load {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  rps: number;
}

/** Keeps CONCURRENCY keep-alive connections busy for SECONDS and records every latency. */
async function load(port: number, body: string): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/invocations',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Number(process.hrtime.bigint() - started) / 1e6)
              : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 200; i++) await once(); // warm-up
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) latencies.push(await once().catch(() => (errors++, NaN)));
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { requests: sorted.length, errors, p50: at(0.5), p99: at(0.99), rps: sorted.length / elapsed };
}

async function serve(command: string, args: string[], env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${stderr.slice(-800)}`);
    const ok = await new Promise<boolean>((resolve) =>
      request({ host: '127.0.0.1', port, path: '/ping' }, (res) => (res.resume(), resolve(res.statusCode === 200)))
        .on('error', () => resolve(false))
        .end(),
    );
    if (ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill();
  throw new Error(`${command} did not answer /ping: ${stderr.slice(-800)}`);
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
}

function predictions(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/invocations',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(JSON.stringify((JSON.parse(text) as { predictions: unknown }).predictions)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function buildTimes(
  python: string,
  baseImage: string,
): Promise<{ first: number; rebuild: number; unchanged: number }> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-containerize-'));
  cpSync(join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace'), root, { recursive: true });
  const options = {
    notebook: join(root, 'churn_forest.ipynb'),
    workspaceRoot: root,
    python,
    baseImage,
    smoke: false,
    tag: `mlops-bench/churn:${Date.now()}`,
  };
  const timed = async (extra: object) => {
    const started = performance.now();
    await containerizeNotebook({ ...options, ...extra });
    return (performance.now() - started) / 1000;
  };
  say('containerize: first build, every layer rebuilt');
  const first = await timed({ noCache: true });
  // A value no earlier run used, so the rebuild cannot reuse an image: only its layers.
  writeFileSync(
    options.notebook,
    readFileSync(options.notebook, 'utf8').replace('n_estimators=50', `n_estimators=${50 + (Date.now() % 1000)}`),
  );
  say('containerize: rebuild after editing the notebook');
  const rebuild = await timed({});
  say('containerize: the same inputs again');
  const unchanged = await timed({});
  return { first, rebuild, unchanged };
}

export const containerizeSuite: BenchSuite = {
  name: 'containerize',
  async run() {
    const engine = await ensureDockerEngine();
    if (!engine.ok) throw new Error(engine.reason);
    const image = await ensureBaseImage();
    if (!image.ok) throw new Error(image.reason);
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(mlflow.reason);
    const builds = await buildTimes(mlflow.python, image.image);

    say('containerize: logging a random forest with MLflow');
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-serve-'));
    const logged = spawnSync(
      mlflow.python,
      [
        '-c',
        LOG_MODEL,
        `sqlite:///${join(dir, 'mlflow.db')}`,
        join(repoRoot, 'test', 'fixtures', 'notebooks', 'workspace', 'data', 'customers.csv'),
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    if (logged.status !== 0) throw new Error(logged.stderr);
    const modelDir = logged.stdout.trim().split('\n').at(-1)!;
    // Our server gets the model the image build would give it, trained nowhere: loaded from MLflow's files.
    const model = await readMlflowModel(modelDir, modelDir);
    const context = await writeModelContext({
      model,
      baseImage: image.image,
      runtimeDir: runtimeDir(),
      outDir: join(dir, 'context'),
      git: { commit: null, dirty: false, remote: null },
    });
    const trained = spawnSync(mlflow.python, ['-m', 'mlops_runtime.train', context.dir], {
      env: { ...process.env, PYTHONPATH: join(context.dir, 'runtime') },
      encoding: 'utf8',
    });
    if (trained.status !== 0) throw new Error(trained.stdout + trained.stderr);

    const body = JSON.stringify({
      dataframe_split: { columns: ['tenure_months', 'monthly_charges', 'support_calls'], data: [[12, 80.5, 3]] },
    });
    const oursPort = await freePort();
    say(`containerize: our server under ${CONCURRENCY} concurrent clients for ${SECONDS} s`);
    const ours = await serve(
      mlflow.python,
      ['-m', 'mlops_runtime'],
      {
        PYTHONPATH: runtimeDir(),
        MLOPS_MODEL_DIR: join(context.dir, 'model'),
        PORT: String(oursPort),
        MLOPS_HOST: '127.0.0.1',
        MLOPS_REQUEST_LOG_DIR: join(dir, 'requests'),
      },
      oursPort,
    );
    const oursAnswer = await predictions(oursPort, body);
    const oursLoad = await load(oursPort, body);
    await stop(ours);
    const peerPort = await freePort();
    say('containerize: mlflow models serve, the same');
    const mlflowBin = join(mlflow.python, '..', 'mlflow');
    // MLflow starts uvicorn by name, so the virtualenv's bin goes first on the PATH (as when activated).
    const venvBin = join(mlflow.python, '..');
    const peer = await serve(
      mlflowBin,
      ['models', 'serve', '-m', modelDir, '--env-manager', 'local', '--host', '127.0.0.1', '-p', String(peerPort)],
      { MLFLOW_DISABLE_TELEMETRY: 'true', PATH: `${venvBin}:${process.env.PATH}` },
      peerPort,
    );
    const peerAnswer = await predictions(peerPort, body);
    const peerLoad = await load(peerPort, body);
    await stop(peer);
    if (oursAnswer !== peerAnswer) throw new Error(`the servers disagree: ours ${oursAnswer}, MLflow ${peerAnswer}`);

    const row = (name: string, l: Load) =>
      `| ${name} | ${l.p50.toFixed(2)} ms | ${l.p99.toFixed(2)} ms | ${l.rps.toFixed(0)} | ${l.requests.toLocaleString('en')} | ${l.errors} |`;
    return [
      '## Containerise',
      '',
      `The fixture notebook \`churn_forest.ipynb\` (pandas, a train/test split, a random forest, plots and magics) on the offline Debian base image (\`${image.image}\`), through the Docker Engine API. That base image already holds pandas and scikit-learn, so the dependency layer only checks them and most of a build is the training step; where the requirements are installed with pip, reusing that layer saves their download and install too.`,
      '',
      '| build | time | ratio to the first build |',
      '| --- | --- | --- |',
      `| first build, every layer rebuilt (\`noCache\`) | ${builds.first.toFixed(1)} s | 1 |`,
      `| rebuild after editing only the notebook (dependency layers reused) | ${builds.rebuild.toFixed(1)} s | ${(builds.rebuild / builds.first).toFixed(2)} |`,
      `| the same inputs again (the image for the context hash is reused) | ${builds.unchanged.toFixed(1)} s | ${(builds.unchanged / builds.first).toFixed(2)} |`,
      '',
      `The model server beside \`mlflow models serve\` (MLflow ${MLFLOW_VERSION}, \`--env-manager local\`, its defaults) for the same MLflow model (a 100-tree random forest), both on loopback with the same Python, ${CONCURRENCY} concurrent keep-alive clients for ${SECONDS} s after 200 warm-up requests, one row per request (\`dataframe_split\`). Ours logs every request to its JSON Lines file; both answered ${oursAnswer} to the same row.`,
      '',
      '| server | p50 | p99 | requests/s | requests | errors |',
      '| --- | --- | --- | --- | --- | --- |',
      row('ours (`python -m mlops_runtime`)', oursLoad),
      row('`mlflow models serve`', peerLoad),
      `| ratio (ours / MLflow) | ${(oursLoad.p50 / peerLoad.p50).toFixed(2)} | ${(oursLoad.p99 / peerLoad.p99).toFixed(2)} | ${(oursLoad.rps / peerLoad.rps).toFixed(2)} | | |`,
      '',
    ].join('\n');
  },
};
