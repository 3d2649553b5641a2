// The Experiments view and its commands: switch store, filter, sort, chart, compare, open a
// run's commit. Updates live: local stores are watched, running runs are polled.
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { guardedCommand } from '../host/guardedCommand';
import { setting, userSetting, workspaceRoot } from '../host/settings';
import { describeError } from '../shared/errors';
import { secretOrigin, setHostSecret } from '../shared/hostSecrets';
import { redactUserInfo } from '../shared/redact';
import type { Logger } from '../shared/logger';
import { ExperimentsTree, type ExperimentNode } from './experimentsView';
import type { Run } from './model';
import { parseFilter, parseOrderBy } from './runQuery';
import { GIT_COMMIT_TAG } from './runPresentation';
import { findStores } from './storeLocator';
import { TrackingStoreHolder } from './trackingStoreHolder';
import { resolveTrackingStore, type ResolveTrackingStore, type TrackingSources } from './trackingStoreResolver';

type Log = vscode.LogOutputChannel & Logger;

function selectedRuns(
  node: ExperimentNode | undefined,
  selection: readonly ExperimentNode[] | undefined,
  view: vscode.TreeView<ExperimentNode>,
): Run[] {
  const nodes = selection?.length ? selection : node ? [node] : view.selection;
  return nodes.filter((n): n is Extract<ExperimentNode, { kind: 'run' }> => n.kind === 'run').map((n) => n.run);
}

/** The extension's sources of the tracking store: the mlops.trackingUri setting, the environment, the workspace. */
function editorTrackingSources(): Omit<TrackingSources, 'secrets'> {
  return { setting: setting('trackingUri', ''), env: process.env, workspaceRoot: workspaceRoot() };
}

/** The tracking store the extension reads: the holder the Experiments view keeps open, and the one rule's answer for other areas. */
export interface EditorTracking {
  holder: TrackingStoreHolder;
  /** The tracking store and its credentials (SecretStorage per origin), resolved anew. */
  resolve: ResolveTrackingStore;
}

export function createEditorTracking(context: vscode.ExtensionContext, log: Log): EditorTracking {
  const holder = new TrackingStoreHolder({
    sources: editorTrackingSources,
    userTrackingUri: () => userSetting<string>('trackingUri') || process.env.MLFLOW_TRACKING_URI,
    secrets: context.secrets,
    log,
  });
  context.subscriptions.push(holder);
  return { holder, resolve: () => resolveTrackingStore({ ...editorTrackingSources(), secrets: context.secrets }) };
}

export function registerExperimentCommands(
  context: vscode.ExtensionContext,
  log: Log,
  { holder }: EditorTracking,
): void {
  const tree = new ExperimentsTree(async () => (await holder.current())?.store);
  const view = vscode.window.createTreeView('mlops.experiments', {
    treeDataProvider: tree,
    canSelectMany: true,
    showCollapseAll: true,
  });
  context.subscriptions.push(view);

  const describeView = async () => {
    const current = await holder.current().catch(() => undefined);
    const parts = [
      current
        ? `${current.store.kind === 'rest' ? current.store.location : vscode.workspace.asRelativePath(current.store.location)}`
        : '',
    ];
    if (tree.query.filter) parts.push(`filter: ${tree.query.filter}`);
    if (tree.query.orderBy) parts.push(`by ${tree.query.orderBy}`);
    view.description = parts.filter(Boolean).join(' · ');
    void vscode.commands.executeCommand(
      'setContext',
      'mlops.experiments.filtered',
      Boolean(tree.query.filter || tree.query.orderBy),
    );
  };
  const refresh = () => {
    tree.refresh();
    void describeView();
  };
  const reopen = async () => {
    await holder.reset();
    watchStore();
    refresh();
  };

  // Local stores change under MLflow's feet: watch them, and coalesce bursts of writes.
  let watcher: vscode.Disposable | undefined;
  let debounce: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    clearTimeout(debounce);
    debounce = setTimeout(refresh, 1000);
  };
  const watchStore = () => {
    watcher?.dispose();
    void holder.current().then(
      (current) => {
        if (!current || current.store.kind === 'rest') return;
        const location = current.store.location;
        // mlflow.db changes through its -wal and -journal files as well.
        const pattern =
          current.store.kind === 'sqlite'
            ? new vscode.RelativePattern(vscode.Uri.file(dirname(location)), `${basename(location)}*`)
            : new vscode.RelativePattern(vscode.Uri.file(location), '**');
        const fsWatcher = vscode.workspace.createFileSystemWatcher(pattern);
        fsWatcher.onDidChange(scheduleRefresh);
        fsWatcher.onDidCreate(scheduleRefresh);
        fsWatcher.onDidDelete(scheduleRefresh);
        watcher = fsWatcher;
      },
      () => undefined,
    );
  };
  let poll: NodeJS.Timeout | undefined;
  context.subscriptions.push({ dispose: () => (clearInterval(poll), clearTimeout(debounce), watcher?.dispose()) });
  // Finding the store scans the workspace and reading settings is slow the first time: both
  // happen after activation, not during it.
  setImmediate(() => {
    watchStore();
    void describeView();
    // Running runs are polled too: a tracking server cannot be watched, and file events may be missed.
    poll = setInterval(
      () => {
        if (view.visible && tree.loadedRuns().some((run) => run.status === 'RUNNING')) refresh();
      },
      Math.max(2, setting('experiments.pollSeconds', 5)) * 1000,
    );
  });

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('mlops.trackingUri')) void reopen();
    }),
    vscode.commands.registerCommand('mlops.refreshExperiments', refresh),
    vscode.commands.registerCommand('mlops.showMoreRuns', (experimentId: string) => tree.showMore(experimentId)),
    guardedCommand('mlops.selectTrackingStore', log, async () => {
      const root = workspaceRoot();
      const found = root ? findStores(root) : [];
      const items: (vscode.QuickPickItem & { uri?: string; enter?: boolean })[] = [
        ...found.map((path) => ({
          label: vscode.workspace.asRelativePath(path),
          description: path.endsWith('.db') ? 'SQLite store' : 'mlruns/ file store',
          uri: path,
        })),
        ...(process.env.MLFLOW_TRACKING_URI
          ? [{ label: redactUserInfo(process.env.MLFLOW_TRACKING_URI), description: 'MLFLOW_TRACKING_URI', uri: '' }]
          : []),
        {
          label: '$(edit) Enter a tracking URI…',
          description: 'sqlite:///path, a folder, or http(s)://server',
          enter: true,
        },
      ];
      const picked = await vscode.window.showQuickPick(items, {
        title: 'MLflow tracking store',
        placeHolder: 'Where the Experiments view reads runs from',
      });
      if (!picked) return;
      const uri = picked.enter
        ? await vscode.window.showInputBox({
            title: 'MLflow tracking URI',
            prompt: 'sqlite:///path/mlflow.db, path/to/mlruns, or http://host:5000',
            value: setting('trackingUri', ''),
          })
        : picked.uri;
      if (uri === undefined) return;
      await vscode.workspace.getConfiguration('mlops').update('trackingUri', uri, vscode.ConfigurationTarget.Workspace);
      log.info(`experiments: reading ${uri || 'MLFLOW_TRACKING_URI or the workspace'}`);
    }),
    guardedCommand('mlops.setTrackingToken', log, async () => {
      await holder.migrateToken();
      const current = await holder.current().catch(() => undefined);
      const server = await vscode.window.showInputBox({
        title: 'Set Tracking Server Token (1/2): for which server?',
        prompt: 'The token is sent to this server (scheme, host and port) only.',
        value: current?.store.kind === 'rest' ? secretOrigin(current.store.location) : '',
        placeHolder: 'https://mlflow.example.com',
        ignoreFocusOut: true,
        validateInput: (text) => {
          try {
            secretOrigin(text);
            return undefined;
          } catch (error) {
            return describeError(error);
          }
        },
      });
      if (!server) return;
      const origin = secretOrigin(server);
      const token = await vscode.window.showInputBox({
        title: `Set Tracking Server Token (2/2): the token for ${origin}`,
        prompt:
          'Kept in VS Code SecretStorage for this server only; MLFLOW_TRACKING_TOKEN, when set for this server, takes precedence. Leave empty to forget the stored one.',
        password: true,
        ignoreFocusOut: true,
      });
      if (token === undefined) return;
      await setHostSecret(context.secrets, 'trackingToken', origin, token.trim());
      log.info(`experiments: ${token.trim() ? 'a token is stored' : 'the token was removed'} for ${origin}`);
      void vscode.window.showInformationMessage(
        token.trim()
          ? `The token for ${origin} is kept in VS Code's secret storage and sent to ${origin} only.`
          : `The token for ${origin} was removed.`,
      );
      await reopen();
    }),
    guardedCommand('mlops.filterRuns', log, async () => {
      const filter = await vscode.window.showInputBox({
        title: 'Filter runs',
        prompt: "MLflow syntax: metrics.acc > 0.9 AND params.model = 'rf' (operators = != < > <= >= LIKE ILIKE IN)",
        value: tree.query.filter ?? '',
        validateInput: (text) => {
          try {
            parseFilter(text);
            return undefined;
          } catch (error) {
            return describeError(error);
          }
        },
      });
      if (filter === undefined) return;
      tree.query = { ...tree.query, filter: filter.trim() || undefined };
      refresh();
    }),
    guardedCommand('mlops.sortRuns', log, async () => {
      const runs = tree.loadedRuns();
      const keys = (pick: (run: Run) => string[]) => [...new Set(runs.flatMap(pick))].sort();
      const fields = [
        'attributes.start_time',
        'attributes.end_time',
        'attributes.run_name',
        'attributes.status',
        ...keys((r) => Object.keys(r.metrics)).map((k) => `metrics.\`${k}\``),
        ...keys((r) => Object.keys(r.params)).map((k) => `params.\`${k}\``),
      ];
      const field = await vscode.window.showQuickPick([...fields, 'Enter another field…'], {
        title: 'Sort runs by',
        placeHolder: 'a metric, a param or an attribute',
      });
      if (!field) return;
      const chosen =
        field === 'Enter another field…'
          ? await vscode.window.showInputBox({
              title: 'Sort runs by',
              prompt: 'metrics.KEY, params.KEY, tags.KEY or attributes.NAME',
            })
          : field;
      if (!chosen) return;
      const direction = await vscode.window.showQuickPick(['Descending', 'Ascending'], { title: `Sort by ${chosen}` });
      if (!direction) return;
      const orderBy = `${chosen} ${direction === 'Descending' ? 'DESC' : 'ASC'}`;
      parseOrderBy([orderBy]);
      tree.query = { ...tree.query, orderBy };
      refresh();
    }),
    vscode.commands.registerCommand('mlops.clearRunFilter', () => {
      tree.query = {};
      refresh();
    }),
    guardedCommand('mlops.openMetrics', log, async (node?: ExperimentNode, selection?: ExperimentNode[]) => {
      const runs = selectedRuns(node, selection, view);
      const current = await holder.current();
      if (!current || runs.length === 0) {
        void vscode.window.showInformationMessage(
          'Select one or more runs in the Experiments view to chart their metrics.',
        );
        return;
      }
      (await import('./metricsPanel')).showMetricsPanel(context, log, current.store, runs);
    }),
    guardedCommand('mlops.compareRuns', log, async (node?: ExperimentNode, selection?: ExperimentNode[]) => {
      const runs = selectedRuns(node, selection, view);
      const current = await holder.current();
      if (!current || runs.length < 2) {
        void vscode.window.showInformationMessage('Select two or more runs (Ctrl or Shift click) to compare them.');
        return;
      }
      const { showComparePanel } = await import('./comparePanel');
      const { showMetricsPanel } = await import('./metricsPanel');
      showComparePanel(context, log, current.store, runs, (chosen) =>
        showMetricsPanel(context, log, current.store, chosen),
      );
    }),
    guardedCommand('mlops.openRunCommit', log, async (node?: ExperimentNode) => {
      const run = node?.kind === 'run' ? node.run : undefined;
      const commit = run?.tags[GIT_COMMIT_TAG];
      const root = workspaceRoot();
      if (!run || !commit || !root) return;
      const against = await vscode.window.showQuickPick(
        [
          { label: `Show commit ${commit.slice(0, 8)}`, value: 'parent' as const },
          { label: 'Diff the working tree against it', value: 'workingTree' as const },
        ],
        { title: `Code of run ${run.runName || run.runId}` },
      );
      if (!against) return;
      const { showCommit } = await import('./gitCommit');
      const content = await showCommit(root, commit, against.value);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content, language: 'diff' }), {
        preview: true,
      });
    }),
  );
}
