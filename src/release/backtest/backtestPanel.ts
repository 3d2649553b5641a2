// The Back-test Report panel: one report at a time (a new back-test or an opened file replaces
// the one shown), with "Save As…" for the report's JSON.
import * as vscode from 'vscode';
import { showPanelSession, type OpenPanel } from '../../host/webviewPanel';
import { saveWithDialog } from '../../host/saveFile';
import { describeError } from '../../shared/errors';
import { BacktestRequest, type BacktestReport, type BacktestUpdate } from './contract';

export function openBacktestPanel(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  report: BacktestReport,
  file: string | null,
): void {
  showPanelSession<BacktestRequest, BacktestUpdate, BacktestSession>(
    context,
    log,
    { viewType: 'mlops.backtestReport', title: 'Back-test Report', bundle: 'backtest', incoming: BacktestRequest },
    {
      create: (panel) => new BacktestSession(log, panel, report, file),
      reuse: (session) => session.show(report, file),
    },
  );
}

class BacktestSession {
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly panel: OpenPanel<BacktestUpdate>,
    private report: BacktestReport,
    private file: string | null,
  ) {}

  show(report: BacktestReport, file: string | null): void {
    this.report = report;
    this.file = file;
    void this.send();
  }

  async handle(message: BacktestRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.send();
      case 'save':
        return this.save();
      case 'showLog':
        return this.log.show();
    }
  }

  private send(): Promise<void> {
    return this.panel.post({ type: 'report', report: this.report, file: this.file });
  }

  private async save(): Promise<void> {
    try {
      const uri = await saveWithDialog(
        { title: 'Save the back-test report', fileName: 'backtest-report.json', filters: { JSON: ['json'] } },
        () => new TextEncoder().encode(`${JSON.stringify(this.report, null, 2)}\n`),
      );
      if (!uri) return;
      this.file = uri.fsPath;
      this.log.info(`backtest: report saved to ${uri.fsPath}`);
      await this.panel.post({ type: 'notice', message: `Saved to ${uri.fsPath}.` });
    } catch (error) {
      await this.panel.post({ type: 'error', message: `Could not save the report: ${describeError(error)}` });
    }
  }
}
