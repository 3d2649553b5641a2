// The Deployments view: targets (the local swarm, then remote managers from settings), their
// services with health, replicas, image and revision, and under each service its revisions
// (current and stable marked) and tasks (state, node, errors). A target that cannot be read says
// why, and offers to initialise a swarm when that is what is missing. Also the status bar item
// for the health of the focused deployment.
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
import type { DeploymentStatus, Revision, Task } from './targets/deployTarget';

/** Where the tree reads from; commands.ts backs it with the configured DeployTargets. */
export interface DeploymentsSource {
  /** Every configured target with its deployments, or the problem that kept it from listing them. */
  loadTargets(): Promise<TargetSnapshot[]>;
  history(targetId: string, name: string): Promise<Revision[]>;
  tasks(targetId: string, name: string): Promise<Task[]>;
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
        case 'service':
          return [
            { kind: 'revisions', targetId: node.targetId, name: node.status.name },
            { kind: 'tasks', targetId: node.targetId, name: node.status.name },
          ];
        case 'revisions': {
          const revisions = sortRevisions(await this.source.history(node.targetId, node.name));
          if (!revisions.length) return [{ kind: 'problem', message: 'No revision history was found for this service.' }];
          return revisions.map((revision) => ({ kind: 'revision', targetId: node.targetId, name: node.name, revision }));
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
        return serviceItem(node.targetId, node.targetName, node.status);
      case 'revisions': {
        const item = new vscode.TreeItem('Revisions', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `revisions:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon('history');
        item.contextValue = 'mlops.deploymentRevisions';
        return item;
      }
      case 'tasks': {
        const item = new vscode.TreeItem('Tasks', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `tasks:${node.targetId}/${node.name}`;
        item.iconPath = new vscode.ThemeIcon('list-unordered');
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
    const command = snapshot.problem.kind === 'notSwarm' ? { id: 'mlops.initSwarm', title: 'Initialise a swarm…', targetId } : undefined;
    return [{ kind: 'problem', message: snapshot.problem.message, ...(command ? { command } : {}) }];
  }
  if (!snapshot.deployments.length) return [{ kind: 'empty', targetId }];
  return [...snapshot.deployments]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((status) => ({ kind: 'service', targetId, targetName: snapshot.config.name, status }));
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
    item.iconPath = themeIcon(problem.kind === 'unreachable' || problem.kind === 'error' ? { icon: 'error', color: 'problemsErrorIcon.foreground' } : { icon: 'warning', color: 'problemsWarningIcon.foreground' });
    item.description = problem.kind === 'unreachable' ? 'unreachable' : problem.kind === 'notSwarm' ? 'not a swarm' : problem.kind === 'notManager' ? 'not a manager' : 'cannot list services';
    item.tooltip = `${where}\n\n${problem.message}`;
  } else {
    item.iconPath = new vscode.ThemeIcon(config.local ? 'vm' : 'remote');
    const count = snapshot.deployments.length;
    item.description = `${where} · ${count} deployment${count === 1 ? '' : 's'}`;
    item.tooltip = `Docker Swarm at ${where}`;
  }
  item.contextValue = problem ? (problem.kind === 'notSwarm' ? 'mlops.deployTarget.noSwarm' : 'mlops.deployTarget.problem') : 'mlops.deployTarget';
  return item;
}

function serviceItem(targetId: string, targetName: string, status: DeploymentStatus): vscode.TreeItem {
  const item = new vscode.TreeItem(status.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `service:${targetId}/${status.name}`;
  item.iconPath = themeIcon(HEALTH_ICONS[status.health] ?? HEALTH_ICONS.unknown);
  item.description = serviceDescription(status);
  item.tooltip = markdown(serviceTooltip(status, targetName));
  item.contextValue = status.endpoints.length ? 'mlops.deployment.endpoint' : 'mlops.deployment';
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
  private readonly item = vscode.window.createStatusBarItem('mlops.deploymentHealth', vscode.StatusBarAlignment.Left, 20);

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
    this.item.accessibilityInformation = { label: `Deployment ${status.name}: ${status.replicas.running} of ${status.replicas.desired} replicas, ${status.health}` };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
