// The Datasets view and its commands: ingest a file or a glob into the lake, run a pipeline or one step.
// Long work runs under a cancellable progress notification and logs to the MLOps channel.
import { basename, extname, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { guardedCommand } from '../host/guardedCommand';
import { setting, workspaceRoot } from '../host/settings';
import { describeError, MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { DatasetsTree, type DatasetNode, type DatasetSources } from './datasetsView';
import { DATASET_EXTENSIONS, DATASET_GLOB } from './datasetFileNames';
import type { Lake } from './model';

type Log = vscode.LogOutputChannel & Logger;

function lakeRoot(root: string): string {
  const configured = setting('lake.path', '.mlops/lake');
  return configured.startsWith('/') ? configured : join(root, configured);
}

async function openWorkspaceLake(root: string): Promise<Lake> {
  const { openLake } = await import('./lake/duckdbLake');
  return openLake(lakeRoot(root), { cwd: root });
}

function sources(): DatasetSources {
  const root = () => {
    const folder = workspaceRoot();
    if (!folder) throw new MlopsError('Open a folder to use the lake and pipelines.');
    return folder;
  };
  return {
    inspect: async (path) => (await import('./inspect')).inspect(path),
    // Listing reads small manifest files only: DuckDB is not loaded for it.
    lakeTables: async () => (await openWorkspaceLake(root())).tables(),
    lakeVersions: async (table) => (await openWorkspaceLake(root())).versions(table),
    pipelineFiles: async () => (await import('./pipelines/findPipelines')).findPipelines(root()),
    pipelineSteps: async (file) => {
      const [{ loadPipeline }, { readState }, { listRuns }, { pipelineOverview }] = await Promise.all([
        import('./pipelines/loadPipeline'),
        import('./pipelines/pipelineState'),
        import('./pipelines/runHistory'),
        import('./pipelines/pipelineOverview'),
      ]);
      const pipeline = await loadPipeline(file, root());
      return pipelineOverview(
        pipeline,
        await readState(root()),
        await listRuns(root(), { pipeline: pipeline.relativeFile }),
      );
    },
  };
}

export function registerDatasetCommands(context: vscode.ExtensionContext, log: Log): void {
  const tree = new DatasetsTree(sources());
  const view = vscode.window.createTreeView('mlops.datasets', { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(view);

  // Data files, lake commits (a folder rename) and pipeline runs all refresh the view, coalesced.
  let debounce: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => tree.refresh(), 500);
  };
  for (const pattern of [DATASET_GLOB, '**/.mlops/**', '**/mlops.pipeline.yaml', '**/pipelines/*.{yaml,yml}']) {
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    watcher.onDidCreate(scheduleRefresh);
    watcher.onDidChange(scheduleRefresh);
    watcher.onDidDelete(scheduleRefresh);
    context.subscriptions.push(watcher);
  }
  context.subscriptions.push(
    { dispose: () => clearTimeout(debounce) },
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('files.exclude') && tree.refresh()),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('mlops.refreshDatasets', () => tree.refresh()),
    // On a file (in the Datasets view or the explorer) it ingests that file; from the palette, a path or glob typed in.
    guardedCommand('mlops.ingestDataset', log, async (node?: DatasetNode, uri?: vscode.Uri) => {
      const root = workspaceRoot();
      if (!root) return;
      const source = node || uri ? datasetFile(node, uri) : await askIngestSource(root);
      if (!source) return;
      const { suggestTableName } = await import('./lake/ingestPattern');
      const table = await vscode.window.showInputBox({
        title: `Ingest ${basename(source)} into the lake`,
        prompt: 'Table name: a new version is added if the table exists',
        value: suggestTableName(source),
        validateInput: (text) =>
          /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? undefined : 'Letters, digits and _, not starting with a digit',
      });
      if (!table) return;
      await ingest(log, root, source, table, false);
      tree.refresh();
    }),
    guardedCommand('mlops.previewDataset', log, async (node?: DatasetNode, uri?: vscode.Uri) => {
      const file = datasetFile(node, uri);
      if (!file) return;
      const [{ showPreviewPanel }, { preview }] = await Promise.all([import('./previewPanel'), import('./preview')]);
      showPreviewPanel(context, log, file, (path, offset, limit) => preview(path, offset, limit));
    }),
    guardedCommand('mlops.profileDataset', log, async (node?: DatasetNode, uri?: vscode.Uri) => {
      const file = datasetFile(node, uri);
      if (!file) return;
      const [{ showProfilePanel }, { profile }] = await Promise.all([import('./profilePanel'), import('./profile')]);
      showProfilePanel(context, log, file, (path, signal, onStep) => profile(path, { signal, onProgress: onStep }));
    }),
    guardedCommand('mlops.showDatasetHistory', log, async (node?: DatasetNode, uri?: vscode.Uri) => {
      const file = datasetFile(node, uri);
      const root = workspaceRoot();
      if (!file || !root) return;
      const { datasetAtCommit, datasetCommits } = await import('./gitHistory');
      const commits = await datasetCommits(root, file);
      if (!commits.length) {
        void vscode.window.showInformationMessage(`${relative(root, file)} has no commits yet.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        commits.map((c) => ({
          label: c.message.split('\n')[0],
          description: `${c.hash.slice(0, 8)} · ${c.author} · ${new Date(c.date).toLocaleString()}`,
          commit: c,
        })),
        {
          title: `History of ${relative(root, file)}`,
          placeHolder: 'Compare the working copy with the version of a commit',
        },
      );
      if (!picked) return;
      const markdown = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Comparing ${basename(file)} with ${picked.commit.hash.slice(0, 8)}`,
          cancellable: true,
        },
        async (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          const [{ profile }, { compareVersionsMarkdown }] = await Promise.all([
            import('./profile'),
            import('./versionComparison'),
          ]);
          const old = await datasetAtCommit(root, file, picked.commit.hash);
          return compareVersionsMarkdown(
            relative(root, file),
            { label: picked.commit.hash.slice(0, 8), profile: await profile(old, { signal: abort.signal }) },
            { label: 'working copy', profile: await profile(file, { signal: abort.signal }) },
          );
        },
      );
      const document = await vscode.workspace.openTextDocument({ content: markdown, language: 'markdown' });
      await vscode.commands.executeCommand('markdown.showPreview', document.uri);
    }),
    guardedCommand('mlops.openLakeQuery', log, async (node?: DatasetNode) => {
      const root = workspaceRoot();
      if (!root) return;
      const lake = await openWorkspaceLake(root);
      const { showQueryPanel } = await import('./queryPanel');
      const { sqlIdentifier, sqlString } = await import('./sql');
      const sql = node?.kind === 'table' ? `SELECT * FROM ${sqlIdentifier(node.table.name)} LIMIT 100` : undefined;
      // Exports run the query again in DuckDB without the row limit, so nothing is cut.
      const exportResult = async (
        format: 'csv' | 'parquet',
        query: string,
        versions: Record<string, number>,
        target: string,
      ) => {
        const options = format === 'csv' ? 'FORMAT csv, HEADER' : 'FORMAT parquet';
        await lake.query(`COPY (${query.trim().replace(/;+$/, '')}) TO ${sqlString(target)} (${options})`, {
          versions,
        });
        log.info(`lake: exported the query result to ${target}`);
      };
      showQueryPanel(context, log, lake, exportResult, sql);
    }),
    guardedCommand('mlops.runPipeline', log, async (node?: DatasetNode) => {
      const root = workspaceRoot();
      if (!root) return;
      const file = node?.kind === 'pipeline' ? node.file : await pickPipeline(root);
      if (!file) return;
      await runPipelineWithProgress(log, root, file, undefined);
      tree.refresh();
    }),
    guardedCommand('mlops.runPipelineStep', log, async (node?: DatasetNode) => {
      const root = workspaceRoot();
      if (!root || node?.kind !== 'step') return;
      await runPipelineWithProgress(log, root, node.file, node.step.name);
      tree.refresh();
    }),
  );
}

/** The dataset a command is about: the node it was run on, the file's explorer entry, or the active editor. */
function datasetFile(node: DatasetNode | undefined, uri: vscode.Uri | undefined): string | undefined {
  const file = node?.kind === 'file' ? node.uri : (uri ?? vscode.window.activeTextEditor?.document.uri);
  if (!file || file.scheme !== 'file') {
    void vscode.window.showInformationMessage('Choose a dataset file in the Datasets view.');
    return undefined;
  }
  return file.fsPath;
}

/** A path or glob relative to the workspace, checked as it is typed: the box counts the files it matches. */
async function askIngestSource(root: string): Promise<string | undefined> {
  const { checkIngestPattern } = await import('./lake/ingestPattern');
  const active = vscode.window.activeTextEditor?.document.uri;
  let latest: AbortController | undefined;
  return vscode.window.showInputBox({
    title: 'Ingest into the lake',
    prompt: 'A file or a glob, relative to the workspace: * within a folder, ** across folders, {a,b} for either',
    placeHolder: 'data/events-*.jsonl',
    value:
      active?.scheme === 'file' && DATASET_EXTENSIONS.includes(extname(active.fsPath).slice(1).toLowerCase())
        ? relative(root, active.fsPath)
        : '',
    validateInput: async (text) => {
      // The box keeps only the answer for the latest text; an older walk of the folders is stopped.
      latest?.abort();
      const typing = (latest = new AbortController());
      try {
        const check = await checkIngestPattern(text, root, typing.signal);
        return 'problem' in check
          ? check.problem
          : { message: check.summary, severity: vscode.InputBoxValidationSeverity.Info };
      } catch (error) {
        return typing.signal.aborted ? undefined : describeError(error);
      }
    },
  });
}

async function pickPipeline(root: string): Promise<string | undefined> {
  const files = await (await import('./pipelines/findPipelines')).findPipelines(root);
  if (files.length <= 1) {
    if (!files.length)
      void vscode.window.showInformationMessage('No mlops.pipeline.yaml (or pipelines/*.yaml) in this workspace.');
    return files[0];
  }
  return (
    await vscode.window.showQuickPick(
      files.map((file) => ({ label: relative(root, file), file })),
      { title: 'Run which pipeline?' },
    )
  )?.file;
}

/** `source` is a file or a glob, relative to `root` or absolute. */
async function ingest(
  log: Log,
  root: string,
  source: string,
  table: string,
  allowSchemaChange: boolean,
): Promise<void> {
  try {
    const version = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Ingesting ${basename(source)} into ${table}`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const lake = await openWorkspaceLake(root);
        let reported = 0;
        return lake.ingest(table, [source], {
          allowSchemaChange,
          signal: abort.signal,
          onProgress: (message, fraction) => {
            log.info(`lake: ${message}`);
            const increment = fraction === undefined ? undefined : Math.max(0, fraction * 100 - reported);
            if (fraction !== undefined) reported = fraction * 100;
            progress.report({ message, increment });
          },
        });
      },
    );
    log.info(`lake: ${table} version ${version.version}: ${version.rows} rows from ${source}`);
    void vscode.window.showInformationMessage(
      `${table} version ${version.version}: ${version.rows.toLocaleString('en')} rows.`,
    );
  } catch (error) {
    // A schema change is offered to be allowed; any other error goes to the command's wrapper.
    const message = describeError(error);
    if (allowSchemaChange || !/schema/i.test(message)) throw error;
    log.error(`lake: ${message}`);
    const choice = await vscode.window.showErrorMessage(message, 'Allow the schema change');
    if (choice) await ingest(log, root, source, table, true);
  }
}

async function runPipelineWithProgress(log: Log, root: string, file: string, step: string | undefined): Promise<void> {
  const run = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: step ? `Running step ${step}` : `Running ${relative(root, file)}`,
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const [{ loadPipeline }, { runPipeline }] = await Promise.all([
        import('./pipelines/loadPipeline'),
        import('./pipelines/runPipeline'),
      ]);
      const pipeline = await loadPipeline(file, root);
      let reported = 0;
      return runPipeline(pipeline, {
        root,
        lake: await openWorkspaceLake(root),
        python: setting('pythonPath', '') || undefined,
        step,
        signal: abort.signal,
        onProgress: (event) => {
          const text =
            event.event === 'finished'
              ? `${event.step}: ${event.status}${event.message ? ` (${event.message})` : ''}`
              : event.event === 'skipped'
                ? `${event.step}: skipped, ${event.message}`
                : `${event.step}…`;
          log.info(`pipeline: ${text}`);
          progress.report({ message: text, increment: Math.max(0, event.fraction * 100 - reported) });
          reported = Math.max(reported, event.fraction * 100);
        },
      });
    },
  );
  for (const stepRun of run.steps) for (const line of stepRun.logs) log.info(`pipeline: ${stepRun.step}: ${line}`);
  const failed = run.steps.filter((s) => s.status === 'failed');
  if (failed.length) {
    void vscode.window
      .showErrorMessage(`${failed.map((s) => `${s.step}: ${s.message ?? 'failed'}`).join('\n')}`, 'Show Log')
      .then((choice) => choice && log.show());
  } else
    void vscode.window.showInformationMessage(
      `Pipeline ${run.status}: ${run.steps.map((s) => `${s.step} ${s.status}`).join(', ')}.`,
    );
}
