import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy, makeNonce, renderPanelHtml } from '../../src/webview/html';

test('the CSP allows nothing by default and scripts only with the nonce', () => {
  const csp = contentSecurityPolicy('vscode-webview://abc', 'N0NCE');
  assert.match(csp, /^default-src 'none'/);
  assert.match(csp, /script-src 'nonce-N0NCE'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|\*/);
});

test('nonces are fresh and long enough', () => {
  const nonces = new Set(Array.from({ length: 100 }, makeNonce));
  assert.equal(nonces.size, 100);
  for (const nonce of nonces) assert.ok(nonce.length >= 24);
});

test('the panel page carries the nonce on its script and escapes its title', () => {
  const html = renderPanelHtml({
    title: 'Runs <of> "x"',
    cspSource: 'vscode-webview://abc',
    nonce: 'N0NCE',
    scriptUri: 'vscode-webview://abc/dist/webview/environment.js',
    codiconsUri: 'vscode-webview://abc/dist/codicons/codicon.css',
  });
  assert.match(
    html,
    /<script type="module" nonce="N0NCE" src="vscode-webview:\/\/abc\/dist\/webview\/environment.js">/,
  );
  assert.match(html, /<title>Runs &#60;of&#62; &#34;x&#34;<\/title>/);
  assert.match(html, /id="vscode-codicon-stylesheet"/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});
