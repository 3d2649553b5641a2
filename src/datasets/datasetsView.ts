// The Datasets view: the data files of the workspace, the lake's tables with their versions, and
// the pipelines with the last run of each step. A node that cannot be read says why.
import { posix } from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import { formatBytes } from '../shared/formatBytes';
import type { Column, DatasetSummary, LakeTable, LakeTableVersion } from './model';
import type { StepOverview } from './pipelines/pipelineOverview';

export type DatasetNode =
  | { kind: 'file'; uri: vscode.Uri; size: number }
  | { kind: 'column'; column: Column }
  | { kind: 'lake' }
  | { kind: 'table'; table: LakeTable }
  | { kind: 'version'; version: LakeTableVersion }
  | { kind: 'pipelines'; files: string[] }
  | { kind: 'pipeline'; file: string }
  | { kind: 'step'; file: string; step: StepOverview }
  | { kind: 'problem'; message: string };

export interface DatasetSources {
  inspect(path: string): Promise<DatasetSummary>;
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
const STEP_KIND_ICONS: Record<string, string> = {
  ingest: 'cloud-download',
  sql: 'symbol-operator',
  python: 'symbol-method',
  validate: 'checklist',
};

// Counting the rows of a CSV reads it (about 2 s a GB): larger files are counted when expanded.
const AUTO_INSPECT_BYTES = 256 * 1024 * 1024;

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode> {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Row and column counts, read one file at a time in the background, kept until the file changes. */
  private readonly summaries = new Map<
    string,
    { size: number; summary: Promise<DatasetSummary>; done?: DatasetSummary }
  >();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly sources: DatasetSources) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  private summary(node: Extract<DatasetNode, { kind: 'file' }>): Promise<DatasetSummary> {
    const cached = this.summaries.get(node.uri.fsPath);
    if (cached && cached.size === node.size) return cached.summary;
    const entry: { size: number; summary: Promise<DatasetSummary>; done?: DatasetSummary } = {
      size: node.size,
      summary: Promise.resolve() as never,
    };
    entry.summary = this.queue.then(async () => {
      const summary = await this.sources.inspect(node.uri.fsPath).catch((error: unknown): DatasetSummary => ({
        path: node.uri.fsPath,
        format: 'csv',
        rows: 0,
        columns: [],
        bytes: node.size,
        problem: describeError(error),
      }));
      entry.done = summary;
      this.changed.fire(node);
      return summary;
    });
    this.queue = entry.summary;
    this.summaries.set(node.uri.fsPath, entry);
    return entry.summary;
  }

  async getChildren(node?: DatasetNode): Promise<DatasetNode[]> {
    try {
      if (!node) return await this.roots();
      switch (node.kind) {
        case 'file': {
          const summary = await this.summary(node);
          if (summary.problem) return [{ kind: 'problem', message: summary.problem }];
          return summary.columns.map((column) => ({ kind: 'column', column }));
        }
        case 'lake':
          return (await this.sources.lakeTables()).map((table) => ({ kind: 'table', table }));
        case 'table':
          return (await this.sources.lakeVersions(node.table.name))
            .reverse()
            .map((version) => ({ kind: 'version', version }));
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
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return [];
    // Honours .gitignore and files.exclude and skips virtual environments, walking in slices so a huge workspace never freezes.
    const { discoverDatasets } = await import('./findDatasets');
    const { datasets } = await discoverDatasets(folder.uri.fsPath, { exclude: filesExclude(folder) });
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
        const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `file:${node.uri.fsPath}`;
        const folder = posix.dirname(vscode.workspace.asRelativePath(node.uri, false));
        const known = this.summaries.get(node.uri.fsPath);
        if (!known && (node.size <= AUTO_INSPECT_BYTES || node.uri.path.endsWith('.parquet'))) void this.summary(node);
        const counts =
          known?.done && !known.done.problem
            ? `${known.done.rows.toLocaleString('en')} × ${known.done.columns.length}`
            : undefined;
        item.description = [counts, formatBytes(node.size), folder === '.' ? '' : folder].filter(Boolean).join(' · ');
        item.tooltip = `${node.uri.fsPath}\n${formatBytes(node.size)}${counts ? `\n${counts.replace(' × ', ' rows × ')} columns` : ''}${known?.done?.problem ? `\n${known.done.problem}` : ''}`;
        item.iconPath = known?.done?.problem
          ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
          : new vscode.ThemeIcon('table');
        item.contextValue = 'mlops.datasetFile';
        // A preview reads one page; opening a 10 GB CSV in the editor would not.
        item.command = { command: 'mlops.previewDataset', title: 'Preview', arguments: [node] };
        return item;
      }
      case 'column': {
        const item = new vscode.TreeItem(node.column.name);
        item.description = node.column.type;
        item.iconPath = new vscode.ThemeIcon(
          /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/i.test(node.column.type)
            ? 'symbol-number'
            : /DATE|TIME/i.test(node.column.type)
              ? 'calendar'
              : /BOOL/i.test(node.column.type)
                ? 'symbol-boolean'
                : 'symbol-string',
        );
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
        const changes = version.schemaChanges
          .map((c) => `${c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~'}${c.column}`)
          .join(' ');
        item.description = [
          new Date(version.createdAt).toLocaleString(),
          `${version.rows.toLocaleString('en')} rows`,
          changes,
        ]
          .filter(Boolean)
          .join(' · ');
        item.tooltip = [
          version.producedBy
            ? `Written by ${version.producedBy}`
            : `From ${version.sources.map((s) => `${s.path} (${formatBytes(s.bytes)}, sha256 ${s.sha256.slice(0, 12)})`).join('\n')}`,
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
        const item = new vscode.TreeItem(
          vscode.workspace.asRelativePath(node.file),
          vscode.TreeItemCollapsibleState.Expanded,
        );
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

/** The globs of the folder's files.exclude that are on; those that depend on a `when` clause are left out. */
function filesExclude(folder: vscode.WorkspaceFolder): string[] {
  const setting = vscode.workspace.getConfiguration('files', folder).get<Record<string, unknown>>('exclude') ?? {};
  return Object.entries(setting)
    .filter(([, on]) => on === true)
    .map(([glob]) => glob);
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
    arguments: [
      vscode.Uri.file(file),
      {
        selection: new vscode.Range(
          step.position.line - 1,
          step.position.col - 1,
          step.position.line - 1,
          step.position.col - 1,
        ),
      },
    ],
  };
  return item;
}
