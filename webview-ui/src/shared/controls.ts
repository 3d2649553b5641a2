// Form controls the experiment panels share: labelled fields, buttons, icons, an error banner.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import { el } from './theme';

export const CONTROLS_CSS = `
  [hidden] { display: none !important; }
  .controls { flex-wrap: wrap; align-items: flex-end; gap: 12px 16px; }
  .controls > .muted { line-height: 26px; }
  .field { display: flex; flex-direction: column; gap: 4px; }
  .field-label { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
  .checkbox-field { display: flex; align-items: center; height: 26px; }
  .actions { display: flex; gap: 8px; margin-left: auto; }
  .error-banner {
    display: flex; gap: 8px; align-items: flex-start;
    margin: 0 0 16px; padding: 8px 12px;
    color: var(--vscode-foreground);
    background: var(--vscode-inputValidation-errorBackground);
    border: 1px solid var(--vscode-inputValidation-errorBorder);
    border-radius: 2px;
  }
  .error-banner vscode-icon { color: var(--vscode-errorForeground); flex: none; }
  h2 { font-size: 1.1em; font-weight: 600; margin: 0; }
`;

export function field(label: string, control: HTMLElement, className = ''): HTMLElement {
  return el(
    'label',
    { className: `field ${className}` },
    el('span', { className: 'field-label', text: label }),
    control,
  );
}

export function option(value: string, text: string, selected = false): HTMLElement {
  const node = document.createElement('vscode-option');
  node.setAttribute('value', value);
  node.textContent = text;
  node.toggleAttribute('selected', selected);
  return node;
}

export function button(text: string, iconName: string, title: string, secondary = true): HTMLElement {
  const node = document.createElement('vscode-button');
  node.toggleAttribute('secondary', secondary);
  node.setAttribute('icon', iconName);
  node.textContent = text;
  node.title = title;
  return node;
}

export function icon(name: string, className = ''): HTMLElement {
  const node = document.createElement('vscode-icon');
  node.setAttribute('name', name);
  if (className) node.className = className;
  return node;
}

export function errorBanner(): { element: HTMLElement; show(message: string): void; hide(): void } {
  const element = el('div', { className: 'error-banner' });
  element.setAttribute('role', 'alert');
  element.hidden = true;
  return {
    element,
    show(message) {
      element.replaceChildren(icon('error'), el('span', { text: message }));
      element.hidden = false;
    },
    hide() {
      element.hidden = true;
    },
  };
}
