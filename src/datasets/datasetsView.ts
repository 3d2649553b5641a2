// The Datasets view: the data files of the workspace, the lake's tables with their versions, and
// the pipelines with the last run of each step. A node that cannot be read says why.
import { posix } from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import { formatBytes } from './discovery';
import type { LakeTable, LakeTableVersion } from './model';
import type { StepOverview } from './pipelines/pipelineOverview';

export type DatasetNode =
  | { kind: 'file'; uri: vscode.Uri; size: number }
  | { kind: 'lake' }
  | { kind: 'table'; table: LakeTable }
  | { kind: 'version'; version: LakeTableVersion }
  | { kind: 'pipelines'; files: string[] }
  | { kind: 'pipeline'; file: string }
  | { kind: 'step'; file: string; step: StepOverview }
  | { kind: 'problem'; message: string };

export interface DatasetSources {
  lakeTables(): Promise<LakeTable[]>;
  lakeVersions(table: string): Promise<LakeTableVersion[]>;
  pipelineFiles(): Promise<string[]>;
  pipelineSteps(file: string): Promise<StepOverview[]>;
}

const STEP_ICONS: Record<string, { icon: string; color?: string }> = {
  succeeded: { icon: 'pass', color: 'testing.iconPassed' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  skipped: { icon: 'debug-step-over', color: 'disabledForeground' },
  cancelled: { icon: 'circle-slash', color: 'disabledForeground' },
};
const STEP_KIND_ICONS: Record<string, string> = { ingest: 'cloud-download', sql: 'symbol-operator', python: 'symbol-method', validate: 'checklist' };

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode> {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly sources: DatasetSources) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    try {
      if (!node) return await this.roots();
      switch (node.kind) {
        case 'lake':
          return (await this.sources.lakeTables()).map((table) => ({ kind: 'table', table }));
        case 'table':
          return (await this.sources.lakeVersions(node.table.name)).reverse().map((version) => ({ kind: 'version', version }));
        case 'pipelines':
          return node.files.map((file) => ({ kind: 'pipeline', file }));
        case 'pipeline':
          return (await this.sources.pipelineSteps(node.file)).map((step) => ({ kind: 'step', file: node.file, step }));
        default:
          return [];
      }
    } catch (error) {
      return [{ kind: 'problem', message: describeError(error) }];
    }
  }

  private async roots(): Promise<DatasetNode[]> {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!root) return [];
    // Honours .gitignore and skips virtual environments, walking in slices so a huge workspace never freezes.
    const { discoverDatasets } = await import('./discover');
    const { datasets } = await discoverDatasets(root);
    const files = datasets.map((d): DatasetNode => ({ kind: 'file', uri: vscode.Uri.file(d.path), size: d.bytes }));
    const relative = (n: DatasetNode) => (n.kind === 'file' ? vscode.workspace.asRelativePath(n.uri) : '');
    files.sort((a, b) => relative(a).localeCompare(relative(b)));
    const nodes: DatasetNode[] = [...files];
    if ((await this.sources.lakeTables().catch(() => [])).length) nodes.push({ kind: 'lake' });
    const pipelines = await this.sources.pipelineFiles().catch(() => []);
    if (pipelines.length) nodes.push({ kind: 'pipelines', files: pipelines });
    return nodes;
  }

  getTreeItem(node: DatasetNode): vscode.TreeItem {
    switch (node.kind) {
      case 'file': {
        const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.None);
        const folder = posix.dirname(vscode.workspace.asRelativePath(node.uri, false));
        item.description = folder === '.' ? formatBytes(node.size) : `${formatBytes(node.size)} · ${folder}`;
        item.tooltip = `${node.uri.fsPath}\n${formatBytes(node.size)}`;
        item.iconPath = new vscode.ThemeIcon('table');
        item.contextValue = 'mlops.datasetFile';
        // A preview reads one page; opening a 10 GB CSV in the editor would not.
        item.command = { command: 'mlops.previewDataset', title: 'Preview', arguments: [node] };
        return item;
      }
      case 'lake': {
        const item = new vscode.TreeItem('Lake', vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = 'mlops.lake';
        return item;
      }
      case 'table': {
        const { table } = node;
        const item = new vscode.TreeItem(table.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `table:${table.name}`;
        item.iconPath = new vscode.ThemeIcon('layers');
        item.description = `v${table.latest.version} · ${table.latest.rows.toLocaleString('en')} rows × ${table.latest.schema.length} columns`;
        item.tooltip = new vscode.MarkdownString(
          `**${table.name}** · ${table.versions} versions\n\n${table.latest.schema.map((c) => `- \`${c.name}\` ${c.type}`).join('\n')}`,
        );
        item.contextValue = 'mlops.lakeTable';
        return item;
      }
      case 'version': {
        const { version } = node;
        const item = new vscode.TreeItem(`v${version.version}`);
        item.iconPath = new vscode.ThemeIcon(version.schemaChanges.length ? 'diff' : 'versions');
        const changes = version.schemaChanges.map((c) => `${c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~'}${c.column}`).join(' ');
        item.description = [new Date(version.createdAt).toLocaleString(), `${version.rows.toLocaleString('en')} rows`, changes].filter(Boolean).join(' · ');
        item.tooltip = [
          version.producedBy ? `Written by ${version.producedBy}` : `From ${version.sources.map((s) => `${s.path} (${formatBytes(s.bytes)}, sha256 ${s.sha256.slice(0, 12)})`).join('\n')}`,
          ...version.schemaChanges.map((c) => `${c.kind} ${c.column}${c.from ? ` ${c.from} → ${c.to}` : ''}`),
        ].join('\n');
        item.contextValue = 'mlops.lakeVersion';
        return item;
      }
      case 'pipelines': {
        const item = new vscode.TreeItem('Pipelines', vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('type-hierarchy');
        return item;
      }
      case 'pipeline': {
        const item = new vscode.TreeItem(vscode.workspace.asRelativePath(node.file), vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon('symbol-event');
        item.contextValue = 'mlops.pipeline';
        item.resourceUri = vscode.Uri.file(node.file);
        return item;
      }
      case 'step':
        return stepItem(node.file, node.step);
      case 'problem': {
        const item = new vscode.TreeItem(node.message.split('\n')[0]);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.tooltip = node.message;
        return item;
      }
    }
  }
}

function stepItem(file: string, step: StepOverview): vscode.TreeItem {
  const item = new vscode.TreeItem(step.name);
  const status = step.last ? STEP_ICONS[step.last.status] : undefined;
  item.iconPath = status
    ? new vscode.ThemeIcon(status.icon, status.color ? new vscode.ThemeColor(status.color) : undefined)
    : new vscode.ThemeIcon(STEP_KIND_ICONS[step.kind] ?? 'circle-outline');
  const after = step.dependsOn.length ? `after ${step.dependsOn.join(', ')}` : '';
  const last = step.last ? `${step.last.status} ${new Date(step.last.startedAt).toLocaleString()}` : 'never run';
  item.description = [step.kind, step.writes ? `→ ${step.writes}` : '', after, last].filter(Boolean).join(' · ');
  item.tooltip = [step.description, step.last?.message, step.last?.remedy].filter(Boolean).join('\n\n') || undefined;
  item.contextValue = 'mlops.pipelineStep';
  item.command = {
    command: 'vscode.open',
    title: 'Go to step',
    arguments: [vscode.Uri.file(file), { selection: new vscode.Range(step.position.line - 1, step.position.col - 1, step.position.line - 1, step.position.col - 1) }],
  };
  return item;
}
