// What this machine offers the MLOps workflow: Python and its ML packages, a Docker Engine
// (and whether it is a swarm manager), Kubernetes contexts and git. Used by the environment
// panel and `mlops doctor`.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { EnvironmentCheck } from '../shared/protocol';
import { runProgram } from '../shared/process';
import { pingDockerEngine, resolveDockerHost } from './dockerPing';

export interface EnvironmentOptions {
  pythonPath?: string;
  dockerHost?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const PYTHON_PACKAGES = ['mlflow', 'scikit-learn', 'pandas'];

export async function checkEnvironment(options: EnvironmentOptions = {}): Promise<EnvironmentCheck[]> {
  const env = options.env ?? process.env;
  const [python, docker, kubernetes, git] = await Promise.all([
    checkPython(options.pythonPath || 'python3'),
    checkDocker(resolveDockerHost(options.dockerHost, env)),
    checkKubeconfig(env),
    checkGit(options.cwd),
  ]);
  return [...python, ...docker, kubernetes, git];
}

async function checkPython(python: string): Promise<EnvironmentCheck[]> {
  // One interpreter start for the version and every package, to keep the check fast.
  const script = [
    'import sys, importlib.metadata as m',
    'print(sys.version.split()[0])',
    `for p in ${JSON.stringify(PYTHON_PACKAGES)}:`,
    '    try: print(p, m.version(p))',
    '    except Exception: print(p, "-")',
  ].join('\n');
  let lines: string[];
  try {
    const result = await runProgram(python, ['-c', script], { timeoutMs: 15_000 });
    if (result.code !== 0) throw new Error(result.stderr.trim() || `exit code ${result.code}`);
    lines = result.stdout.trim().split('\n');
  } catch (error) {
    return [
      {
        id: 'python',
        label: 'Python',
        status: 'missing',
        detail: `${python} could not run: ${(error as Error).message}`,
        remedy: 'Install Python 3, or set mlops.pythonPath to your interpreter.',
      },
    ];
  }
  const checks: EnvironmentCheck[] = [{ id: 'python', label: 'Python', status: 'ok', detail: `${python}: Python ${lines[0]}` }];
  for (const line of lines.slice(1)) {
    const [name, version] = line.split(' ');
    checks.push(
      version === '-'
        ? { id: `python:${name}`, label: name, status: 'warning', detail: `not installed for ${python}`, remedy: `pip install ${name}` }
        : { id: `python:${name}`, label: name, status: 'ok', detail: version },
    );
  }
  return checks;
}

async function checkDocker(host: string): Promise<EnvironmentCheck[]> {
  try {
    const engine = await pingDockerEngine(host);
    const swarmActive = engine.swarm === 'active';
    return [
      { id: 'docker', label: 'Docker Engine', status: 'ok', detail: `${engine.version} (API ${engine.apiVersion}) at ${host}` },
      {
        id: 'swarm',
        label: 'Docker Swarm',
        status: swarmActive ? 'ok' : 'warning',
        detail: swarmActive ? 'this engine is part of a swarm' : `swarm is ${engine.swarm} on this engine`,
        ...(swarmActive ? {} : { remedy: 'docker swarm init --advertise-addr 127.0.0.1' }),
      },
    ];
  } catch (error) {
    return [
      {
        id: 'docker',
        label: 'Docker Engine',
        status: 'missing',
        detail: `no engine answered at ${host}: ${(error as Error).message}`,
        remedy: 'Start Docker, or set mlops.dockerHost (or DOCKER_HOST) to a running engine.',
      },
    ];
  }
}

async function checkKubeconfig(env: NodeJS.ProcessEnv): Promise<EnvironmentCheck> {
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
  const found: string[] = [];
  let currentContext: string | undefined;
  for (const file of files) {
    try {
      const text = await readFile(file, 'utf8');
      found.push(file);
      currentContext ??= /^current-context:\s*"?([^"\n]+?)"?\s*$/m.exec(text)?.[1];
    } catch {
      /* a missing file in KUBECONFIG is allowed, as kubectl allows it */
    }
  }
  if (found.length === 0) {
    return {
      id: 'kubernetes',
      label: 'Kubernetes',
      status: 'warning',
      detail: `no kubeconfig at ${files.join(delimiter)}`,
      remedy: 'Optional: set KUBECONFIG to deploy to Kubernetes.',
    };
  }
  return {
    id: 'kubernetes',
    label: 'Kubernetes',
    status: 'ok',
    detail: `${found.join(delimiter)}${currentContext ? `, current context ${currentContext}` : ', no current context'}`,
  };
}

async function checkGit(cwd: string | undefined): Promise<EnvironmentCheck> {
  try {
    const version = await runProgram('git', ['--version']);
    const top = cwd ? await runProgram('git', ['rev-parse', '--show-toplevel'], { cwd }) : undefined;
    const inRepo = top?.code === 0;
    return {
      id: 'git',
      label: 'git',
      status: inRepo || !cwd ? 'ok' : 'warning',
      detail: `${version.stdout.trim()}${cwd ? (inRepo ? `, repository ${top?.stdout.trim()}` : `, ${cwd} is not a repository`) : ''}`,
      ...(inRepo || !cwd ? {} : { remedy: 'git init: dataset history and image labels come from git.' }),
    };
  } catch (error) {
    return { id: 'git', label: 'git', status: 'missing', detail: (error as Error).message, remedy: 'Install git.' };
  }
}
