// The Profile panel: per-column statistics and distributions of a dataset file. Profiling a large
// file takes seconds, so it runs under a cancellable progress notification, cancellable from the
// panel too, and its result is kept for when the panel is shown again.
import { basename, extname } from 'node:path';
import * as vscode from 'vscode';
import { saveWithDialog } from '../host/saveFile';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { ProfileRequest, type DatasetFile, type ProfileUpdate } from './contract';
import { datasetFile, withSize } from './datasetFile';
import type { DatasetProfile } from './model';
import { profileCsv, profileJson } from './profileExport';

/** `onStep` names each pass over the file as it starts, for the progress notification and the panel. */
export type ComputeProfile = (
  path: string,
  signal: AbortSignal,
  onStep: (step: string) => void,
) => Promise<DatasetProfile>;

/** Opens the panel and profiles the file at `path`; a profile of another file still running is cancelled. */
export function showProfilePanel(
  context: vscode.ExtensionContext,
  log: Logger,
  path: string,
  computeProfile: ComputeProfile,
): void {
  showPanelSession<ProfileRequest, ProfileUpdate, ProfileSession>(
    context,
    log,
    { viewType: 'mlops.profile', title: profileTitle(path), bundle: 'profile', incoming: ProfileRequest },
    {
      create: (panel) => {
        const session = new ProfileSession(log, computeProfile, panel);
        session.start(path);
        return session;
      },
      reuse: (session) => session.show(path, computeProfile),
    },
  );
}

function profileTitle(path: string): string {
  return `Profile: ${basename(path)}`;
}

interface ProfileJob {
  file: DatasetFile;
  controller: AbortController;
  startedAt: number;
  step?: string;
  /** What the panel shows once the job is over. */
  outcome?: ProfileUpdate;
  profile?: DatasetProfile;
}

class ProfileSession {
  private job: ProfileJob | undefined;

  constructor(
    private readonly log: Logger,
    private computeProfile: ComputeProfile,
    private readonly panel: OpenPanel<ProfileUpdate>,
  ) {}

  show(path: string, computeProfile: ComputeProfile): void {
    this.computeProfile = computeProfile;
    const job = this.job;
    const keep = job?.file.path === path && (job.outcome === undefined || job.outcome.type === 'profile');
    if (keep) void this.sendState();
    else this.start(path);
  }

  dispose(): void {
    this.job?.controller.abort();
  }

  async handle(message: ProfileRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.sendState();
      case 'cancel':
        return this.job?.controller.abort();
      case 'rerun':
        if (this.job) this.start(this.job.file.path);
        return;
      case 'export':
        return this.export(message.format);
    }
  }

  start(path: string): void {
    this.job?.controller.abort();
    const job: ProfileJob = {
      file: datasetFile(path),
      controller: new AbortController(),
      startedAt: performance.now(),
    };
    this.job = job;
    this.panel.webview.title = profileTitle(path);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Profiling ${job.file.name}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => job.controller.abort());
        job.file = await withSize(job.file);
        if (job !== this.job) return;
        await this.sendState();
        await this.profile(job, (step) => {
          progress.report({ message: step });
          job.step = step;
          if (job === this.job) void this.sendState();
        });
      },
    );
  }

  private async profile(job: ProfileJob, onStep: (step: string) => void): Promise<void> {
    const { file, controller } = job;
    try {
      const profile = await this.computeProfile(file.path, controller.signal, onStep);
      controller.signal.throwIfAborted();
      const elapsedMs = Math.round(performance.now() - job.startedAt);
      job.profile = profile;
      job.outcome = { type: 'profile', file, profile, elapsedMs };
      this.log.info(
        `profile: ${file.path}: ${profile.rows} rows, ${profile.columns.length} columns in ${elapsedMs} ms`,
      );
    } catch (error) {
      if (controller.signal.aborted) {
        job.outcome = { type: 'cancelled', file };
        this.log.info(`profile: ${file.path}: cancelled`);
      } else {
        job.outcome = { type: 'error', file, message: describeError(error) };
        this.log.error(`profile: ${file.path}: ${describeError(error)}`);
      }
    }
    // A job replaced by another one says nothing: the panel shows the new one.
    if (job === this.job) await this.sendState();
  }

  private sendState(): Promise<void> {
    const job = this.job;
    if (!job) return Promise.resolve();
    return this.panel.post(
      job.outcome ?? {
        type: 'profiling',
        file: job.file,
        elapsedMs: Math.round(performance.now() - job.startedAt),
        step: job.step,
      },
    );
  }

  private async export(format: 'json' | 'csv'): Promise<void> {
    const job = this.job;
    if (!job?.profile) return;
    const { file, profile } = job;
    const stem = basename(file.name, extname(file.name));
    try {
      const uri = await saveWithDialog(
        {
          title: 'Export the profile',
          fileName: `${stem}.profile.${format}`,
          filters: format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
        },
        () => Buffer.from(format === 'json' ? profileJson(file.path, profile) : profileCsv(profile), 'utf8'),
      );
      if (uri) this.log.info(`profile: exported the profile of ${file.path} to ${uri.fsPath}`);
    } catch (error) {
      this.log.error(`profile: export of ${file.path}: ${describeError(error)}`);
      void vscode.window.showErrorMessage(`Could not export the profile: ${describeError(error)}`);
    }
  }
}
