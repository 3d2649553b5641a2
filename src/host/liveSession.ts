// The host side of a panel that shows live data: it loads when asked, then again 5 s after each
// load ends while live is on and the panel is visible. A new load aborts the one still running,
// hiding the panel pauses it, and an error that repeats every refresh is logged once.
import type * as vscode from 'vscode';
import { describeError } from '../shared/errors';
import type { OpenPanel } from './webviewPanel';

export const LIVE_REFRESH_MS = 5000;

/** What every live panel's page understands besides its own messages. */
export type LiveUpdate = { type: 'busy'; on: boolean } | { type: 'error'; message: string };

export abstract class LiveSession<Update> {
  protected live = true;
  protected disposed = false;
  private timer: NodeJS.Timeout | undefined;
  /** The load in flight; a newer load, hiding the panel or closing it aborts it. */
  private loading: AbortController | undefined;
  private busy = false;
  private lastError: string | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    protected readonly log: vscode.LogOutputChannel,
    protected readonly panel: OpenPanel<Update | LiveUpdate>,
    /** Names the panel in the log. */
    private readonly what: () => string,
  ) {
    this.subscription = panel.webview.onDidChangeViewState(() => {
      if (!panel.webview.visible) this.pause();
      else if (!this.timer && !this.loading) this.schedule();
    });
  }

  get webviewPanel(): vscode.WebviewPanel {
    return this.panel.webview;
  }

  dispose(): void {
    this.disposed = true;
    this.pause();
    this.subscription.dispose();
  }

  /** Loads the data and posts it; resolves without posting when the signal aborted. */
  protected abstract fetch(signal: AbortSignal): Promise<void>;

  /** Whether something other than a load keeps the panel busy (a revert, a promotion). */
  protected working(): boolean {
    return false;
  }

  protected async load(): Promise<void> {
    this.stopTimer();
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    this.updateBusy();
    try {
      await this.fetch(controller.signal);
      if (!controller.signal.aborted) this.lastError = undefined;
    } catch (error) {
      // A load that was superseded or paused fails as it likes: nobody waits for it.
      if (!controller.signal.aborted) await this.showError(error);
    } finally {
      if (this.loading === controller) {
        this.loading = undefined;
        this.updateBusy();
        this.schedule();
      }
    }
  }

  protected setLive(on: boolean): Promise<void> | void {
    this.live = on;
    if (on) return this.load();
    this.stopTimer();
  }

  protected updateBusy(): void {
    const on = this.loading !== undefined || this.working();
    if (on === this.busy) return;
    this.busy = on;
    void this.panel.post({ type: 'busy', on });
  }

  protected async showError(error: unknown): Promise<void> {
    const message = describeError(error);
    if (message !== this.lastError) this.log.error(`${this.what()}: ${message}`);
    this.lastError = message;
    await this.panel.post({ type: 'error', message });
  }

  private schedule(): void {
    this.stopTimer();
    if (this.disposed || !this.live || !this.panel.webview.visible) return;
    this.timer = setTimeout(() => void this.load(), LIVE_REFRESH_MS);
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
}
