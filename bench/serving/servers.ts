// The servers the model server benchmark compares, each started on a free loopback port in a
// process group of its own (so that stopping it stops its workers) and ready when it says so.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/codeServer.mjs';

export interface Server {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

function ready(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) =>
    request({ host: '127.0.0.1', port, path }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    })
      .on('error', () => resolve(false))
      .end(),
  );
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

async function launch(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; port: number; readyPath: string },
): Promise<Server> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const server: Server = {
    pid: child.pid!,
    port: options.port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 120_000;
  while (!(await ready(options.port, options.readyPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} did not become ready on ${options.readyPath} (exit ${child.exitCode}):\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return server;
}

/**
 * Ours: `python -m mlops_runtime` on a model directory as the image build writes it, with its default
 * settings, logging every request; `name` is its model's name in the Open Inference Protocol.
 */
export async function startOurs(
  python: string,
  runtime: string,
  modelDir: string,
  logDir: string,
  name: string,
): Promise<Server> {
  const port = await freePort();
  return launch('python -m mlops_runtime', python, ['-m', 'mlops_runtime'], {
    env: {
      PYTHONPATH: runtime,
      PYTHONDONTWRITEBYTECODE: '1',
      MLOPS_MODEL_DIR: modelDir,
      MLOPS_LABELS_FILE: join(logDir, 'no-labels.json'),
      MLOPS_REQUEST_LOG_DIR: logDir,
      MLOPS_DRAIN_SECONDS: '0',
      MLOPS_MODEL_NAME: name,
      MLOPS_MODEL_PROCESS: '1', // the model in a process of its own, as MLServer's inference worker
      MLOPS_HOST: '127.0.0.1',
      PORT: String(port),
    },
    port,
    readyPath: '/ping',
  });
}

/** `mlflow models serve` with its defaults, in the Python it was installed with. */
export async function startMlflowServe(mlflow: string, modelDir: string): Promise<Server> {
  const port = await freePort();
  const bin = join(mlflow, '..');
  return launch(
    'mlflow models serve',
    mlflow,
    ['models', 'serve', '-m', modelDir, '--env-manager', 'local', '--host', '127.0.0.1', '-p', String(port)],
    // MLflow starts uvicorn by name, so the virtualenv's bin goes first on the PATH (as when activated).
    { env: { MLFLOW_DISABLE_TELEMETRY: 'true', PATH: `${bin}:${process.env.PATH}` }, port, readyPath: '/ping' },
  );
}

export interface Batching {
  maxBatchSize: number;
  maxBatchTimeSeconds: number;
}

/**
 * MLServer serving one scikit-learn model file with adaptive batching; its other settings are its
 * defaults but for the access log (off, `debug: false`) and the ports.
 */
export async function startMlserver(
  mlserver: string,
  dir: string,
  model: { name: string; file: string },
  batching: Batching,
): Promise<Server> {
  const [port, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir, model.name), { recursive: true });
  const settings = { debug: false, host: '127.0.0.1', http_port: port, grpc_port: grpcPort, metrics_port: metricsPort };
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
  writeFileSync(
    join(dir, model.name, 'model-settings.json'),
    JSON.stringify({
      name: model.name,
      implementation: 'mlserver_sklearn.SKLearnModel',
      max_batch_size: batching.maxBatchSize,
      max_batch_time: batching.maxBatchTimeSeconds,
      parameters: { uri: model.file },
    }),
  );
  return launch('mlserver start', mlserver, ['start', dir], {
    cwd: dir,
    env: { PATH: `${join(mlserver, '..')}:${process.env.PATH}` },
    port,
    readyPath: `/v2/models/${model.name}/ready`,
  });
}

// Reads each request whole and answers one fixed prediction: the ceiling of the load client.
const TRIVIAL = String.raw`
const http = require('node:http');
const body = JSON.stringify({ predictions: [0] });
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length }).end(body));
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

/** A trivial Node server in its own process, to show what the load client can drive. */
export async function startTrivial(): Promise<Server> {
  const port = await freePort();
  return launch('trivial server', process.execPath, ['-e', TRIVIAL, String(port)], { env: {}, port, readyPath: '/' });
}
