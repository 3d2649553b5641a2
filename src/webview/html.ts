// The HTML shell of every webview panel. Pure functions, so the CSP is unit-tested.
import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** A strict policy: nothing by default, scripts only with the nonce, assets only from the webview's own roots. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

export interface PanelHtml {
  title: string;
  cspSource: string;
  nonce: string;
  scriptUri: string;
  codiconsUri: string;
}

export function renderPanelHtml(page: PanelHtml): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(page.cspSource, page.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escape(page.codiconsUri)}" id="vscode-codicon-stylesheet">
<title>${escape(page.title)}</title>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script type="module" nonce="${page.nonce}" src="${escape(page.scriptUri)}"></script>
</body>
</html>`;
}
