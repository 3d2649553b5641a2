// The Metrics panel: charts of the metric histories of some runs, live while any of them runs.
import * as vscode from 'vscode';
import { saveWithDialog } from '../host/saveFile';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import { MetricsRequest, type MetricsUpdate } from './contract';
import { defaultMetricKeys, historiesCsv, metricKeysOf, readHistories, toSeries } from './metricsData';
import { DEFAULT_MAX_POINTS, type Run, type TrackingStore } from './model';
import { isRunning, rereadRuns, toPanelRun } from './panelRuns';

const POLL_MS = 3000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Opens the panel on `runs`, or shows these runs in the panel already open. */
export function showMetricsPanel(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  store: TrackingStore,
  runs: Run[],
): void {
  showPanelSession<MetricsRequest, MetricsUpdate, MetricsSession>(
    context,
    log,
    { viewType: 'mlops.metrics', title: 'MLOps: Metrics', bundle: 'metrics', incoming: MetricsRequest },
    { create: (panel) => new MetricsSession(log, store, runs, panel), reuse: (session) => session.show(store, runs) },
  );
}

class MetricsSession {
  private keys: string[] = [];
  private selectedKeys: string[] = [];
  private poll: NodeJS.Timeout | undefined;
  /** Bumped by every series fetch, so that a slower, older fetch never overwrites a newer one. */
  private fetches = 0;
  /** The last error shown, so that a poll failing every 3 s logs it once. */
  private lastError: string | undefined;
  private disposed = false;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private store: TrackingStore,
    private runs: Run[],
    private readonly panel: OpenPanel<MetricsUpdate>,
  ) {
    this.chooseRuns(runs);
  }

  show(store: TrackingStore, runs: Run[]): void {
    this.store = store;
    this.chooseRuns(runs);
    void this.guard(() => this.sendAll());
  }

  handle(message: MetricsRequest): Promise<void> {
    return this.guard(async () => {
      switch (message.type) {
        case 'ready':
          return this.sendAll();
        case 'selectKeys':
          this.selectedKeys = message.keys.filter((key) => this.keys.includes(key));
          return this.sendSeries(false);
        case 'exportCsv':
          return this.exportCsv();
        case 'exportPng':
          return this.exportPng(message.dataUrl);
      }
    });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.poll);
  }

  /** New runs keep the charted keys they have too; when none is left, the default keys are charted. */
  private chooseRuns(runs: Run[]): void {
    this.runs = runs;
    this.keys = metricKeysOf(runs);
    const kept = this.selectedKeys.filter((key) => this.keys.includes(key));
    this.selectedKeys = kept.length > 0 ? kept : defaultMetricKeys(this.keys);
  }

  private async sendAll(): Promise<void> {
    await this.postInit();
    await this.sendSeries(false);
    this.schedulePoll();
  }

  private postInit(): Promise<void> {
    return this.panel.post({
      type: 'init',
      runs: this.runs.map(toPanelRun),
      keys: this.keys,
      selectedKeys: this.selectedKeys,
    });
  }

  private async sendSeries(live: boolean): Promise<void> {
    const fetch = ++this.fetches;
    const histories = await readHistories(this.store, this.runs, this.selectedKeys, DEFAULT_MAX_POINTS);
    if (fetch !== this.fetches) return;
    await this.panel.post({ type: 'series', series: histories.map(toSeries), live });
    const problems = histories.flatMap((history) => (history.problem ? [history.problem] : []));
    if (problems.length === 0) {
      this.lastError = undefined;
      return;
    }
    // The charts stay; the notice says which lines they skip.
    const message = `Some lines could not be read and are not charted: ${problems.join('; ')}`;
    if (message !== this.lastError) this.log.warn(`metrics: ${message}`);
    this.lastError = message;
    await this.panel.post({ type: 'error', message });
  }

  private schedulePoll(): void {
    clearTimeout(this.poll);
    this.poll = undefined;
    if (this.disposed || !this.runs.some(isRunning)) return;
    this.poll = setTimeout(() => void this.refreshLive(), POLL_MS);
  }

  /** Reads the runs again and re-sends their series; a hidden panel is skipped, it reloads when shown. */
  private async refreshLive(): Promise<void> {
    await this.guard(async () => {
      if (!this.panel.webview.visible) return;
      const before = JSON.stringify([this.runs.map(toPanelRun), this.keys]);
      this.runs = await rereadRuns(this.store, this.runs);
      this.keys = metricKeysOf(this.runs);
      if (JSON.stringify([this.runs.map(toPanelRun), this.keys]) !== before) await this.postInit();
      await this.sendSeries(true);
    });
    this.schedulePoll();
  }

  private async exportCsv(): Promise<void> {
    const runs = this.runs;
    const keys = this.selectedKeys;
    const uri = await saveWithDialog(
      { title: 'Export metric histories', fileName: 'metrics.csv', filters: { CSV: ['csv'] } },
      async () => {
        const histories = await readHistories(this.store, runs, keys, Number.MAX_SAFE_INTEGER);
        return Buffer.from(historiesCsv(runs, histories), 'utf8');
      },
    );
    if (uri)
      this.log.info(
        `metrics: exported the full histories of ${keys.join(', ')} for ${runs.length} runs to ${uri.fsPath}`,
      );
  }

  private async exportPng(dataUrl: string): Promise<void> {
    const png = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    if (!png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw new Error('The chart image is not a PNG.');
    const uri = await saveWithDialog(
      { title: 'Export chart', fileName: 'metrics.png', filters: { 'PNG image': ['png'] } },
      () => png,
    );
    if (uri) this.log.info(`metrics: saved a chart image to ${uri.fsPath}`);
  }

  /** Runs `work`; a failure is logged and shown in the panel, never thrown. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const message = describeError(error);
      if (message !== this.lastError) this.log.error(`metrics: ${message}`);
      this.lastError = message;
      await this.panel.post({ type: 'error', message });
    }
  }
}
