// What this machine offers the MLOps workflow: Python and its ML packages, a Docker Engine
// (and whether it is a swarm manager), Kubernetes contexts and git. Used by the environment
// panel and `mlops doctor`.
import { delimiter } from 'node:path';
import type { EnvironmentCheck } from './contract';
import { kubernetesClient, kubernetesError } from '../deploy/targets/kubernetes/client';
import { kubeconfigFiles, openCluster } from '../deploy/targets/kubernetes/kubeconfig';
import { describeError } from '../shared/errors';
import { runProgram } from '../shared/process';
import { redactUserInfo } from '../shared/redact';
import { pingDockerEngine, resolveDockerHost } from './dockerPing';

export interface EnvironmentOptions {
  pythonPath?: string;
  dockerHost?: string;
  /** mlops.kubeconfig: one file, or several joined as in KUBECONFIG. */
  kubeconfig?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const PYTHON_PACKAGES = ['mlflow', 'scikit-learn', 'pandas'];
const KUBERNETES_CHECK_MS = 3000;

export async function checkEnvironment(options: EnvironmentOptions = {}): Promise<EnvironmentCheck[]> {
  const env = options.env ?? process.env;
  const [python, docker, kubernetes, git] = await Promise.all([
    checkPython(options.pythonPath || 'python3'),
    checkDocker(resolveDockerHost(options.dockerHost, env)),
    checkKubernetes(options.kubeconfig, env),
    checkGit(options.cwd),
  ]);
  // A Docker host or API server may hold credentials (tcp://user:pw@host): details never show them.
  return [...python, ...docker, kubernetes, git].map((check) => ({ ...check, detail: redactUserInfo(check.detail) }));
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
  const checks: EnvironmentCheck[] = [
    { id: 'python', label: 'Python', status: 'ok', detail: `${python}: Python ${lines[0]}` },
  ];
  for (const line of lines.slice(1)) {
    const [name, version] = line.split(' ');
    checks.push(
      version === '-'
        ? {
            id: `python:${name}`,
            label: name,
            status: 'warning',
            detail: `not installed for ${python}`,
            remedy: `pip install ${name}`,
          }
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
      {
        id: 'docker',
        label: 'Docker Engine',
        status: 'ok',
        detail: `${engine.version} (API ${engine.apiVersion}) at ${host}`,
      },
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

/**
 * The kubeconfig files (mlops.kubeconfig, else every file of KUBECONFIG, else ~/.kube/config),
 * their current context, and whether its API server answers (a few seconds at most).
 */
async function checkKubernetes(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): Promise<EnvironmentCheck> {
  const files = kubeconfigFiles(kubeconfig, env);
  const check = { id: 'kubernetes', label: 'Kubernetes' } as const;
  const { existsSync } = await import('node:fs');
  if (!files.some((file) => existsSync(file))) {
    return {
      ...check,
      status: 'warning',
      detail: `no kubeconfig at ${files.join(delimiter)}`,
      remedy: 'Optional: set KUBECONFIG (or mlops.kubeconfig) to deploy to Kubernetes.',
    };
  }
  let cluster: Awaited<ReturnType<typeof openCluster>>;
  try {
    // A missing file in KUBECONFIG is passed over, as kubectl does; a check waits a few seconds, not a call's 30.
    cluster = await openCluster({ kubeconfig: files.join(delimiter), timeoutMs: KUBERNETES_CHECK_MS });
  } catch (error) {
    return {
      ...check,
      status: 'warning',
      detail: describeError(error),
      remedy: 'kubectl config use-context NAME picks a context that exists.',
    };
  }
  const where = `${cluster.files.join(delimiter)}, current context ${cluster.context} (${cluster.server})`;
  try {
    const { VersionApi } = await kubernetesClient();
    const version = await cluster.config.makeApiClient(VersionApi).getCode();
    return { ...check, status: 'ok', detail: `${where}, Kubernetes ${version.gitVersion}` };
  } catch (error) {
    return {
      ...check,
      status: 'warning',
      detail: `${where}: ${kubernetesError(error, 'read its version', cluster).message}`,
      remedy: 'Start the cluster or check the network, or pick another context.',
    };
  }
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
