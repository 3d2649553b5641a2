// The Compare panel: runs side by side, their params and the range of each metric.
import * as vscode from 'vscode';
import { saveWithDialog } from '../host/saveFile';
import { showWebviewPanel, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import { CompareRequest, type CompareRun, type CompareUpdate } from '../shared/protocol';
import { loadCompareRuns } from './compareRuns';
import type { Run, TrackingStore } from './model';

let current: CompareSession | undefined;

/** Opens the panel on `runs`, or shows these runs in the panel already open. */
export function showComparePanel(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  store: TrackingStore,
  runs: Run[],
  openMetrics: (runs: Run[]) => void,
): void {
  if (current) {
    current.show(store, runs, openMetrics);
    return;
  }
  const session = new CompareSession(log, store, runs, openMetrics, (onMessage) =>
    showWebviewPanel<CompareRequest, CompareUpdate>(context, log, { viewType: 'mlops.compare', title: 'MLOps: Compare Runs', bundle: 'compare', incoming: CompareRequest, onMessage }),
  );
  current = session;
  session.panel.webview.onDidDispose(
    () => {
      session.dispose();
      if (current === session) current = undefined;
    },
    undefined,
    context.subscriptions,
  );
}

class CompareSession {
  /** Read once per selection of runs: the webview asks again each time the panel is shown. */
  private compared: Promise<CompareRun[]> | undefined;
  private disposed = false;

  readonly panel: OpenPanel<CompareUpdate>;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private store: TrackingStore,
    private runs: Run[],
    private openMetrics: (runs: Run[]) => void,
    open: (onMessage: (message: CompareRequest) => Promise<void>) => OpenPanel<CompareUpdate>,
  ) {
    this.panel = open((message) => this.handle(message));
  }

  show(store: TrackingStore, runs: Run[], openMetrics: (runs: Run[]) => void): void {
    this.store = store;
    this.runs = runs;
    this.openMetrics = openMetrics;
    this.compared = undefined;
    this.panel.webview.reveal();
    void this.guard(() => this.sendRuns());
  }

  dispose(): void {
    this.disposed = true;
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
    if (runs === this.runs) await this.post({ type: 'runs', runs: compared });
  }

  private async load(runs: Run[]): Promise<CompareRun[]> {
    const started = performance.now();
    try {
      const compared = await loadCompareRuns(this.store, runs);
      this.log.info(`compare: read the metric histories of ${runs.length} runs in ${Math.round(performance.now() - started)} ms`);
      return compared;
    } catch (error) {
      // Read again next time rather than keep the failure.
      if (runs === this.runs) this.compared = undefined;
      throw error;
    }
  }

  private async exportCsv(csv: string): Promise<void> {
    const uri = await saveWithDialog({ title: 'Export the comparison', fileName: 'runs.csv', filters: { CSV: ['csv'] } }, () => Buffer.from(csv, 'utf8'));
    if (uri) this.log.info(`compare: exported the table to ${uri.fsPath}`);
  }

  /** Runs `work`; a failure is logged and shown in the panel, never thrown. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const message = describeError(error);
      this.log.error(`compare: ${message}`);
      await this.post({ type: 'error', message });
    }
  }

  private async post(message: CompareUpdate): Promise<void> {
    if (!this.disposed) await this.panel.post(message);
  }
}
