// How deployments read in the tree, the pickers and the status bar: health icons and colours,
// descriptions, tooltips. Pure, so the wording is unit-tested.
import type { DeploymentStatus, Health, Revision, Task } from '../targets/deployTarget';

export interface IconSpec {
  /** A codicon id (`pass-filled`, `sync~spin`). */
  icon: string;
  /** A theme colour id, when the icon is coloured. */
  color?: string;
}

export const HEALTH_ICONS: Record<Health, IconSpec> = {
  healthy: { icon: 'pass-filled', color: 'testing.iconPassed' },
  converging: { icon: 'sync~spin', color: 'charts.blue' },
  degraded: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  failed: { icon: 'error', color: 'problemsErrorIcon.foreground' },
  unknown: { icon: 'question' },
};

/** The status bar's background for a health: only warning and error backgrounds exist. */
export function statusBarBackground(
  health: Health,
): 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground' | undefined {
  if (health === 'failed') return 'statusBarItem.errorBackground';
  if (health === 'degraded') return 'statusBarItem.warningBackground';
  return undefined;
}

/** `2025-06-01 14:05` (UTC, as the experiments show times), or the text itself when it is no date. */
export function formatWhen(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Date(time).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * An image as short as it stays unambiguous: Docker Hub's `docker.io/library/` goes, and a digest
 * is cut to 12 hex digits (`repo@sha256:0123456789ab`), or dropped when a tag names the image.
 */
export function shortImage(image: string): string {
  let short = image.replace(/^(docker\.io\/)?library\//, '').replace(/^docker\.io\//, '');
  const at = short.indexOf('@');
  if (at >= 0) {
    const name = short.slice(0, at);
    const digest = short.slice(at + 1);
    const tagged = name.lastIndexOf(':') > name.lastIndexOf('/');
    short = tagged ? name : `${name}@${digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1')}`;
  }
  return short;
}

export function replicasText(status: Pick<DeploymentStatus, 'replicas' | 'health'>): string {
  return `${status.replicas.running}/${status.replicas.desired} ${status.health}`;
}

/** `2/2 healthy · rev 3 · mlops/churn_forest:4f2a…`. */
export function serviceDescription(status: DeploymentStatus): string {
  return [replicasText(status), `rev ${status.revision}`, shortImage(status.image)].join(' · ');
}

/** Markdown (with theme icons) for a service's tooltip: health, replicas, revision, endpoints, the orchestrator's message. */
export function serviceTooltip(status: DeploymentStatus, targetName: string): string {
  const lines = [
    `**${escapeMarkdown(status.name)}** · ${status.health} on ${escapeMarkdown(targetName)}`,
    `Replicas: ${status.replicas.running} running of ${status.replicas.desired} desired`,
    `Revision ${status.revision}: \`${status.image}\``,
    status.endpoints.length
      ? `Endpoints: ${status.endpoints.map((e) => `[${escapeMarkdown(e.url)}](${e.url}) (${e.publishMode})`).join(', ')}`
      : 'Endpoints: none (no port is published)',
  ];
  if (status.message) lines.push(`$(info) ${escapeMarkdown(status.message)}`);
  return lines.join('\n\n');
}

export function revisionLabel(revision: Pick<Revision, 'revision'>): string {
  return `Revision ${revision.revision}`;
}

/** `$(check)` the current revision, `$(pinned)` the stable one, a plain history icon for the rest. */
export function revisionIcon(revision: Pick<Revision, 'current' | 'stable'>): IconSpec {
  if (revision.current) return { icon: 'check', color: 'testing.iconPassed' };
  if (revision.stable) return { icon: 'pinned' };
  return { icon: 'history' };
}

/** `current · stable · 2025-06-01 14:05 · mlops/churn:4f2a · retrained on November data`. */
export function revisionDescription(revision: Revision): string {
  return [
    revision.current ? 'current' : '',
    revision.stable ? 'stable' : '',
    formatWhen(revision.createdAt),
    shortImage(revision.image),
    revision.changeCause,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function revisionTooltip(revision: Revision): string {
  const rows: [string, string | null][] = [
    ['Image', revision.image],
    ['Digest', revision.digest],
    ['Deployed', `${formatWhen(revision.createdAt)}${revision.deployedBy ? ` by ${revision.deployedBy}` : ''}`],
    ['Change cause', revision.changeCause || null],
    ['Git commit', revision.gitCommit],
    ['MLflow run', revision.mlflowRunId],
  ];
  const marks = [revision.current ? 'current' : '', revision.stable ? 'stable' : ''].filter(Boolean).join(', ');
  return [
    `**${revisionLabel(revision)}**${marks ? ` · ${marks}` : ''}`,
    ...rows.filter(([, value]) => value).map(([key, value]) => `${key}: \`${value}\``),
  ].join('\n\n');
}

const RUNNING_STATES = new Set(['running']);
const STARTING_STATES = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
const FAILED_STATES = new Set(['failed', 'rejected', 'orphaned']);

export function taskIcon(task: Pick<Task, 'state' | 'error'>): IconSpec {
  const state = task.state.toLowerCase();
  if (FAILED_STATES.has(state)) return { icon: 'error', color: 'problemsErrorIcon.foreground' };
  if (task.error && !RUNNING_STATES.has(state)) return { icon: 'warning', color: 'problemsWarningIcon.foreground' };
  if (RUNNING_STATES.has(state)) return { icon: 'play-circle', color: 'testing.iconPassed' };
  if (STARTING_STATES.has(state)) return { icon: 'loading~spin' };
  return { icon: 'circle-slash', color: 'disabledForeground' };
}

/** `running` (or `running → shutdown` while Swarm stops it). */
export function taskLabel(task: Task): string {
  const state = task.state.toLowerCase();
  const desired = task.desiredState.toLowerCase();
  return desired && desired !== state && !(desired === 'shutdown' && (state === 'shutdown' || state === 'complete'))
    ? `${state} → ${desired}`
    : state;
}

/** `node-1 · rev 2 · 2025-06-01 14:05 · task 3kd9x0a1b2 · error text`. */
export function taskDescription(task: Task): string {
  const id = task.kind === 'pod' ? `pod ${task.id}` : `task ${task.id.slice(0, 10)}`;
  return [
    task.error ?? '',
    task.node,
    task.revision !== null ? `rev ${task.revision}` : '',
    formatWhen(task.updatedAt),
    id,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function taskTooltip(task: Task): string {
  return [
    `**${task.kind === 'pod' ? 'Pod' : 'Task'} ${task.id}** · ${task.state} (desired: ${task.desiredState})`,
    `Node: ${task.node || 'not scheduled'}`,
    `Image: \`${task.image}\`${task.revision !== null ? ` (revision ${task.revision})` : ''}`,
    `Updated: ${formatWhen(task.updatedAt)}`,
    ...(task.error ? [`$(error) ${escapeMarkdown(task.error)}`] : []),
  ].join('\n\n');
}

/** Tasks that matter first: the ones meant to run, then by the time they last changed, newest first. */
export function sortTasks(tasks: readonly Task[]): Task[] {
  const live = (task: Task) => (task.desiredState.toLowerCase() === 'running' ? 0 : 1);
  return [...tasks].sort(
    (a, b) =>
      live(a) - live(b) || (Date.parse(b.updatedAt) || 0) - (Date.parse(a.updatedAt) || 0) || a.id.localeCompare(b.id),
  );
}

/** Newest first. */
export function sortRevisions(revisions: readonly Revision[]): Revision[] {
  return [...revisions].sort((a, b) => b.revision - a.revision);
}

/** `$(pulse) churn: 2/2 healthy`. */
export function statusBarText(status: DeploymentStatus): string {
  return `$(pulse) ${status.name}: ${replicasText(status)}`;
}

export function statusBarTooltip(status: DeploymentStatus, targetName: string): string {
  return [
    `${status.name} on ${targetName}: ${status.health}`,
    `${status.replicas.running} of ${status.replicas.desired} replicas running, revision ${status.revision} (${shortImage(status.image)})`,
    ...(status.endpoints[0] ? [status.endpoints[0].url] : []),
    ...(status.message ? [status.message] : []),
    'Click to show the Deployments view.',
  ].join('\n');
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
