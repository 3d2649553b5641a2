// The Preview panel: a dataset file one page at a time. Only the page shown is read.
import * as vscode from 'vscode';
import { showWebviewPanel, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { PREVIEW_PAGE_SIZE, PreviewRequest, type DatasetFile, type PreviewUpdate } from '../shared/protocol';
import { datasetFile } from './datasetFile';
import { toGridRows } from './gridCells';
import type { PreviewPage } from './model';

export type ReadPreviewPage = (path: string, offset: number, limit: number) => Promise<PreviewPage>;

let current: PreviewSession | undefined;

/** Opens the panel on the file at `path`, or shows that file in the panel already open. */
export function showPreviewPanel(context: vscode.ExtensionContext, log: Logger, path: string, readPage: ReadPreviewPage): void {
  const file = datasetFile(path);
  if (current) {
    current.show(file, readPage);
    return;
  }
  const session = new PreviewSession(log, file, readPage, (onMessage) =>
    showWebviewPanel<PreviewRequest, PreviewUpdate>(context, log, { viewType: 'mlops.preview', title: previewTitle(file), bundle: 'preview', incoming: PreviewRequest, onMessage }),
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

function previewTitle(file: DatasetFile): string {
  return `Preview: ${file.name}`;
}

class PreviewSession {
  /** Where the webview was, so that it comes back to the same page when the panel is shown again. */
  private offset = 0;
  /** Bumped by every read, so that a slower, older page never replaces a newer one. */
  private reads = 0;
  private disposed = false;

  readonly panel: OpenPanel<PreviewUpdate>;

  constructor(
    private readonly log: Logger,
    private file: DatasetFile,
    private readPage: ReadPreviewPage,
    open: (onMessage: (message: PreviewRequest) => Promise<void>) => OpenPanel<PreviewUpdate>,
  ) {
    this.panel = open((message) => this.handle(message));
  }

  show(file: DatasetFile, readPage: ReadPreviewPage): void {
    this.file = file;
    this.readPage = readPage;
    this.offset = 0;
    this.panel.webview.title = previewTitle(file);
    this.panel.webview.reveal();
    void this.post({ type: 'open', file, offset: 0 });
  }

  dispose(): void {
    this.disposed = true;
  }

  async handle(message: PreviewRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.post({ type: 'open', file: this.file, offset: this.offset });
      case 'page':
        return this.sendPage(message.offset);
    }
  }

  private async sendPage(offset: number): Promise<void> {
    const read = ++this.reads;
    const file = this.file;
    try {
      const page = await this.readPage(file.path, offset, PREVIEW_PAGE_SIZE);
      if (read !== this.reads) return;
      this.offset = offset;
      await this.post({ type: 'page', file, columns: page.columns, rows: toGridRows(page.rows), offset: page.offset, totalRows: page.totalRows });
    } catch (error) {
      const message = describeError(error);
      this.log.error(`preview: ${file.path}: ${message}`);
      if (read === this.reads) await this.post({ type: 'error', file, message });
    }
  }

  private async post(message: PreviewUpdate): Promise<void> {
    if (!this.disposed) await this.panel.post(message);
  }
}
