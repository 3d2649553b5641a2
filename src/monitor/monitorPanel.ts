// The Monitor panel of one deployment: requests, errors, latency and predictions per version over
// a chosen window, input drift, alerts with a revert to the stable revision, and the audit log.
// Live, it reloads every 5 s while it is visible; a new load cancels the one still running.
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { LiveSession } from '../host/liveSession';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import { DEFAULT_MONITOR_RANGE, MonitorRequest, type MonitorRange, type MonitorUpdate } from './contract';
import type { MonitorFeed } from './monitorFeed';

/** The newest audit entries the panel gets; the log itself stays on disk. */
const AUDIT_LIMIT = 200;

/**
 * Opens the Monitor panel of `feed`'s deployment, or reveals the one already open for it (same
 * title): one panel per deployment, side by side if the user wants.
 */
export function openMonitorPanel(
  context: vscode.ExtensionContext,
  feed: MonitorFeed,
  log: vscode.LogOutputChannel,
): vscode.WebviewPanel {
  let opened: vscode.WebviewPanel | undefined;
  showPanelSession<MonitorRequest, MonitorUpdate, MonitorSession>(
    context,
    log,
    {
      viewType: monitorViewType(feed.title),
      title: `Monitor: ${feed.title}`,
      bundle: 'monitor',
      incoming: MonitorRequest,
    },
    {
      create: (panel) => {
        opened = panel.webview;
        return new MonitorSession(log, feed, panel);
      },
      reuse: (session) => {
        opened = session.webviewPanel;
        session.show(feed);
      },
    },
  );
  return opened!;
}

/** The panel helper keeps one panel per view type, so each deployment gets a view type of its own. */
export function monitorViewType(title: string): string {
  return `mlops.monitor.${createHash('sha256').update(title).digest('hex').slice(0, 16)}`;
}

class MonitorSession extends LiveSession<MonitorUpdate> {
  private range: MonitorRange = DEFAULT_MONITOR_RANGE;
  private reverting = false;
  /** The alerts of the last load: when they change, the audit log has news too. */
  private alertsSeen: string | undefined;

  constructor(
    log: vscode.LogOutputChannel,
    private feed: MonitorFeed,
    panel: OpenPanel<MonitorUpdate>,
  ) {
    super(log, panel, () => `monitor: ${this.feed.title}`);
  }

  /** Opened again for the same deployment: its feed may carry new thresholds. */
  show(feed: MonitorFeed): void {
    this.feed = feed;
    void this.start();
  }

  async handle(message: MonitorRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'setRange':
        this.range = message.seconds;
        return this.load();
      case 'setLive':
        return this.setLive(message.on);
      case 'refresh':
        await Promise.all([this.load(), this.sendAudit()]);
        return;
      case 'revert':
        return this.revert();
      case 'showLog':
        return this.log.show();
    }
  }

  protected async fetch(signal: AbortSignal): Promise<void> {
    const { summary, series } = await this.feed.load(this.range, signal);
    if (signal.aborted) return;
    await this.panel.post({ type: 'data', summary, series, refreshedAt: new Date().toISOString() });
    const alerts = summary.alerts.map((alert) => alert.message).join('\n');
    if (this.alertsSeen !== undefined && alerts !== this.alertsSeen) void this.sendAudit();
    this.alertsSeen = alerts;
  }

  protected override working(): boolean {
    return this.reverting;
  }

  /** The page (re)loaded: it gets the settings, the data and the audit log. */
  private async start(): Promise<void> {
    const { title, thresholds } = this.feed;
    await this.panel.post({ type: 'init', title, thresholds, rangeSeconds: this.range, live: this.live });
    await Promise.all([this.load(), this.sendAudit()]);
  }

  private async sendAudit(): Promise<void> {
    try {
      const entries = await this.feed.audit();
      await this.panel.post({ type: 'audit', entries: entries.slice(0, AUDIT_LIMIT) });
    } catch (error) {
      await this.showError(error);
    }
  }

  private async revert(): Promise<void> {
    const { title } = this.feed;
    if (this.reverting)
      return this.panel.post({ type: 'notice', message: `${title} is already being reverted to its stable revision.` });
    const answer = await vscode.window.showWarningMessage(
      `Revert ${title} to its stable revision?`,
      {
        modal: true,
        detail: 'All traffic goes back to the pinned stable revision; the revision serving now stays in the history.',
      },
      'Revert',
    );
    if (answer !== 'Revert' || this.disposed) return;
    this.reverting = true;
    this.updateBusy();
    await this.panel.post({ type: 'notice', message: `Reverting ${title} to its stable revision…` });
    try {
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Reverting ${title} to its stable revision` },
        () => this.feed.revertToStable(),
      );
      this.log.info(`monitor: ${title}: ${outcome}`);
      await this.panel.post({ type: 'notice', message: outcome });
      void vscode.window.showInformationMessage(outcome);
    } catch (error) {
      const message = `Could not revert ${title}: ${describeError(error)}`;
      this.log.error(`monitor: ${message}`);
      await this.panel.post({ type: 'error', message });
      void vscode.window.showErrorMessage(message);
    } finally {
      this.reverting = false;
      this.updateBusy();
    }
    if (!this.disposed) await Promise.all([this.load(), this.sendAudit()]);
  }
}
