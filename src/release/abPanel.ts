// The A/B test panel of one deployment: the split, per-variant traffic, errors, latency and
// outcomes with their significance against production, and the actions of a test (change the
// weights, stop it, promote the winner). Live, it reloads every 5 s while it is visible.
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { LiveSession } from '../host/liveSession';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { AbRequest, type AbUpdate } from './contract';
import type { AbState } from './abFeed';

/** One deployment's test, as the panel reads and changes it; an action resolves with its outcome. */
export interface AbFeed {
  title: string;
  load(signal: AbortSignal): Promise<AbState>;
  setWeights(weights: Record<string, number>): Promise<string | undefined>;
  stop(): Promise<string | undefined>;
  promote(variant: string): Promise<string | undefined>;
}

export function openAbPanel(context: vscode.ExtensionContext, feed: AbFeed, log: vscode.LogOutputChannel): void {
  showPanelSession<AbRequest, AbUpdate, AbSession>(
    context,
    log,
    {
      viewType: `mlops.abTest.${createHash('sha256').update(feed.title).digest('hex').slice(0, 16)}`,
      title: `A/B Test: ${feed.title}`,
      bundle: 'abtest',
      incoming: AbRequest,
    },
    { create: (panel) => new AbSession(log, feed, panel), reuse: (session) => session.show(feed) },
  );
}

class AbSession extends LiveSession<AbUpdate> {
  /** An action (weights, stop, promote) in progress: one at a time. */
  private acting = false;

  constructor(
    log: vscode.LogOutputChannel,
    private feed: AbFeed,
    panel: OpenPanel<AbUpdate>,
  ) {
    super(log, panel, () => `A/B test: ${this.feed.title}`);
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
        return this.setLive(message.on);
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

  protected async fetch(signal: AbortSignal): Promise<void> {
    const { split, report, gate } = await this.feed.load(signal);
    if (!signal.aborted)
      await this.panel.post({ type: 'data', split, report, gate, refreshedAt: new Date().toISOString() });
  }

  protected override working(): boolean {
    return this.acting;
  }

  private async start(): Promise<void> {
    await this.panel.post({ type: 'init', title: this.feed.title, live: this.live });
    await this.load();
  }

  /** Runs an action of the test; its outcome (undefined when the user backed out) becomes a notice. */
  private async act(action: () => Promise<string | undefined>): Promise<void> {
    if (this.acting)
      return this.panel.post({ type: 'notice', message: 'Another change to this test is still running.' });
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
}
