// The data token of a Swarm deployment: a Swarm secret (mlops-NAME-data-token) made at the first
// deploy, mounted into every Python service of the deployment (model, router-api, variants) as
// /run/secrets/mlops-data-token. Swarm never gives a secret's value back through its API, so it
// is read in a running task of the deployment on this engine.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { MlopsError } from '../../../shared/errors';
import { checkedDataToken, newDataToken } from '../dataToken';
import { listTasks } from './convergence';
import { LABEL, routerApiName } from './labels';

export const DATA_TOKEN_FILE = 'mlops-data-token';
export const DATA_TOKEN_PATH = `/run/secrets/${DATA_TOKEN_FILE}`;
const ENV = `MLOPS_DATA_TOKEN_FILE=${DATA_TOKEN_PATH}`;
const READ = 'import sys; sys.stdout.write(open(sys.argv[1]).read())';

export interface SecretRef {
  id: string;
  name: string;
}

export function dataTokenSecretName(name: string): string {
  return `mlops-${name}-data-token`;
}

async function findSecret(docker: Docker, name: string): Promise<SecretRef | undefined> {
  const wanted = dataTokenSecretName(name);
  // The name filter matches prefixes: keep the one of exactly this name.
  const secrets = await docker.listSecrets({ filters: JSON.stringify({ name: [wanted] }) });
  const found = secrets.find((secret) => secret.Spec?.Name === wanted);
  return found ? { id: found.ID, name: wanted } : undefined;
}

/** The deployment's secret, made with a new token the first time. */
export async function ensureDataTokenSecret(docker: Docker, name: string): Promise<SecretRef> {
  const existing = await findSecret(docker, name);
  if (existing) return existing;
  const secretName = dataTokenSecretName(name);
  try {
    const created = (await docker.createSecret({
      Name: secretName,
      Labels: { [LABEL.deployment]: name, [LABEL.role]: 'data-token' },
      Data: Buffer.from(newDataToken()).toString('base64'),
    })) as Docker.Secret;
    return { id: created.id, name: secretName };
  } catch (error) {
    const made = (error as { statusCode?: number }).statusCode === 409 ? await findSecret(docker, name) : undefined; // made meanwhile by another deploy
    if (made) return made;
    throw error;
  }
}

/** Removes the secret; false when there was none. Fails while a task still uses it. */
export async function removeDataTokenSecret(docker: Docker, name: string): Promise<boolean> {
  const secret = await findSecret(docker, name);
  if (!secret) return false;
  await docker.getSecret(secret.id).remove();
  return true;
}

/** A service spec whose tasks get the secret as a file, and MLOPS_DATA_TOKEN_FILE naming it. */
export function withDataToken(spec: Docker.ServiceSpec, secret: SecretRef): Docker.ServiceSpec {
  const template = spec.TaskTemplate as Docker.ContainerTaskSpec;
  const container = template.ContainerSpec ?? {};
  const others = (container.Secrets ?? []).filter((s) => s.File?.Name !== DATA_TOKEN_FILE);
  const env = (container.Env ?? []).filter((entry) => !entry.startsWith('MLOPS_DATA_TOKEN_FILE='));
  return {
    ...spec,
    TaskTemplate: {
      ...template,
      ContainerSpec: {
        ...container,
        Env: [...env, ENV],
        Secrets: [
          ...others,
          {
            SecretID: secret.id,
            SecretName: secret.name,
            File: { Name: DATA_TOKEN_FILE, UID: '0', GID: '0', Mode: 0o444 },
          },
        ],
      },
    },
  };
}

/** Whether the tasks of a service get the data token. */
export function hasDataToken(spec: Docker.ServiceSpec | undefined): boolean {
  const container = (spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec;
  return Boolean(container?.Secrets?.some((s) => s.File?.Name === DATA_TOKEN_FILE) && container.Env?.includes(ENV));
}

/** The token, read from the secret's file in a running task of the deployment on this engine. */
export async function readDataToken(docker: Docker, name: string, location: string): Promise<string> {
  if (!(await findSecret(docker, name))) {
    throw new MlopsError(
      `${name} on ${location} has no data token (no secret ${dataTokenSecretName(name)}).`,
      `Deploy it again: deploys make one.`,
    );
  }
  const tasks = await listTasks(docker, { service: [name, routerApiName(name)], 'desired-state': ['running'] });
  const containers = tasks
    .filter((task) => task.Status?.State === 'running')
    .map((task) => task.Status?.ContainerStatus?.ContainerID ?? '')
    .filter(Boolean);
  const failures: string[] = [];
  for (const id of containers) {
    try {
      return checkedDataToken(
        await execRead(docker.getContainer(id)),
        `${DATA_TOKEN_PATH} of container ${id.slice(0, 12)}`,
      );
    } catch (error) {
      if (error instanceof MlopsError) throw error;
      failures.push(`${id.slice(0, 12)}: ${(error as Error).message}`);
    }
  }
  const why = containers.length
    ? `none of its running containers could be read here (${failures.join('; ')})`
    : 'no task of it runs';
  throw new MlopsError(
    `The data token of ${name} cannot be read from the Docker Engine at ${location}: Swarm does not give secrets back, and ${why}.`,
    `Point mlops.dockerHost (or --docker-host) at a node that runs a task of ${name}, or read it there: docker exec CONTAINER cat ${DATA_TOKEN_PATH}.`,
  );
}

async function execRead(container: Docker.Container): Promise<string> {
  const exec = await container.exec({
    Cmd: ['python3', '-c', READ, DATA_TOKEN_PATH],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  const text = (out: PassThrough) => {
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    return () => Buffer.concat(chunks).toString('utf8');
  };
  const [out, err] = [text(stdout), text(stderr)];
  container.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0)
    throw new Error(`reading ${DATA_TOKEN_PATH} failed (exit ${ExitCode}): ${err().trim().split('\n').at(-1) ?? ''}`);
  return out();
}
