// The Experiments view: experiments, their runs (nested under their parents), and registered
// models with their versions and aliases. A node that cannot be read says why and which file.
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import type { Experiment, ModelVersion, RegisteredModel, Run, TrackingStore } from './model';
import { parseOrderBy } from './runQuery';
import { GIT_COMMIT_TAG, nestRuns, runDescription, runLabel, STATUS_ICONS } from './runPresentation';

export type ExperimentNode =
  | { kind: 'experiment'; experiment: Experiment }
  | { kind: 'run'; run: Run }
  | { kind: 'more'; experimentId: string; remaining: number }
  | { kind: 'models'; models: RegisteredModel[] }
  | { kind: 'model'; model: RegisteredModel }
  | { kind: 'version'; version: ModelVersion }
  | { kind: 'problem'; message: string };

const PAGE = 200;

export interface RunQueryState {
  filter?: string;
  orderBy?: string;
}

/** Reads the store lazily, one experiment at a time, and keeps what it read until refreshed. */
export class ExperimentsTree implements vscode.TreeDataProvider<ExperimentNode> {
  private readonly changed = new vscode.EventEmitter<ExperimentNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly runsByExperiment = new Map<string, { roots: Run[]; children: Map<string, Run[]> }>();
  private readonly shown = new Map<string, number>();
  private storeProblem: string | undefined;
  query: RunQueryState = {};

  constructor(private readonly store: () => Promise<TrackingStore | undefined>) {}

  refresh(): void {
    this.runsByExperiment.clear();
    this.changed.fire(undefined);
  }

  showMore(experimentId: string): void {
    this.shown.set(experimentId, (this.shown.get(experimentId) ?? PAGE) + PAGE);
    this.changed.fire(undefined);
  }

  /** Runs currently read, for live updates and panels. */
  loadedRuns(): Run[] {
    return [...this.runsByExperiment.values()].flatMap(({ roots, children }) => [
      ...roots,
      ...[...children.values()].flat(),
    ]);
  }

  get problem(): string | undefined {
    return this.storeProblem;
  }

  async getChildren(node?: ExperimentNode): Promise<ExperimentNode[]> {
    try {
      const store = await this.store();
      if (!store) return [];
      this.storeProblem = undefined;
      if (!node) return await this.roots(store);
      switch (node.kind) {
        case 'experiment':
          return node.experiment.problem ? [] : await this.experimentRuns(store, node.experiment.id);
        case 'run':
          return (this.runsByExperiment.get(node.run.experimentId)?.children.get(node.run.runId) ?? []).map((run) => ({
            kind: 'run',
            run,
          }));
        case 'models':
          return node.models.map((model) => ({ kind: 'model', model }));
        case 'model':
          return [...node.model.versions].reverse().map((version) => ({ kind: 'version', version }));
        default:
          return [];
      }
    } catch (error) {
      this.storeProblem = describeError(error);
      return [{ kind: 'problem', message: this.storeProblem }];
    }
  }

  private async roots(store: TrackingStore): Promise<ExperimentNode[]> {
    const experiments = (await store.listExperiments()).filter((e) => e.lifecycleStage === 'active');
    const nodes: ExperimentNode[] = experiments.map((experiment) => ({ kind: 'experiment', experiment }));
    const models = await store.listRegisteredModels().catch(() => []);
    if (models.length) nodes.push({ kind: 'models', models });
    return nodes;
  }

  private async experimentRuns(store: TrackingStore, experimentId: string): Promise<ExperimentNode[]> {
    let nested = this.runsByExperiment.get(experimentId);
    if (!nested) {
      const { runs } = await store.searchRuns({
        experimentIds: [experimentId],
        filter: this.query.filter,
        orderBy: this.query.orderBy ? [this.query.orderBy] : undefined,
      });
      nested = nestRuns(runs);
      this.runsByExperiment.set(experimentId, nested);
    }
    const limit = this.shown.get(experimentId) ?? PAGE;
    const nodes: ExperimentNode[] = nested.roots.slice(0, limit).map((run) => ({ kind: 'run', run }));
    if (nested.roots.length > limit) nodes.push({ kind: 'more', experimentId, remaining: nested.roots.length - limit });
    return nodes;
  }

  getTreeItem(node: ExperimentNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment':
        return experimentItem(node.experiment);
      case 'run':
        return this.runItem(node.run);
      case 'more': {
        const item = new vscode.TreeItem(
          `Show ${Math.min(PAGE, node.remaining)} more runs (${node.remaining} not shown)`,
        );
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'mlops.showMoreRuns', title: 'Show more', arguments: [node.experimentId] };
        return item;
      }
      case 'models': {
        const item = new vscode.TreeItem('Registered Models', vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('library');
        item.description = `${node.models.length}`;
        return item;
      }
      case 'model': {
        const item = new vscode.TreeItem(node.model.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('package');
        const aliases = Object.entries(node.model.aliases).map(([alias, version]) => `@${alias} → v${version}`);
        item.description = [`${node.model.versions.length} versions`, ...aliases].join(' · ');
        item.tooltip = node.model.description || undefined;
        item.contextValue = 'mlops.registeredModel';
        return item;
      }
      case 'version': {
        const { version } = node;
        const item = new vscode.TreeItem(`v${version.version}`);
        item.iconPath = new vscode.ThemeIcon(version.aliases.length ? 'tag' : 'versions');
        item.description = [
          ...version.aliases.map((a) => `@${a}`),
          version.stage && version.stage !== 'None' ? version.stage : '',
          version.runId ? `run ${version.runId.slice(0, 8)}` : '',
          version.status ?? '',
        ]
          .filter(Boolean)
          .join(' · ');
        item.tooltip = version.source;
        item.contextValue = 'mlops.modelVersion';
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.message.split('\n')[0]);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.tooltip = node.message;
        return item;
      }
    }
  }

  private runItem(run: Run): vscode.TreeItem {
    const hasChildren = (this.runsByExperiment.get(run.experimentId)?.children.get(run.runId)?.length ?? 0) > 0;
    const item = new vscode.TreeItem(
      runLabel(run),
      hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `run:${run.runId}`;
    const status = STATUS_ICONS[run.status];
    item.iconPath = run.problem
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
      : new vscode.ThemeIcon(status.icon, status.color ? new vscode.ThemeColor(status.color) : undefined);
    const sortMetric = this.query.orderBy ? parseOrderBy([this.query.orderBy])[0] : undefined;
    const description = runDescription(run, Date.now(), sortMetric?.entity === 'metrics' ? [sortMetric.key] : []);
    item.description = run.problem ? [shortProblem(run.problem), description].filter(Boolean).join(' · ') : description;
    item.tooltip = runTooltip(run);
    item.contextValue = run.tags[GIT_COMMIT_TAG] ? 'mlops.run.git' : 'mlops.run';
    item.command = { command: 'mlops.openMetrics', title: 'Chart Metrics', arguments: [{ kind: 'run', run }] };
    return item;
  }
}

function experimentItem(experiment: Experiment): vscode.TreeItem {
  const item = new vscode.TreeItem(
    experiment.name,
    experiment.problem ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = `experiment:${experiment.id}`;
  item.iconPath = experiment.problem
    ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
    : new vscode.ThemeIcon('beaker');
  item.description = experiment.problem ? shortProblem(experiment.problem) : `#${experiment.id}`;
  item.tooltip = experiment.problem ?? experiment.artifactLocation;
  item.contextValue = 'mlops.experiment';
  return item;
}

/** A problem's first line, with paths inside the workspace made relative: the tooltip has the rest. */
function shortProblem(problem: string): string {
  const first = problem.split('\n')[0];
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return root ? first.split(`${root}${sep}`).join('') : first;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function runTooltip(run: Run): vscode.MarkdownString {
  const table = (title: string, entries: [string, string][]) =>
    entries.length
      ? `\n\n**${title}**\n\n| | |\n|---|---|\n${entries.map(([k, v]) => `| ${escapeMarkdown(k)} | ${escapeMarkdown(v.length > 80 ? `${v.slice(0, 77)}…` : v)} |`).join('\n')}`
      : '';
  const userTags = Object.entries(run.tags).filter(([k]) => !k.startsWith('mlflow.') || k === GIT_COMMIT_TAG);
  const markdown = new vscode.MarkdownString(
    `**${escapeMarkdown(runLabel(run))}** · ${run.status}\n\n\`${run.runId}\`` +
      (run.problem ? `\n\n$(warning) ${escapeMarkdown(run.problem)}` : '') +
      table(
        'Metrics',
        Object.entries(run.metrics).map(([k, v]) => [k, String(v)]),
      ) +
      table('Params', Object.entries(run.params)) +
      table('Tags', userTags),
    true,
  );
  return markdown;
}
