// The Preview panel: a dataset file one page at a time. Only the page shown is read.
import * as vscode from 'vscode';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { PREVIEW_PAGE_SIZE, PreviewRequest, type DatasetFile, type PreviewUpdate } from './contract';
import { datasetFile } from './datasetFile';
import { toGridRows } from './gridCells';
import type { PreviewPage } from './model';

export type ReadPreviewPage = (path: string, offset: number, limit: number) => Promise<PreviewPage>;

/** Opens the panel on the file at `path`, or shows that file in the panel already open. */
export function showPreviewPanel(
  context: vscode.ExtensionContext,
  log: Logger,
  path: string,
  readPage: ReadPreviewPage,
): void {
  const file = datasetFile(path);
  showPanelSession<PreviewRequest, PreviewUpdate, PreviewSession>(
    context,
    log,
    { viewType: 'mlops.preview', title: previewTitle(file), bundle: 'preview', incoming: PreviewRequest },
    {
      create: (panel) => new PreviewSession(log, file, readPage, panel),
      reuse: (session) => session.show(file, readPage),
    },
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

  constructor(
    private readonly log: Logger,
    private file: DatasetFile,
    private readPage: ReadPreviewPage,
    private readonly panel: OpenPanel<PreviewUpdate>,
  ) {}

  show(file: DatasetFile, readPage: ReadPreviewPage): void {
    this.file = file;
    this.readPage = readPage;
    this.offset = 0;
    this.panel.webview.title = previewTitle(file);
    void this.panel.post({ type: 'open', file, offset: 0 });
  }

  async handle(message: PreviewRequest): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.panel.post({ type: 'open', file: this.file, offset: this.offset });
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
      await this.panel.post({
        type: 'page',
        file,
        columns: page.columns,
        rows: toGridRows(page.rows),
        offset: page.offset,
        totalRows: page.totalRows,
      });
    } catch (error) {
      const message = describeError(error);
      this.log.error(`preview: ${file.path}: ${message}`);
      if (read === this.reads) await this.panel.post({ type: 'error', file, message });
    }
  }
}
