// Styles shared by every panel, built only from VS Code's theme variables so that panels follow
// the user's theme. Applied as a constructed stylesheet, which the nonce-only CSP allows.
const BASE = `
:root { color-scheme: light dark; }
body {
  margin: 0;
  padding: 16px 24px;
  color: var(--vscode-foreground);
  background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size);
}
h1 { font-size: 1.5em; font-weight: 600; margin: 0 0 4px; }
p.lead { color: var(--vscode-descriptionForeground); margin: 0 0 16px; }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 16px; }
.muted { color: var(--vscode-descriptionForeground); }
table.grid { border-collapse: collapse; width: 100%; }
table.grid th {
  text-align: left;
  font-weight: 600;
  padding: 6px 8px;
  border-bottom: 1px solid var(--vscode-editorGroup-border, var(--vscode-panel-border));
}
table.grid td { padding: 6px 8px; vertical-align: top; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
table.grid tr:hover td { background: var(--vscode-list-hoverBackground); }
code { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 1px 4px; border-radius: 3px; }
`;

export function applyTheme(panelCss = ''): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(BASE + panelCss);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

/** Creates an element with text content; panels build DOM this way, never from HTML strings. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  node.append(...children);
  return node;
}
