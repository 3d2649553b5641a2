// The Deployments view: targets (the local swarm, remote managers and Kubernetes contexts from
// settings), their services with health, replicas, image and revision, and under each service its
// revisions (current and stable marked) and tasks or pods (state, node, errors). A Kubernetes
// target shows its namespaces first, its own expanded, and its deployments' events. A target that
// cannot be read says why, and offers to initialise a swarm when that is what is missing. Also the
// status bar item for the health of the focused deployment.
import * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import type { DeploymentNode } from './deployments/nodes';
import {
  HEALTH_ICONS,
  type IconSpec,
  revisionDescription,
  revisionIcon,
  revisionLabel,
  revisionTooltip,
  serviceDescription,
  serviceTooltip,
  sortRevisions,
  sortTasks,
  statusBarBackground,
  statusBarText,
  statusBarTooltip,
  taskDescription,
  taskIcon,
  taskLabel,
  taskTooltip,
} from './deployments/presentation';
import type { TargetSnapshot } from './deployments/targets';
import type { DeploymentEvent, DeploymentStatus, Revision, Task } from './targets/deployTarget';
import type { DeploymentAuditEntry } from './deployments/auditTrail';

/** The newest events a deployment shows; the log of a failed rollout names the ones that matter. */
const EVENTS_SHOWN = 20;

/** Where the tree reads from; commands.ts backs it with the configured DeployTargets. */
export interface DeploymentsSource {
  /** Every configured target with its deployments, or the problem that kept it from listing them. */
  loadTargets(): Promise<TargetSnapshot[]>;
  history(targetId: string, name: string): Promise<Revision[]>;
  tasks(targetId: string, name: string): Promise<Task[]>;
  /** Kubernetes: the deployments of a namespace other than the target's own. */
  deploymentsIn(targetId: string, namespace: string): Promise<{ targetId: string; deployments: DeploymentStatus[] }>;
  events(targetId: string, name: string): Promise<DeploymentEvent[]>;
  /** The monitor's alerts and the reverts, newest first. */
  audit(targetId: string, name: string): Promise<DeploymentAuditEntry[]>;
}

export class DeploymentsTree implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DeploymentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly source: DeploymentsSource) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  async getChildren(node?: DeploymentNode): Promise<DeploymentNode[]> {
    try {
      if (!node) return await this.roots();
      switch (node.kind) {
        case 'target':
          return targetChildren(node.snapshot);
        case 'namespace': {
          if (node.primary) return serviceNodes(node.snapshot, node.targetId, node.snapshot.deployments);
          const listed = await this.source.deploymentsIn(node.targetId, node.namespace);
          if (!listed.deployments.length)
            return [{ kind: 'problem', message: `No MLOps deployments in ${node.namespace}.` }];
          return serviceNodes(node.snapshot, listed.targetId, listed.deployments);
        }
        case 'service': {
          const name = node.status.name;
          const audit: DeploymentNode[] = (await this.source.audit(node.targetId, name).catch(() => [])).length
            ? [{ kind: 'audit', targetId: node.targetId, name }]
            : [];
          if (node.targetKind !== 'kubernetes')
            return [
              { kind: 'revisions', targetId: node.targetId, name },
              ...audit,
              { kind: 'tasks', targetId: node.targetId, name },
            ];
          return [
            { kind: 'revisions', targetId: node.targetId, name },
            ...audit,
            { kind: 'tasks', targetId: node.targetId, name, label: 'Pods' },
            { kind: 'events', targetId: node.targetId, name },
          ];
        }
        case 'events': {
          const events = (await this.source.events(node.targetId, node.name)).slice(-EVENTS_SHOWN).reverse();
          if (!events.length) return [{ kind: 'problem', message: 'No events: Kubernetes keeps them for an hour.' }];
          return events.map((event) => ({ kind: 'event', targetId: node.targetId, name: node.name, event }));
        }
        case 'audit': {
          const entries = (await this.source.audit(node.targetId, node.name)).slice(0, EVENTS_SHOWN);
          return entries.map((entry) => ({ kind: 'auditEntry', targetId: node.targetId, name: node.name, entry }));
        }
        case 'revisions': {
          const revisions = sortRevisions(await this.source.history(node.targetId, node.name));
          if (!revisions.length)
            return [{ kind: 'problem', message: 'No revision history was found for this service.' }];
          return revisions.map((revision) => ({
            kind: 'revision',
            targetId: node.targetId,
            name: node.name,
            revision,
          }));
        }
        case 'tasks': {
          const tasks = sortTasks(await this.source.tasks(node.targetId, node.name));
          if (!tasks.length) return [{ kind: 'problem', message: 'No tasks: the service runs no replicas.' }];
          return tasks.map((task) => ({ kind: 'task', targetId: node.targetId, name: node.name, task }));
        }
        default:
          return [];
      }
    } catch (error) {
      return [{ kind: 'problem', message: describeError(error) }];
    }
  }

  /**
   * The targets. With only the local one and nothing deployed there, nothing: the view's welcome
   * content then says what to do (deploy, start Docker, or initialise a swarm).
   */
  private async roots(): Promise<DeploymentNode[]> {
    const snapshots = await this.source.loadTargets();
    if (snapshots.length === 1 && snapshots[0]!.deployments.length === 0) return [];
    return snapshots.map((snapshot) => ({ kind: 'target', snapshot }));
  }

  getTreeItem(node: DeploymentNode): vscode.TreeItem {
    switch (node.kind) {
      case 'target':
        return targetItem(node.snapshot);
      case 'service':
        return serviceItem(node.targetId, node.targetName, node.status, node.targetKind);
      case 'revisions': {
        const item = new vscode.TreeItem('Revisions', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `revisions:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon('history');
        item.contextValue = 'mlops.deploymentRevisions';
        return item;
      }
      case 'tasks': {
        const item = new vscode.TreeItem(node.label ?? 'Tasks', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `tasks:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon(node.label === 'Pods' ? 'symbol-namespace' : 'list-unordered');
        return item;
      }
      case 'events': {
        const item = new vscode.TreeItem('Events', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `events:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon('bell');
        return item;
      }
      case 'event':
        return eventItem(node.event);
      case 'audit': {
        const item = new vscode.TreeItem('Release History', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `audit:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon('pulse');
        item.tooltip = 'Alerts and reverts, traffic splits, reviews and promotions, newest first';
        return item;
      }
      case 'auditEntry':
        return auditItem(node.entry);
      case 'namespace': {
        const item = new vscode.TreeItem(
          node.namespace,
          node.primary ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `namespace:${node.targetId}`;
        item.iconPath = new vscode.ThemeIcon('symbol-namespace');
        item.description = node.primary ? `deploys here · ${countText(node.snapshot.deployments.length)}` : undefined;
        item.tooltip = node.primary
          ? `Deploy Image puts new deployments in ${node.namespace}.`
          : `Browse ${node.namespace} without switching context.`;
        item.contextValue = 'mlops.kubernetesNamespace';
        return item;
      }
      case 'revision':
        return revisionItem(node.targetId, node.name, node.revision);
      case 'task':
        return taskItem(node.targetId, node.name, node.task);
      case 'empty': {
        const item = new vscode.TreeItem('No deployments yet');
        item.description = 'Deploy an image…';
        item.iconPath = new vscode.ThemeIcon('add');
        item.command = { command: 'mlops.deploy', title: 'Deploy Image', arguments: [node] };
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.message.split('\n')[0] ?? node.message);
        item.iconPath = themeIcon({ icon: 'warning', color: 'problemsWarningIcon.foreground' });
        item.tooltip = node.message;
        if (node.command) {
          item.description = node.command.title;
          item.command = { command: node.command.id, title: node.command.title, arguments: [node] };
        }
        return item;
      }
    }
  }
}

function targetChildren(snapshot: TargetSnapshot): DeploymentNode[] {
  const targetId = snapshot.config.id;
  if (snapshot.problem) {
    const command =
      snapshot.problem.kind === 'notSwarm'
        ? { id: 'mlops.initSwarm', title: 'Initialise a swarm…', targetId }
        : undefined;
    return [{ kind: 'problem', message: snapshot.problem.message, ...(command ? { command } : {}) }];
  }
  if (snapshot.config.kind === 'kubernetes') {
    const [own, ...others] = snapshot.namespaces ?? [];
    return [
      { kind: 'namespace', targetId, namespace: own ?? 'default', primary: true, snapshot },
      ...others.map((namespace): DeploymentNode => ({
        kind: 'namespace',
        targetId: `${targetId.split('#')[0]}#${namespace}`,
        namespace,
        primary: false,
        snapshot,
      })),
    ];
  }
  if (!snapshot.deployments.length) return [{ kind: 'empty', targetId }];
  return serviceNodes(snapshot, targetId, snapshot.deployments);
}

function serviceNodes(snapshot: TargetSnapshot, targetId: string, deployments: DeploymentStatus[]): DeploymentNode[] {
  if (!deployments.length) return [{ kind: 'empty', targetId }];
  return [...deployments]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((status) => ({
      kind: 'service',
      targetId,
      targetName: snapshot.config.name,
      status,
      targetKind: snapshot.config.kind,
    }));
}

function countText(count: number): string {
  return `${count} deployment${count === 1 ? '' : 's'}`;
}

function themeIcon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.icon, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

function markdown(text: string): vscode.MarkdownString {
  const result = new vscode.MarkdownString(text, true);
  result.isTrusted = false;
  return result;
}

function targetItem(snapshot: TargetSnapshot): vscode.TreeItem {
  const { config, problem } = snapshot;
  const item = new vscode.TreeItem(config.name, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `target:${config.id}`;
  const where = snapshot.location || config.dockerHost || 'DOCKER_HOST or the local socket';
  if (problem) {
    item.iconPath = themeIcon(
      problem.kind === 'unreachable' || problem.kind === 'error'
        ? { icon: 'error', color: 'problemsErrorIcon.foreground' }
        : { icon: 'warning', color: 'problemsWarningIcon.foreground' },
    );
    item.description =
      problem.kind === 'unreachable'
        ? 'unreachable'
        : problem.kind === 'notSwarm'
          ? 'not a swarm'
          : problem.kind === 'notManager'
            ? 'not a manager'
            : 'cannot list services';
    item.tooltip = `${where}\n\n${problem.message}`;
  } else if (config.kind === 'kubernetes') {
    item.iconPath = new vscode.ThemeIcon('cloud');
    item.description = `${snapshot.location} · ${countText(snapshot.deployments.length)}`;
    item.tooltip = `Kubernetes: ${snapshot.location}\n\nNamespaces below; Deploy Image deploys to the first.`;
  } else {
    item.iconPath = new vscode.ThemeIcon(config.local ? 'vm' : 'remote');
    item.description = `${where} · ${countText(snapshot.deployments.length)}`;
    item.tooltip = `Docker Swarm at ${where}`;
  }
  item.contextValue = problem
    ? problem.kind === 'notSwarm'
      ? 'mlops.deployTarget.noSwarm'
      : 'mlops.deployTarget.problem'
    : 'mlops.deployTarget';
  return item;
}

function serviceItem(
  targetId: string,
  targetName: string,
  status: DeploymentStatus,
  targetKind: 'swarm' | 'kubernetes' = 'swarm',
): vscode.TreeItem {
  const item = new vscode.TreeItem(status.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `service:${targetId}/${status.name}`;
  item.iconPath = themeIcon(HEALTH_ICONS[status.health] ?? HEALTH_ICONS.unknown);
  item.description = serviceDescription(status);
  item.tooltip = markdown(serviceTooltip(status, targetName));
  // A ClusterIP address only answers inside the cluster: nothing to open from here.
  const reachable = status.endpoints.some((endpoint) => endpoint.publishMode !== 'cluster');
  item.contextValue = `mlops.deployment${reachable ? '.endpoint' : ''}${targetKind === 'kubernetes' ? '.kubernetes' : ''}`;
  return item;
}

function eventItem(event: DeploymentEvent): vscode.TreeItem {
  const item = new vscode.TreeItem(`${event.reason}: ${event.message.split('\n')[0] ?? ''}`);
  item.iconPath = themeIcon(
    event.type === 'Warning' ? { icon: 'warning', color: 'problemsWarningIcon.foreground' } : { icon: 'info' },
  );
  item.description = `${event.object}${event.count > 1 ? ` ×${event.count}` : ''}`;
  item.tooltip = markdown(
    `**${event.type} ${event.reason}** on \`${event.object}\`${event.count > 1 ? ` (${event.count} times)` : ''}, last at ${event.time}\n\n${event.message}`,
  );
  return item;
}

function revisionItem(targetId: string, name: string, revision: Revision): vscode.TreeItem {
  const item = new vscode.TreeItem(revisionLabel(revision));
  item.id = `revision:${targetId}/${name}/${revision.revision}`;
  item.iconPath = themeIcon(revisionIcon(revision));
  item.description = revisionDescription(revision);
  item.tooltip = markdown(revisionTooltip(revision));
  item.contextValue = `mlops.revision${revision.current ? '.current' : ''}${revision.stable ? '.stable' : ''}`;
  return item;
}

function taskItem(targetId: string, name: string, task: Task): vscode.TreeItem {
  const item = new vscode.TreeItem(taskLabel(task));
  item.id = `task:${targetId}/${name}/${task.id}`;
  item.iconPath = themeIcon(taskIcon(task));
  item.description = taskDescription(task);
  item.tooltip = markdown(taskTooltip(task));
  item.contextValue = 'mlops.deployTask';
  return item;
}

/** `$(pulse) churn: 2/2 healthy` for the focused deployment; a click shows the Deployments view. */
export class DeploymentStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'mlops.deploymentHealth',
    vscode.StatusBarAlignment.Left,
    20,
  );

  constructor() {
    this.item.name = 'MLOps Deployment Health';
    this.item.command = 'mlops.deployments.focus';
  }

  update(focused: { status: DeploymentStatus; targetName: string } | undefined): void {
    if (!focused) {
      this.item.hide();
      return;
    }
    const { status, targetName } = focused;
    this.item.text = statusBarText(status);
    this.item.tooltip = statusBarTooltip(status, targetName);
    const background = statusBarBackground(status.health);
    this.item.backgroundColor = background ? new vscode.ThemeColor(background) : undefined;
    this.item.accessibilityInformation = {
      label: `Deployment ${status.name}: ${status.replicas.running} of ${status.replicas.desired} replicas, ${status.health}`,
    };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}

const AUDIT_ICONS: Record<DeploymentAuditEntry['kind'], { icon: string; color: string }> = {
  alert: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  revert: { icon: 'discard', color: 'charts.blue' },
  'revert-failed': { icon: 'error', color: 'problemsErrorIcon.foreground' },
  review: { icon: 'feedback', color: 'charts.green' },
  split: { icon: 'split-horizontal', color: 'charts.purple' },
  promotion: { icon: 'rocket', color: 'charts.green' },
};

function auditLabel(entry: DeploymentAuditEntry): string {
  switch (entry.kind) {
    case 'alert':
      return entry.alert?.rule === 'psi'
        ? `Drift on ${entry.alert.feature}`
        : entry.alert?.rule === 'errorRate'
          ? 'Error rate'
          : 'Latency';
    case 'revert':
      return `Reverted to revision ${entry.toRevision ?? '?'}`;
    case 'revert-failed':
      return 'Revert failed';
    case 'review':
      return 'Review';
    case 'split':
      return 'Traffic split';
    case 'promotion':
      return `Promoted as revision ${entry.toRevision ?? '?'}`;
  }
}

function auditItem(entry: DeploymentAuditEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(auditLabel(entry));
  item.description = `${new Date(entry.at).toLocaleString()} · ${entry.by}`;
  item.tooltip = entry.message;
  item.iconPath = themeIcon(AUDIT_ICONS[entry.kind]);
  return item;
}
