// The Compare panel: runs side by side, their params and the range of each metric.
import * as vscode from 'vscode';
import { saveWithDialog } from '../host/saveFile';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import { CompareRequest, type CompareRun, type CompareUpdate } from './contract';
import { loadCompareRuns } from './compareRuns';
import type { Run, TrackingStore } from './model';

/** Opens the panel on `runs`, or shows these runs in the panel already open. */
export function showComparePanel(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  store: TrackingStore,
  runs: Run[],
  openMetrics: (runs: Run[]) => void,
): void {
  showPanelSession<CompareRequest, CompareUpdate, CompareSession>(
    context,
    log,
    { viewType: 'mlops.compare', title: 'MLOps: Compare Runs', bundle: 'compare', incoming: CompareRequest },
    {
      create: (panel) => new CompareSession(log, store, runs, openMetrics, panel),
      reuse: (session) => session.show(store, runs, openMetrics),
    },
  );
}

class CompareSession {
  /** Read once per selection of runs: the webview asks again each time the panel is shown. */
  private compared: Promise<CompareRun[]> | undefined;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private store: TrackingStore,
    private runs: Run[],
    private openMetrics: (runs: Run[]) => void,
    private readonly panel: OpenPanel<CompareUpdate>,
  ) {}

  show(store: TrackingStore, runs: Run[], openMetrics: (runs: Run[]) => void): void {
    this.store = store;
    this.runs = runs;
    this.openMetrics = openMetrics;
    this.compared = undefined;
    void this.guard(() => this.sendRuns());
  }

  handle(message: CompareRequest): Promise<void> {
    return this.guard(async () => {
      switch (message.type) {
        case 'ready':
          return this.sendRuns();
        case 'exportCsv':
          return this.exportCsv(message.csv);
        case 'openMetrics': {
          const byId = new Map(this.runs.map((run) => [run.runId, run]));
          return this.openMetrics(message.runIds.flatMap((id) => byId.get(id) ?? []));
        }
      }
    });
  }

  private async sendRuns(): Promise<void> {
    const runs = this.runs;
    this.compared ??= this.load(runs);
    const compared = await this.compared;
    if (runs === this.runs) await this.panel.post({ type: 'runs', runs: compared });
  }

  private async load(runs: Run[]): Promise<CompareRun[]> {
    const started = performance.now();
    try {
      const compared = await loadCompareRuns(this.store, runs);
      this.log.info(
        `compare: read the metric histories of ${runs.length} runs in ${Math.round(performance.now() - started)} ms`,
      );
      return compared;
    } catch (error) {
      // Read again next time rather than keep the failure.
      if (runs === this.runs) this.compared = undefined;
      throw error;
    }
  }

  private async exportCsv(csv: string): Promise<void> {
    const uri = await saveWithDialog(
      { title: 'Export the comparison', fileName: 'runs.csv', filters: { CSV: ['csv'] } },
      () => Buffer.from(csv, 'utf8'),
    );
    if (uri) this.log.info(`compare: exported the table to ${uri.fsPath}`);
  }

  /** Runs `work`; a failure is logged and shown in the panel, never thrown. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const message = describeError(error);
      this.log.error(`compare: ${message}`);
      await this.panel.post({ type: 'error', message });
    }
  }
}
