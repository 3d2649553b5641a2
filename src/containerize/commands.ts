// Containerise from the notebook toolbar, the Explorer's context menu and the palette. The
// build runs under a cancellable progress notification and logs every step to the MLOps channel.
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { ExperimentNode } from '../experiments/experimentsView';
import { mlflowClientUri, type ResolveTrackingStore } from '../experiments/trackingStoreResolver';
import { guardedCommand } from '../host/guardedCommand';
import { setting, workspaceRoot } from '../host/settings';
import { MlopsError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { ContainerizeResult } from './containerize';
import { LAST_BUILT_IMAGE } from './lastBuiltImage';
import { describeOrigin, servingCandidates, type ServeChoice } from './notebook/chooseModel';
import type { NotebookAnalysis } from './notebook/notebookAnalysis';

type Log = vscode.LogOutputChannel & Logger;

export function registerContainerizeCommands(
  context: vscode.ExtensionContext,
  log: Log,
  resolveTracking: ResolveTrackingStore,
): void {
  // A failed build's remedy is the tail of its log: the notification names the failure, the log has the rest.
  const options = { remedyInLogOnly: true };
  context.subscriptions.push(
    guardedCommand(
      'mlops.containerizeNotebook',
      log,
      (target?: unknown) => containerizeWithProgress(context, log, notebookUri(target)),
      options,
    ),
    guardedCommand(
      'mlops.containerizeModel',
      log,
      (node?: ExperimentNode) => containerizeModelWithProgress(context, log, resolveTracking, node),
      options,
    ),
  );
}

/** The notebook a command was invoked on: the Explorer's file, the toolbar's editor, or the active one. */
function notebookUri(target: unknown): vscode.Uri | undefined {
  if (target instanceof vscode.Uri) return target;
  const fromToolbar = (target as { notebookEditor?: { notebookUri?: vscode.Uri } } | undefined)?.notebookEditor
    ?.notebookUri;
  return fromToolbar ?? vscode.window.activeNotebookEditor?.notebook.uri;
}

async function containerizeWithProgress(
  context: vscode.ExtensionContext,
  log: Log,
  uri: vscode.Uri | undefined,
): Promise<void> {
  if (!uri) {
    const [picked] =
      (await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { Notebooks: ['ipynb'] },
        openLabel: 'Containerise',
      })) ?? [];
    if (!picked) return;
    uri = picked;
  }
  const open = vscode.workspace.notebookDocuments.find((doc) => doc.uri.toString() === uri!.toString());
  if (open?.isDirty) await open.save();
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder)
    throw new MlopsError(
      `${uri.fsPath} is not in an open workspace folder.`,
      'Open the folder that holds the notebook and its data.',
    );
  const notebook = uri.fsPath;
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Containerising ${basename(notebook)}`,
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const { containerizeNotebook } = await import('./containerize');
      log.info(`containerize: ${notebook}`);
      return containerizeNotebook({
        notebook,
        workspaceRoot: folder.uri.fsPath,
        ...buildSettings(),
        signal: abort.signal,
        choose: (analysis, proposed) => pickModel(notebook, analysis, proposed, log),
        onProgress: progressReporter(progress),
        onLine: (line) => log.info(`build: ${line}`),
      });
    },
  );
  await reportResult(context, log, result);
}

function buildSettings(): { python: string; baseImage: string; dockerHost: string } {
  return {
    python: setting('pythonPath', '') || 'python3',
    baseImage: setting('baseImage', ''),
    dockerHost: setting('dockerHost', ''),
  };
}

function progressReporter(
  progress: vscode.Progress<{ message?: string; increment?: number }>,
): (message: string, fraction: number) => void {
  let reported = 0;
  return (message, fraction) => {
    progress.report({ message, increment: Math.max(0, fraction * 100 - reported) });
    reported = Math.max(reported, fraction * 100);
  };
}

/** The model of a run (runs:/ID/model) or a registered version (models:/NAME/VERSION), or one typed in. */
async function containerizeModelWithProgress(
  context: vscode.ExtensionContext,
  log: Log,
  resolveTracking: ResolveTrackingStore,
  node: ExperimentNode | undefined,
): Promise<void> {
  const root = workspaceRoot();
  if (!root) throw new MlopsError('Open a folder to containerise a model into.');
  const modelUri =
    node?.kind === 'run'
      ? `runs:/${node.run.runId}/model`
      : node?.kind === 'version'
        ? `models:/${node.version.name}/${node.version.version}`
        : await vscode.window.showInputBox({
            title: 'Containerise an MLflow model',
            prompt: 'A runs:/ or models:/ URI, or a folder with an MLmodel file',
            placeHolder: 'models:/churn-classifier/1',
            ignoreFocusOut: true,
          });
  if (!modelUri) return;
  const tracking = await resolveTracking();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Containerising ${modelUri}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const { containerizeModel } = await import('./containerize');
      log.info(`containerize: ${modelUri}`);
      return containerizeModel({
        modelUri,
        ...(tracking ? { trackingUri: mlflowClientUri(tracking), trackingCredentials: tracking.credentials } : {}),
        ...buildSettings(),
        workspaceRoot: root,
        signal: abort.signal,
        onProgress: progressReporter(progress),
        onLine: (line) => log.info(`build: ${line}`),
      });
    },
  );
  await reportResult(context, log, result);
}

/** Shows what was detected and lets the user choose what serves; the default is preselected. */
async function pickModel(
  notebook: string,
  analysis: NotebookAnalysis,
  proposed: ServeChoice,
  log: Log,
): Promise<ServeChoice | undefined> {
  const dropped = analysis.cells.filter((cell) => cell.role === 'dropped').map((cell) => `cell ${cell.index}`);
  const notes = analysis.cells.flatMap((cell) => cell.notes.map((note) => `cell ${cell.index}: ${note}`));
  log.info(`containerize: data files: ${analysis.dataFiles.join(', ') || 'none'}`);
  log.info(
    `containerize: requirements: ${analysis.requirements.map((r) => (r.version ? `${r.distribution}==${r.version}` : r.distribution)).join(', ') || 'none'}`,
  );
  for (const note of notes) log.info(`containerize: ${note}`);
  const candidates = servingCandidates(analysis);
  const detail = [
    `data: ${analysis.dataFiles.join(', ') || 'none'}`,
    `packages: ${analysis.requirements.map((r) => r.distribution).join(', ') || 'none'}`,
    dropped.length ? `left out: ${dropped.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  type Item = vscode.QuickPickItem & { choice: ServeChoice };
  const items: Item[] = candidates.map((choice) => ({
    label: `$(${choice.mode === 'function' ? 'symbol-function' : 'symbol-variable'}) ${choice.mode === 'function' ? 'predict(records)' : choice.variable}`,
    description:
      describeOrigin(choice) +
      (choice.mode === proposed.mode && choice.variable === proposed.variable ? ' · default' : ''),
    detail,
    choice,
  }));
  // Shown even for one candidate: it is where the user sees what was detected before the build.
  const picked = await vscode.window.showQuickPick(items, {
    title: `Containerise ${basename(notebook)}: which model serves predictions?`,
    placeHolder:
      candidates.length > 1
        ? `${candidates.length} candidates; the last fitted model is the default`
        : 'Enter builds the image with this model',
    ignoreFocusOut: true,
  });
  return picked?.choice;
}

async function reportResult(context: vscode.ExtensionContext, log: Log, result: ContainerizeResult): Promise<void> {
  const smoke = result.smoke;
  log.info(
    `containerize: ${result.reused ? 'reused' : 'built'} ${result.image} (context ${result.contextDir}, hash ${result.contextHash})`,
  );
  if (smoke) log.info(`containerize: smoke test ${smoke.ok ? 'passed' : 'failed'}: ${smoke.message}`);
  if (result.image) {
    await context.workspaceState.update(LAST_BUILT_IMAGE, result.image);
    await vscode.commands.executeCommand('setContext', 'mlops.hasBuiltImage', true);
  }
  const summary =
    `${result.reused ? 'Reused' : 'Built'} ${result.image}` +
    (smoke ? (smoke.ok ? ` — smoke test passed: ${smoke.message}` : ` — smoke test FAILED: ${smoke.message}`) : '');
  const show = smoke && !smoke.ok ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
  const choice = await show(summary, 'Deploy', 'Open Dockerfile', 'Copy Image Tag');
  if (choice === 'Deploy') await vscode.commands.executeCommand('mlops.deploy', { image: result.image });
  if (choice === 'Open Dockerfile')
    await vscode.window.showTextDocument(vscode.Uri.file(join(result.contextDir, 'Dockerfile')));
  if (choice === 'Copy Image Tag' && result.image) await vscode.env.clipboard.writeText(result.image);
}
