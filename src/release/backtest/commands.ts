// Back-testing in VS Code: "MLOps: Back-test a Candidate Image…" asks for the candidate image, the
// data (a dataset of the workspace or a lake table), the label column and the baseline (a
// deployment, an image, or none), runs the back-test under a cancellable progress notification
// logging to the MLOps channel, keeps the report in .mlops/backtests/ and opens it;
// "MLOps: Open Back-test Report…" opens a saved report.
import * as vscode from 'vscode';
import type { DeploymentsService } from '../../deploy/deployments/deploymentsService';
import { guardedCommand } from '../../host/guardedCommand';
import { setting, workspaceRoot } from '../../host/settings';
import { describeError, MlopsError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { BacktestReport } from './model';

interface ImageItem extends vscode.QuickPickItem {
  image?: string;
  none?: boolean;
}

function requireWorkspace(): string {
  const root = workspaceRoot();
  if (!root) throw new MlopsError('A back-test reads its data from the workspace: open a folder first.');
  return root;
}

export function registerBacktestCommands(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel & Logger,
  deployments: DeploymentsService,
): void {
  const dockerHost = () => setting('dockerHost', '') || undefined;

  async function imageItems(): Promise<ImageItem[]> {
    const [{ listLocalImages }, { imagePicks }] = await Promise.all([
      import('../../deploy/deployments/engine'),
      import('../../deploy/deployments/picks'),
    ]);
    return listLocalImages(dockerHost() ?? '').then(
      (images) => imagePicks(images),
      (error: unknown) => {
        log.warn(`backtest: the local images cannot be listed: ${describeError(error)}`);
        return imagePicks([]);
      },
    );
  }

  async function typedImage(title: string): Promise<string | undefined> {
    const typed = await vscode.window.showInputBox({
      title,
      prompt: 'An image this Docker Engine has or can pull: name:tag or name@sha256:digest',
      ignoreFocusOut: true,
      validateInput: (text) => (/^[^\s]+$/.test(text.trim()) ? undefined : 'An image reference, without spaces.'),
    });
    return typed?.trim() || undefined;
  }

  async function pickCandidate(): Promise<string | undefined> {
    const title = 'Back-test: which candidate image?';
    const picked = await vscode.window.showQuickPick(imageItems(), {
      title,
      placeHolder: 'Model images from Containerise first, newest first',
      matchOnDescription: true,
      matchOnDetail: true,
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    return picked.image ?? typedImage(title);
  }

  async function pickData(workspace: string): Promise<string | undefined> {
    const [{ discoverDatasets }, { tableNames }, { defaultLakeRoot }] = await Promise.all([
      import('../../datasets/findDatasets'),
      import('../../datasets/lake/catalog'),
      import('../../datasets/lake/duckdbLake'),
    ]);
    const items = async () => {
      const tables = tableNames(defaultLakeRoot(workspace)).map((table) => ({
        label: `$(database) ${table}`,
        description: table === 'requests' ? 'logged requests, labelled by their feedback' : 'lake table',
        data: `lake:${table}`,
      }));
      const { datasets } = await discoverDatasets(workspace, { limit: 500 });
      const files = datasets.map((d) => ({
        label: `$(file) ${vscode.workspace.asRelativePath(d.path, false)}`,
        description: d.format,
        data: d.path,
      }));
      return [...tables, ...files];
    };
    const picked = await vscode.window.showQuickPick(items(), {
      title: 'Back-test: which data to replay?',
      placeHolder: 'A lake table or a dataset file with a label column',
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    return picked?.data;
  }

  async function pickLabel(workspace: string, data: string): Promise<string | undefined> {
    const { dataColumns } = await import('./replayData');
    const columns = await dataColumns(data, workspace);
    // The label is most often the last column.
    const ordered = [...columns].reverse();
    return vscode.window.showQuickPick(ordered, {
      title: 'Back-test: which column holds the label?',
      placeHolder: 'Left out of the rows sent to the models',
      ignoreFocusOut: true,
    });
  }

  /** The baseline image: a deployment's, an image's, or none (null); undefined when cancelled. */
  async function pickBaseline(): Promise<string | null | undefined> {
    const items = async (): Promise<ImageItem[]> => {
      const deployed = await Promise.all(
        deployments.configs().map(async (config) => {
          try {
            const target = await deployments.open(config);
            return (await target.list()).map((status) => ({
              label: `$(server-process) ${status.name}`,
              description: `${config.name} · ${status.image}`,
              image: status.image,
            }));
          } catch (error) {
            log.warn(`backtest: the deployments of ${config.name} cannot be listed: ${describeError(error)}`);
            return [];
          }
        }),
      );
      return [
        { label: '$(circle-slash) No baseline', description: 'the candidate alone', none: true },
        ...deployed.flat(),
        ...(await imageItems()),
      ];
    };
    const title = 'Back-test: compare with which baseline?';
    const picked = await vscode.window.showQuickPick(items(), {
      title,
      placeHolder: 'A deployment (its current image), an image, or none',
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    if (!picked) return undefined;
    if (picked.none) return null;
    return picked.image ?? typedImage(title);
  }

  async function run(
    candidate: string,
    data: string,
    label: string,
    baseline: string | null,
    workspace: string,
  ): Promise<{ report: BacktestReport; file: string }> {
    const [{ runBacktest }, { saveReport }] = await Promise.all([import('./runBacktest'), import('./reportFile')]);
    log.info(`backtest: ${candidate}${baseline ? ` against ${baseline}` : ''} on ${data} (label ${label})`);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Back-testing ${candidate}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let reported = 0;
        let lastMessage = '';
        const dockerHostSetting = dockerHost();
        const { report } = await runBacktest({
          candidate,
          data,
          label,
          workspace,
          ...(baseline ? { baseline } : {}),
          ...(dockerHostSetting ? { dockerHost: dockerHostSetting } : {}),
          signal: abort.signal,
          onProgress: ({ message, done, total }) => {
            if (message !== lastMessage) log.info(`backtest: ${message}`);
            lastMessage = message;
            const percent = total ? (done / total) * 100 : 0;
            progress.report({
              message: total ? `${message}: ${done} of ${total} rows` : message,
              increment: percent - reported,
            });
            reported = percent;
          },
        });
        return { report, file: saveReport(workspace, report) };
      },
    );
  }

  async function openReport(report: BacktestReport, file: string | null): Promise<void> {
    const { openBacktestPanel } = await import('./backtestPanel');
    openBacktestPanel(context, log, report, file);
  }

  context.subscriptions.push(
    guardedCommand('mlops.backtest', log, async () => {
      const workspace = requireWorkspace();
      const candidate = await pickCandidate();
      if (!candidate) return;
      const data = await pickData(workspace);
      if (!data) return;
      const label = await pickLabel(workspace, data);
      if (!label) return;
      const baseline = await pickBaseline();
      if (baseline === undefined) return;
      const { report, file } = await run(candidate, data, label, baseline, workspace);
      const verdict = `Back-test of ${candidate}: gate ${report.gate.passed ? 'passed' : 'failed'}: ${report.gate.reason}`;
      log.info(`backtest: ${verdict}; report ${file}`);
      await openReport(report, file);
      if (report.gate.passed) void vscode.window.showInformationMessage(verdict);
      else void vscode.window.showWarningMessage(verdict);
    }),
    guardedCommand('mlops.openBacktestReport', log, async (arg?: unknown) => {
      const { readReport, backtestsDir } = await import('./reportFile');
      let uri = arg instanceof vscode.Uri ? arg : undefined;
      if (!uri) {
        const workspace = workspaceRoot();
        const picked = await vscode.window.showOpenDialog({
          title: 'Open a back-test report',
          filters: { JSON: ['json'] },
          canSelectMany: false,
          ...(workspace ? { defaultUri: vscode.Uri.file(backtestsDir(workspace)) } : {}),
        });
        uri = picked?.[0];
      }
      if (!uri) return;
      await openReport(readReport(uri.fsPath), uri.fsPath);
    }),
  );
}
