// The request path on loopback for the proxy test and benchmark: real model servers and the Python
// router (`python -m mlops_runtime[.router]`), HAProxy with a generated configuration, and dnsmasq
// answering tasks.NAME as Swarm's DNS does. Every process is ours, stopped by its own handle.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDnsmasq, ensureHaproxy } from '../../scripts/lib/haproxy.mjs';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { haproxyConfig, PROXY_CONFIG_DIR, type ProxyInput } from '../../src/serving/haproxyConfig';

export interface Running {
  process: ChildProcess;
  /** What the process wrote on stderr so far. */
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** haproxy, dnsmasq and the MLflow virtualenv's python, or why one is missing. */
export function proxyPrograms():
  { ok: true; haproxy: string; dnsmasq: string; python: string } | { ok: false; reason: string } {
  const haproxy = ensureHaproxy();
  if (!haproxy.ok) return haproxy;
  const dnsmasq = ensureDnsmasq();
  if (!dnsmasq.ok) return dnsmasq;
  const mlflow = ensureMlflow();
  if (!mlflow.ok) return { ok: false, reason: `the model servers run in the MLflow virtualenv: ${mlflow.reason}` };
  return { ok: true, haproxy: haproxy.bin, dnsmasq: dnsmasq.bin, python: mlflow.python };
}

/** Starts a program with an argument array, keeping its stderr. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  child.on('error', (error) => (text += `\n${error.message}`));
  return { process: child, log: () => text, stop: (signal) => stopProcess(child, signal) };
}

/** signal (SIGTERM), then SIGKILL if the process is still there after 10 s. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Waits until check() is true, failing with describe() after timeoutMs. */
export async function waitFor(check: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const runtimeDir = join(repoRoot, 'runtime');
const pythonPath = { PYTHONPATH: [runtimeDir, join(runtimeDir, 'tests')].join(':'), PYTHONDONTWRITEBYTECODE: '1' };

/** Writes a function model (serve.py) whose predict(records) is `body`, as the image build writes one. */
export function writeFunctionModel(python: string, directory: string, body: string): void {
  const source = `def predict(records):\n${body
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;
  const script =
    'import sys\nfrom serving import write_model\nwrite_model(sys.argv[1], "function", source=sys.argv[2])\n';
  const written = spawnSync(python, ['-c', script, directory, source], {
    env: { ...process.env, ...pythonPath },
    encoding: 'utf8',
  });
  if (written.status !== 0) throw new Error(`the model ${directory} could not be written: ${written.stderr}`);
}

/** `python -m module` of the runtime, once it logs that it listens; its port is read from that line. */
export async function startRuntime(
  python: string,
  module: 'mlops_runtime' | 'mlops_runtime.router',
  env: NodeJS.ProcessEnv,
): Promise<Running & { port: number }> {
  const running = start(python, ['-m', module], { MLOPS_HOST: '127.0.0.1', PORT: '0', ...pythonPath, ...env });
  let port = 0;
  await waitFor(
    () => {
      port = Number(/ port (\d+)$/m.exec(running.log())?.[1] ?? 0);
      return port > 0 || running.process.exitCode !== null;
    },
    () => `python -m ${module} did not start:\n${running.log()}`,
  );
  if (!port) throw new Error(`python -m ${module} did not start (exit ${running.process.exitCode}):\n${running.log()}`);
  return { ...running, port };
}

/** A model server of `model` on host:port, logging requests in logDir. */
export function startModelServer(
  python: string,
  model: string,
  host: string,
  port: number,
  logDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Running & { port: number }> {
  mkdirSync(logDir, { recursive: true });
  return startRuntime(python, 'mlops_runtime', {
    ...env,
    MLOPS_MODEL_DIR: model,
    MLOPS_HOST: host,
    PORT: String(port),
    MLOPS_LABELS_FILE: join(model, 'no-labels.json'),
    MLOPS_REQUEST_LOG_DIR: logDir,
    MLOPS_DRAIN_SECONDS: '5',
  });
}

/** haproxy.cfg and mirror.lua of `input` written in dir (lua-load pointed there). */
export function writeProxyConfig(dir: string, input: ProxyInput): string {
  const files = haproxyConfig(input);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, files.config.replaceAll(PROXY_CONFIG_DIR, dir));
  writeFileSync(join(dir, 'mirror.lua'), files.lua);
  return config;
}

/** `haproxy -c`: whether the configuration is valid, and what HAProxy said. */
export function checkProxyConfig(haproxy: string, config: string): { ok: boolean; output: string } {
  const result = spawnSync(haproxy, ['-c', '-f', config], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** HAProxy in the foreground (master-worker, as PROXY_COMMAND) once it answers on its port. */
export async function startProxy(haproxy: string, config: string, port: number): Promise<Running> {
  const running = start(haproxy, ['-W', '-db', '-f', config]);
  await waitFor(
    async () => {
      if (running.process.exitCode !== null) throw new Error(`haproxy exited:\n${running.log()}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/router/proxy/metrics`)).ok;
      } catch {
        return false;
      }
    },
    () => `haproxy did not answer on port ${port}:\n${running.log()}`,
    20_000,
  );
  return running;
}

/** dnsmasq answering the names of hostsFile (re-read on SIGHUP) with a TTL of 0, on 127.0.0.1:port. */
export function startDns(dnsmasq: string, hostsFile: string, port: number): Running {
  return start(dnsmasq, [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hostsFile}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--port=${port}`,
    '--local-ttl=0',
    '--no-negcache',
    '--user=root',
    '--pid-file',
    '--log-facility=-',
  ]);
}
