// The base of every webview panel: a strict CSP with a nonce, resources only from dist/ and
// media/, one panel per kind (revealed again when reopened), validation of every message, and
// the host-side session of a panel that shows one subject at a time.
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
  /** Does nothing once the panel is closed. */
  post(message: Outgoing): Promise<void>;
}

/** The host side of a panel while it is open: it answers the webview's messages. */
export interface PanelSession<Incoming> {
  handle(message: Incoming): void | Promise<void>;
  /** Called once, when the panel closes. */
  dispose?(): void;
}

const openPanels = new Map<string, { panel: OpenPanel<unknown>; session?: PanelSession<unknown> }>();

export function showWebviewPanel<Incoming, Outgoing>(
  context: vscode.ExtensionContext,
  log: Logger,
  spec: PanelSpec<Incoming, Outgoing>,
): OpenPanel<Outgoing> {
  const existing = openPanels.get(spec.viewType)?.panel as OpenPanel<Outgoing> | undefined;
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
  let closed = false;
  const panel: OpenPanel<Outgoing> = {
    webview: webviewPanel,
    post: async (message) => {
      if (!closed) await webview.postMessage(message);
    },
  };
  openPanels.set(spec.viewType, { panel });
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
  webviewPanel.onDidDispose(
    () => {
      closed = true;
      openPanels.get(spec.viewType)?.session?.dispose?.();
      openPanels.delete(spec.viewType);
    },
    undefined,
    context.subscriptions,
  );
  return panel;
}

/**
 * One panel of a kind with its session: when it is open, it is revealed and `reuse` shows the new
 * subject in its session; otherwise it opens with the session `create` makes for it.
 */
export function showPanelSession<Incoming, Outgoing, Session extends PanelSession<Incoming>>(
  context: vscode.ExtensionContext,
  log: Logger,
  spec: Omit<PanelSpec<Incoming, Outgoing>, 'onMessage'>,
  { create, reuse }: { create(panel: OpenPanel<Outgoing>): Session; reuse(session: Session): void },
): void {
  const open = openPanels.get(spec.viewType);
  if (open?.session) {
    open.panel.webview.reveal();
    reuse(open.session as Session);
    return;
  }
  const panel = showWebviewPanel<Incoming, Outgoing>(context, log, {
    ...spec,
    // Messages come from the page once it has loaded, after the session below is made.
    onMessage: (message) => openPanels.get(spec.viewType)?.session?.handle(message),
  });
  openPanels.get(spec.viewType)!.session = create(panel);
}
