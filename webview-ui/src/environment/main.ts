// The Environment panel: what this machine offers for training, tracking and deploying.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import type {
  CheckStatus,
  EnvironmentCheck,
  EnvironmentRequest,
  EnvironmentUpdate,
} from '../../../src/environment/contract';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';

applyTheme(`
  td.status { width: 24px; }
  td.component { white-space: nowrap; font-weight: 600; }
  .remedy { display: block; margin-top: 2px; }
  vscode-icon.ok { color: var(--vscode-testing-iconPassed); }
  vscode-icon.warning { color: var(--vscode-editorWarning-foreground); }
  vscode-icon.missing { color: var(--vscode-errorForeground); }
`);

const ICONS: Record<CheckStatus, string> = { ok: 'pass-filled', warning: 'warning', missing: 'error' };

const host = connectToHost<EnvironmentRequest, EnvironmentUpdate>(render);
const app = document.getElementById('app') as HTMLElement;

const rerun = document.createElement('vscode-button');
rerun.setAttribute('icon', 'refresh');
rerun.textContent = 'Check again';
rerun.addEventListener('click', () => host.post({ type: 'rerun' }));

const showLog = document.createElement('vscode-button');
showLog.setAttribute('secondary', '');
showLog.setAttribute('icon', 'output');
showLog.textContent = 'Show log';
showLog.addEventListener('click', () => host.post({ type: 'showLog' }));

const status = el('span', { className: 'muted' });
const results = el('div');
app.append(
  el('h1', { text: 'Environment' }),
  el('p', { className: 'lead', text: 'What this machine offers for training, tracking and deploying models.' }),
  el('div', { className: 'toolbar' }, rerun, showLog, status),
  results,
);

function render(update: EnvironmentUpdate): void {
  if (update.type === 'running') {
    app.setAttribute('aria-busy', 'true');
    rerun.toggleAttribute('disabled', true);
    status.replaceChildren(document.createElement('vscode-progress-ring'), ' Checking…');
    return;
  }
  app.setAttribute('aria-busy', 'false');
  rerun.toggleAttribute('disabled', false);
  status.textContent = `Checked at ${new Date(update.checkedAt).toLocaleTimeString()}`;
  results.replaceChildren(table(update.checks));
}

function table(checks: EnvironmentCheck[]): HTMLTableElement {
  const head = el('tr', {}, el('th', { text: '' }), el('th', { text: 'Component' }), el('th', { text: 'Details' }));
  const rows = checks.map((check) => {
    const icon = document.createElement('vscode-icon');
    icon.setAttribute('name', ICONS[check.status]);
    icon.setAttribute('label', check.status);
    icon.className = check.status;
    const details = el('td', { text: check.detail });
    if (check.remedy)
      details.append(el('span', { className: 'remedy muted' }, '→ ', el('code', { text: check.remedy })));
    const row = el(
      'tr',
      {},
      el('td', { className: 'status' }, icon),
      el('td', { className: 'component', text: check.label }),
      details,
    );
    row.dataset.check = check.id;
    row.dataset.status = check.status;
    return row;
  });
  return el('table', { className: 'grid' }, el('thead', {}, head), el('tbody', {}, ...rows));
}
