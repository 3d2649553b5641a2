// Waiting for a service to converge: every desired task running (and healthy, for images with a
// health check), or Swarm's own verdict on an update: completed, or rolled back and why.
import type Docker from 'dockerode';
import { MlopsError } from '../../../shared/errors';
import type { DeployProgress } from '../deployTarget';

export interface Convergence {
  rolledBack: boolean;
  message: string | null;
}

export interface WaitOptions {
  signal?: AbortSignal;
  onProgress?(progress: DeployProgress): void;
  timeoutMs?: number;
  /** For updates: the update that started after this time is the one to follow. */
  updatedAfter?: Date;
}

const POLL_MS = 500;

/** A task as the engine lists it (dockerode leaves the list untyped). */
export interface SwarmTask {
  ID?: string;
  NodeID?: string;
  DesiredState?: string;
  UpdatedAt?: string;
  Spec?: { ContainerSpec?: { Image?: string; Labels?: Record<string, string> } };
  Status?: { State?: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string } };
}

export async function listTasks(docker: Docker, filters: Record<string, string[]>): Promise<SwarmTask[]> {
  return (await docker.listTasks({ filters: JSON.stringify(filters) })) as SwarmTask[];
}

export async function waitForConvergence(
  docker: Docker,
  name: string,
  options: WaitOptions = {},
): Promise<Convergence> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  let lastMessage = '';
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted();
    const service = await inspect(docker, name);
    const desired = service.Spec?.Mode?.Replicated?.Replicas ?? 1;
    const tasks = await listTasks(docker, { service: [name], 'desired-state': ['running'] });
    const running = tasks.filter((task) => task.Status?.State === 'running').length;
    const update = service.UpdateStatus;
    const ours =
      !options.updatedAfter ||
      (update?.StartedAt !== undefined &&
        new Date(update.StartedAt) >= new Date(options.updatedAfter.getTime() - 1000));
    const state = ours ? update?.State : undefined;
    const message = `${name}: ${running}/${desired} running${state ? `, update ${state.replace('_', ' ')}` : ''}`;
    if (message !== lastMessage)
      options.onProgress?.({ message, fraction: desired ? Math.min(running / desired, 1) : 1 });
    lastMessage = message;
    if (state === 'rollback_completed')
      return { rolledBack: true, message: update?.Message ?? 'Swarm rolled the update back' };
    if (state === 'paused' || state === 'rollback_paused') {
      throw new MlopsError(
        `The update of ${name} is paused: ${update?.Message ?? 'a task failed'}.`,
        'Look at its tasks and logs, then roll back or deploy again.',
      );
    }
    const updating = options.updatedAfter && (!ours || state === 'updating' || state === 'rollback_started');
    if (!updating && running >= desired && (await allHealthy(docker, tasks)))
      return { rolledBack: false, message: update?.Message ?? null };
    if (!options.updatedAfter) await failOnCrashLoop(docker, name);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new MlopsError(
    `${name} did not converge within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s.`,
    'Look at its tasks and logs in the Deployments view.',
  );
}

async function inspect(docker: Docker, name: string): Promise<Docker.Service> {
  try {
    return (await docker.getService(name).inspect()) as Docker.Service;
  } catch (error) {
    throw new MlopsError(
      `Lost sight of ${name} while waiting for it to converge: ${(error as Error).message}`,
      'The service keeps its last state; check it with mlops status or the Deployments view.',
    );
  }
}

/** Tasks of images with a health check count only once Docker calls them healthy. */
async function allHealthy(docker: Docker, tasks: SwarmTask[]): Promise<boolean> {
  for (const task of tasks) {
    const id = task.Status?.ContainerStatus?.ContainerID;
    if (!id) return false;
    const container = await docker
      .getContainer(id)
      .inspect()
      .catch(() => undefined);
    const health = container?.State.Health?.Status;
    if (health && health !== 'healthy') return false;
  }
  return true;
}

/** A new service whose tasks keep failing will never converge: say why now, with the task's error. */
async function failOnCrashLoop(docker: Docker, name: string): Promise<void> {
  const tasks = await listTasks(docker, { service: [name] });
  const failed = tasks.filter((task) => ['failed', 'rejected'].includes(task.Status?.State ?? ''));
  if (failed.length < 3) return;
  const last = failed.sort((a, b) => (b.UpdatedAt ?? '').localeCompare(a.UpdatedAt ?? ''))[0]!;
  throw new MlopsError(
    `${name} keeps failing to start: ${last.Status?.Err ?? last.Status?.Message ?? 'its tasks fail'}.`,
    'Look at its logs (MLOps: Show Deployment Logs), then fix the image and deploy again.',
  );
}
