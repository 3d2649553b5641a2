// The base of every webview panel: a strict CSP with a nonce, resources only from dist/ and
// media/, one panel per kind (revealed again when reopened), and validation of every message.
import * as v from 'valibot';
import * as vscode from 'vscode';
import type { Logger } from '../shared/logger';
import { makeNonce, renderPanelHtml } from '../webview/html';

export interface PanelSpec<Incoming, Outgoing> {
  viewType: string;
  title: string;
  /** The folder name under webview-ui/src, built to dist/webview/<bundle>.js. */
  bundle: string;
  incoming: v.GenericSchema<unknown, Incoming>;
  onMessage(message: Incoming, panel: OpenPanel<Outgoing>): void | Promise<void>;
}

export interface OpenPanel<Outgoing> {
  readonly webview: vscode.WebviewPanel;
  post(message: Outgoing): Thenable<boolean>;
}

const openPanels = new Map<string, OpenPanel<unknown>>();

export function showWebviewPanel<Incoming, Outgoing>(
  context: vscode.ExtensionContext,
  log: Logger,
  spec: PanelSpec<Incoming, Outgoing>,
): OpenPanel<Outgoing> {
  const existing = openPanels.get(spec.viewType) as OpenPanel<Outgoing> | undefined;
  if (existing) {
    existing.webview.reveal();
    return existing;
  }
  const dist = vscode.Uri.joinPath(context.extensionUri, 'dist');
  const webviewPanel = vscode.window.createWebviewPanel(spec.viewType, spec.title, vscode.ViewColumn.Active, {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [dist, vscode.Uri.joinPath(context.extensionUri, 'media')],
  });
  const webview = webviewPanel.webview;
  webview.html = renderPanelHtml({
    title: spec.title,
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', `${spec.bundle}.js`)).toString(),
    codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'codicons', 'codicon.css')).toString(),
  });
  const panel: OpenPanel<Outgoing> = { webview: webviewPanel, post: (message) => webview.postMessage(message) };
  openPanels.set(spec.viewType, panel as OpenPanel<unknown>);
  webview.onDidReceiveMessage(
    async (raw: unknown) => {
      const parsed = v.safeParse(spec.incoming, raw);
      if (!parsed.success) {
        log.warn(`${spec.title}: ignored a malformed message from the webview (${v.summarize(parsed.issues)})`);
        return;
      }
      try {
        await spec.onMessage(parsed.output, panel);
      } catch (error) {
        log.error(`${spec.title}: ${(error as Error).message}`);
      }
    },
    undefined,
    context.subscriptions,
  );
  webviewPanel.onDidDispose(() => openPanels.delete(spec.viewType), undefined, context.subscriptions);
  return panel;
}
