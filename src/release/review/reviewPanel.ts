// The Review panel of one deployment: its candidate's answers beside production's, one sample at
// a time, judged with buttons or keys; the gate follows every decision, and Promote stays
// disabled (saying why) until the gate opens.
import { createHash } from 'node:crypto';
import type * as vscode from 'vscode';
import { showPanelSession, type OpenPanel } from '../../host/webviewPanel';
import { describeError } from '../../shared/errors';
import { ReviewRequest, type ReviewUpdate } from './contract';
import type { ReviewSample, Verdict } from './model';
import type { ReviewFeed } from './reviewFeed';

export function openReviewPanel(
  context: vscode.ExtensionContext,
  feed: ReviewFeed,
  log: vscode.LogOutputChannel,
): void {
  showPanelSession<ReviewRequest, ReviewUpdate, ReviewSession>(
    context,
    log,
    {
      viewType: `mlops.review.${createHash('sha256').update(feed.title).digest('hex').slice(0, 16)}`,
      title: `Review: ${feed.title}`,
      bundle: 'review',
      incoming: ReviewRequest,
    },
    { create: (panel) => new ReviewSession(log, feed, panel), reuse: (session) => void session.start() },
  );
}

class ReviewSession {
  /** Every sample sent to the page, so that a decision on one judged earlier still knows its versions. */
  private readonly known = new Map<string, ReviewSample>();
  private candidateVersion: string | undefined;
  private loading: AbortController | undefined;
  private promoting = false;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly feed: ReviewFeed,
    private readonly panel: OpenPanel<ReviewUpdate>,
  ) {}

  async handle(message: ReviewRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'refresh':
        return this.load();
      case 'decide':
        return this.decide(message.requestId, message.verdict, message.comment?.trim() || undefined);
      case 'promote':
        return this.promote();
      case 'showLog':
        return this.log.show();
    }
  }

  dispose(): void {
    this.loading?.abort();
  }

  async start(): Promise<void> {
    await this.panel.post({ type: 'init', title: this.feed.title });
    await this.load();
  }

  private async load(): Promise<void> {
    this.loading?.abort();
    const controller = new AbortController();
    this.loading = controller;
    await this.panel.post({ type: 'busy', on: true });
    try {
      const samples = await this.feed.samples(controller.signal);
      if (controller.signal.aborted) return;
      for (const sample of samples) this.known.set(sample.requestId, sample);
      const newest = samples.reduce<ReviewSample | undefined>(
        (found, sample) => (!found || sample.ts > found.ts ? sample : found),
        undefined,
      );
      if (newest) this.candidateVersion = newest.candidate.version;
      await this.panel.post({ type: 'samples', samples });
      await this.sendGate();
    } catch (error) {
      if (!controller.signal.aborted) await this.showError(error);
    } finally {
      if (this.loading === controller) {
        this.loading = undefined;
        await this.panel.post({ type: 'busy', on: false });
      }
    }
  }

  private async sendGate(): Promise<void> {
    await this.panel.post({ type: 'gate', ...this.feed.gate(this.candidateVersion) });
  }

  private async decide(requestId: string, verdict: Verdict, comment: string | undefined): Promise<void> {
    const sample = this.known.get(requestId);
    if (!sample)
      return this.showError(new Error(`Request ${requestId} is not among the samples shown; refresh the panel.`));
    try {
      await this.feed.decide(sample, verdict, comment);
      this.candidateVersion = sample.candidate.version;
      await this.panel.post({ type: 'decided', requestId, verdict });
      await this.sendGate();
    } catch (error) {
      await this.showError(error);
    }
  }

  private async promote(): Promise<void> {
    if (this.promoting) return;
    const { gate, tally } = this.feed.gate(this.candidateVersion);
    // The page disables Promote while the gate is closed; a stale page is answered here.
    if (!gate.open) return this.panel.post({ type: 'notice', message: `Not yet: ${gate.reason}.` });
    const variant =
      [...this.known.values()].find((s) => s.candidate.version === this.candidateVersion)?.candidate.variant ??
      'candidate';
    this.promoting = true;
    try {
      await this.feed.promote(
        variant,
        `${gate.accepted} of ${tally.reviews} reviews accept ${this.candidateVersion ?? 'the candidate'} (${gate.reason})`,
      );
    } catch (error) {
      await this.showError(error);
    } finally {
      this.promoting = false;
    }
  }

  private async showError(error: unknown): Promise<void> {
    const message = describeError(error);
    this.log.error(`review: ${message}`);
    await this.panel.post({ type: 'error', message });
  }
}
