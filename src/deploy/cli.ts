// `mlops deploy | status | history | rollback | remove | token --target swarm|kubernetes`:
// deployments from a terminal or a CI job, with the same --json output on both targets.
import { badLineStderr } from '../shared/badLines';
import type { CliCommand, CliContext } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { credentialsFor } from '../containerize/registry/registryAuth';
import { DATA_TOKEN_HEADER } from './targets/dataToken';
import type { DeployResult, DeployTarget } from './targets/deployTarget';
import type { TargetConfig } from './deployments/targetConfig';
import { openDeployTarget } from './deployments/targets';

export const TARGET_OPTIONS = {
  target: { type: 'string' },
  name: { type: 'string' },
  'docker-host': { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string' },
  kubeconfig: { type: 'string' },
  gateway: { type: 'string' },
  'proxy-image': { type: 'string' },
} as const;
export const TARGET_USAGE =
  '--target swarm|kubernetes [--docker-host H] [--kubeconfig FILE] [--context C] [--namespace N] [--gateway NAMESPACE/NAME] [--proxy-image IMAGE]';

/** The target of `--target swarm|kubernetes` and its flags, opened as VS Code opens a configured one. */
export async function openTarget(context: CliContext): Promise<DeployTarget> {
  const kind = (context.values.target as string | undefined) ?? 'swarm';
  const text = (key: string) =>
    typeof context.values[key] === 'string' && context.values[key] ? (context.values[key] as string) : '';
  if (kind !== 'swarm' && kind !== 'kubernetes')
    throw new UsageError(`--target ${kind} is not supported; use --target swarm or --target kubernetes`);
  const dockerHost = text('docker-host');
  const config: TargetConfig = {
    id: kind,
    name: kind,
    kind,
    dockerHost: kind === 'swarm' ? dockerHost : '',
    local: false,
    ...(kind === 'kubernetes'
      ? { kubernetes: { kubeconfig: text('kubeconfig'), context: text('context'), namespace: text('namespace') } }
      : {}),
  };
  // The proxy's image, as mlops.proxyImage gives it in VS Code: a flag, or MLOPS_PROXY_IMAGE in CI.
  const proxyImage = text('proxy-image') || process.env.MLOPS_PROXY_IMAGE || '';
  return openDeployTarget(config, {
    credentials: (registry) => credentialsFor(registry),
    dockerHost,
    gateway: text('gateway'),
    onBadRecord: badLineStderr(context.io),
    ...(proxyImage ? { proxyImage } : {}),
  });
}

export function requiredName(context: CliContext): string {
  const name = context.values.name;
  if (typeof name !== 'string' || !name) throw new UsageError('--name NAME is required');
  return name;
}

function wholeNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new UsageError(`${flag} takes a whole number, not '${String(value)}'`);
  return number;
}

/** `--autoscale 2:6` or `2:6:70` (min replicas, max replicas, target CPU %). */
function autoscaleOption(
  value: unknown,
): { minReplicas: number; maxReplicas: number; cpuPercent?: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+):(\d+)(?::(\d+))?$/.exec(String(value));
  if (!match || Number(match[1]) < 1 || Number(match[2]) < Number(match[1]))
    throw new UsageError(`--autoscale takes MIN:MAX[:CPU%] with 1 <= MIN <= MAX, not '${String(value)}'`);
  return {
    minReplicas: Number(match[1]),
    maxReplicas: Number(match[2]),
    ...(match[3] ? { cpuPercent: Number(match[3]) } : {}),
  };
}

function progress(context: CliContext) {
  return { onProgress: ({ message }: { message: string }) => !context.json && context.io.stderr(`${message}\n`) };
}

function report(context: CliContext, result: DeployResult): number {
  if (context.json) context.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.rolledBack)
    context.io.stdout(
      `${result.status.name} was rolled back: ${result.status.message ?? ''}. Revision ${result.status.revision} still serves.\n`,
    );
  else
    context.io.stdout(
      `${result.status.name} runs revision ${result.status.revision} (${result.status.image}), ${result.status.replicas.running}/${result.status.replicas.desired} ${result.status.health}${result.status.endpoints[0] ? ` at ${result.status.endpoints[0].url}` : ''}\n`,
    );
  return result.rolledBack ? 1 : 0;
}

export const deployCommand: CliCommand = {
  name: 'deploy',
  summary: 'Deploy an image as a service that rolls out start-first and rolls back on failure',
  usage: `deploy ${TARGET_USAGE} --image IMAGE --name NAME [--replicas N] [--port P] [--host-port] [--registry HOST[:PORT]] [--change-cause TEXT] [--progress-deadline SECONDS] [--autoscale MIN:MAX[:CPU%]] [--env KEY=VALUE]... [--json]`,
  options: {
    ...TARGET_OPTIONS,
    image: { type: 'string' },
    replicas: { type: 'string' },
    port: { type: 'string' },
    'host-port': { type: 'boolean' },
    registry: { type: 'string' },
    'change-cause': { type: 'string' },
    'progress-deadline': { type: 'string' },
    autoscale: { type: 'string' },
    env: { type: 'string', multiple: true },
  },
  async run(context) {
    const { values } = context;
    if (typeof values.image !== 'string') throw new UsageError('--image IMAGE is required');
    const env = Object.fromEntries(
      ((values.env as string[] | undefined) ?? []).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new UsageError(`--env takes KEY=VALUE, not '${pair}'`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
    const target = await openTarget(context);
    const port = wholeNumber(values.port, '--port');
    const replicas = wholeNumber(values.replicas, '--replicas');
    const progressDeadlineSeconds = wholeNumber(values['progress-deadline'], '--progress-deadline');
    const autoscale = autoscaleOption(values.autoscale);
    const result = await target.deploy(
      {
        name: requiredName(context),
        image: values.image,
        ...(replicas !== undefined ? { replicas } : {}),
        ...(port !== undefined
          ? { publishedPort: port, publishMode: values['host-port'] === true ? 'host' : 'ingress' }
          : {}),
        ...(typeof values.registry === 'string' ? { registry: values.registry } : {}),
        ...(typeof values['change-cause'] === 'string' ? { changeCause: values['change-cause'] } : {}),
        ...(progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds } : {}),
        ...(autoscale ? { autoscale } : {}),
        env,
      },
      progress(context),
    );
    return report(context, result);
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Show a deployment: image, revision, replicas, health and endpoints',
  usage: `status ${TARGET_USAGE} --name NAME [--json]`,
  options: TARGET_OPTIONS,
  async run(context) {
    const status = await (await openTarget(context)).status(requiredName(context));
    if (context.json) context.io.stdout(`${JSON.stringify(status, null, 2)}\n`);
    else
      context.io.stdout(
        `${status.name}: revision ${status.revision}, ${status.image}, ${status.replicas.running}/${status.replicas.desired} ${status.health}${status.endpoints.map((e) => `, ${e.url}`).join('')}\n`,
      );
  },
};

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'List the revisions of a deployment, marking the current and the stable one',
  usage: `history ${TARGET_USAGE} --name NAME [--json]`,
  options: TARGET_OPTIONS,
  async run(context) {
    const revisions = await (await openTarget(context)).history(requiredName(context));
    if (context.json) {
      context.io.stdout(
        `${JSON.stringify(
          revisions.map(({ revision, image, createdAt, changeCause, current, stable }) => ({
            revision,
            image,
            createdAt,
            changeCause,
            current,
            stable,
          })),
          null,
          2,
        )}\n`,
      );
      return;
    }
    for (const r of revisions)
      context.io.stdout(
        `${r.current ? '*' : ' '} ${r.revision}  ${r.createdAt}  ${r.image}  ${r.changeCause}${r.stable ? '  (stable)' : ''}\n`,
      );
  },
};

export const rollbackCommand: CliCommand = {
  name: 'rollback',
  summary: 'Roll a deployment back to its previous revision, or to revision N',
  usage: `rollback ${TARGET_USAGE} --name NAME [--to-revision N] [--json]`,
  options: { ...TARGET_OPTIONS, 'to-revision': { type: 'string' } },
  async run(context) {
    const to = wholeNumber(context.values['to-revision'], '--to-revision');
    return report(context, await (await openTarget(context)).rollback(requiredName(context), to, progress(context)));
  },
};

export const removeCommand: CliCommand = {
  name: 'remove',
  summary: 'Remove a deployment with what belongs to it (router, Service, revision history)',
  usage: `remove ${TARGET_USAGE} --name NAME`,
  options: TARGET_OPTIONS,
  async run(context) {
    const name = requiredName(context);
    await (await openTarget(context)).remove(name);
    context.io.stdout(context.json ? `${JSON.stringify({ removed: name })}\n` : `Removed ${name}\n`);
  },
};

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: "Print a deployment's data token, which its GET /requests and POST /feedback ask for",
  usage: `token ${TARGET_USAGE} --name NAME [--json]`,
  options: TARGET_OPTIONS,
  async run(context) {
    const name = requiredName(context);
    const token = await (await openTarget(context)).dataToken(name);
    context.io.stdout(context.json ? `${JSON.stringify({ name, token, header: DATA_TOKEN_HEADER })}\n` : `${token}\n`);
  },
};
