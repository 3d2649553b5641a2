// The A/B test panel of one deployment: the split, per-variant traffic, errors, latency and
// outcomes with their significance against production, and the actions of a test (change the
// weights, stop it, promote the winner). Live, it reloads every 5 s while it is visible.
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { showPanelSession, type OpenPanel } from '../../host/webviewPanel';
import { describeError } from '../../shared/errors';
import { AbRequest, type AbUpdate } from '../../shared/protocol';
import type { AbState } from '../abFeed';

/** One deployment's test, as the panel reads and changes it; an action resolves with its outcome. */
export interface AbFeed {
  title: string;
  load(signal: AbortSignal): Promise<AbState>;
  setWeights(weights: Record<string, number>): Promise<string | undefined>;
  stop(): Promise<string | undefined>;
  promote(variant: string): Promise<string | undefined>;
}

export const AB_REFRESH_MS = 5000;

export function openAbPanel(context: vscode.ExtensionContext, feed: AbFeed, log: vscode.LogOutputChannel): void {
  showPanelSession<AbRequest, AbUpdate, AbSession>(
    context,
    log,
    { viewType: `mlops.abTest.${createHash('sha256').update(feed.title).digest('hex').slice(0, 16)}`, title: `A/B Test: ${feed.title}`, bundle: 'abtest', incoming: AbRequest },
    { create: (panel) => new AbSession(log, feed, panel), reuse: (session) => session.show(feed) },
  );
}

class AbSession {
  private live = true;
  private timer: NodeJS.Timeout | undefined;
  private loading: AbortController | undefined;
  /** An action (weights, stop, promote) in progress: one at a time. */
  private acting = false;
  private busy = false;
  private lastError: string | undefined;
  private disposed = false;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private feed: AbFeed,
    private readonly panel: OpenPanel<AbUpdate>,
  ) {
    this.subscription = panel.webview.onDidChangeViewState(() => {
      if (!panel.webview.visible) this.pause();
      else if (!this.timer && !this.loading) this.schedule();
    });
  }

  show(feed: AbFeed): void {
    this.feed = feed;
    void this.start();
  }

  async handle(message: AbRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'refresh':
        return this.load();
      case 'setLive':
        this.live = message.on;
        return this.live ? this.load() : this.stopTimer();
      case 'setWeights':
        return this.act(() => this.feed.setWeights(message.weights));
      case 'stop':
        return this.act(() => this.feed.stop());
      case 'promote':
        return this.act(() => this.feed.promote(message.variant));
      case 'showLog':
        return this.log.show();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.pause();
    this.subscription.dispose();
  }

  private async start(): Promise<void> {
    await this.panel.post({ type: 'init', title: this.feed.title, live: this.live });
    await this.load();
  }

  private async load(): Promise<void> {
    this.stopTimer();
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    this.updateBusy();
    try {
      const { split, report, gate } = await this.feed.load(controller.signal);
      if (controller.signal.aborted) return;
      await this.panel.post({ type: 'data', split, report, gate, refreshedAt: new Date().toISOString() });
      this.lastError = undefined;
    } catch (error) {
      if (!controller.signal.aborted) await this.showError(error);
    } finally {
      if (this.loading === controller) {
        this.loading = undefined;
        this.updateBusy();
        this.schedule();
      }
    }
  }

  /** Runs an action of the test; its outcome (undefined when the user backed out) becomes a notice. */
  private async act(action: () => Promise<string | undefined>): Promise<void> {
    if (this.acting) return this.panel.post({ type: 'notice', message: 'Another change to this test is still running.' });
    this.acting = true;
    this.updateBusy();
    try {
      const outcome = await action();
      if (outcome) await this.panel.post({ type: 'notice', message: outcome });
    } catch (error) {
      await this.showError(error);
    } finally {
      this.acting = false;
      this.updateBusy();
    }
    if (!this.disposed) await this.load();
  }

  private schedule(): void {
    this.stopTimer();
    if (this.disposed || !this.live || !this.panel.webview.visible) return;
    this.timer = setTimeout(() => void this.load(), AB_REFRESH_MS);
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pause(): void {
    this.stopTimer();
    this.loading?.abort();
    this.loading = undefined;
    this.updateBusy();
  }

  private updateBusy(): void {
    const on = this.loading !== undefined || this.acting;
    if (on === this.busy) return;
    this.busy = on;
    void this.panel.post({ type: 'busy', on });
  }

  private async showError(error: unknown): Promise<void> {
    const message = describeError(error);
    if (message !== this.lastError) this.log.error(`A/B test: ${this.feed.title}: ${message}`);
    this.lastError = message;
    await this.panel.post({ type: 'error', message });
  }
}
