// The Review panel: one sample at a time, the input as a key/value table, production's answer
// and the candidate's side by side (a disagreement highlighted), a verdict by button or key
// (1-4; j/k or arrows to move; c for the comment), the running tally, and the gate that keeps
// Promote disabled until enough reviews accept the candidate. The host keeps the decisions.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import type {
  ReviewGate,
  ReviewRequest,
  ReviewTally,
  ReviewUpdate,
  Verdict,
} from '../../../src/release/review/contract';
import { button, CONTROLS_CSS, errorBanner, icon } from '../shared/controls';
import { connectToHost } from '../shared/host';
import { applyTheme, el } from '../shared/theme';
import { keyAction, ReviewQueue, valueText, VERDICT_BUTTONS } from './reviewQueue';

applyTheme(`${CONTROLS_CSS}
  vscode-progress-bar.busy { position: fixed; top: 0; left: 0; right: 0; z-index: 10; }
  .toolbar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 16px; }
  .gate {
    display: flex; gap: 12px; align-items: center; flex-wrap: wrap;
    padding: 8px 12px; margin-bottom: 16px; border-radius: 4px; border: 1px solid;
    border-color: var(--vscode-inputValidation-warningBorder); background: var(--vscode-inputValidation-warningBackground);
  }
  .gate.open { border-color: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); background: transparent; }
  .gate .gate-text { flex: 1; min-width: 200px; }
  .tally { display: flex; gap: 16px; flex-wrap: wrap; margin-bottom: 16px; color: var(--vscode-descriptionForeground); }
  .tally strong { color: var(--vscode-foreground); font-variant-numeric: tabular-nums; }
  .sample-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; margin-bottom: 8px; }
  .answers { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; margin: 12px 0; }
  .answer { border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; padding: 8px 12px; min-width: 0; }
  .answer .value { font-family: var(--vscode-editor-font-family); font-size: 1.4em; overflow-wrap: anywhere; margin-top: 4px; }
  .answers.disagree .answer { border-color: var(--vscode-editorWarning-foreground); border-width: 2px; }
  .verdicts { display: flex; gap: 8px; flex-wrap: wrap; margin: 12px 0; }
  kbd { font-family: var(--vscode-editor-font-family); border: 1px solid var(--vscode-editorWidget-border); border-radius: 3px; padding: 0 4px; margin-left: 4px; font-size: 0.9em; }
  vscode-textarea { width: 100%; }
  table.grid td.key { color: var(--vscode-descriptionForeground); white-space: nowrap; }
  table.grid td.val { font-family: var(--vscode-editor-font-family); overflow-wrap: anywhere; }
  .empty-state { padding: 32px 16px; text-align: center; border: 1px dashed var(--vscode-editorWidget-border, var(--vscode-panel-border)); border-radius: 4px; }
`);

const queue = new ReviewQueue();
let gate: ReviewGate | undefined;
let tally: ReviewTally | undefined;
let loaded = false;

const host = connectToHost<ReviewRequest, ReviewUpdate>(receive);
const app = document.getElementById('app') as HTMLElement;

const heading = el('h1', { text: 'Review' });
const lead = el('p', { className: 'lead', text: 'Loading the samples…' });
const progress = document.createElement('vscode-progress-bar');
progress.className = 'busy';
progress.hidden = true;
progress.setAttribute('aria-label', 'Loading');
const error = errorBanner();
const notice = el('p', { className: 'muted' });
notice.setAttribute('role', 'status');
notice.hidden = true;

const previousButton = withKey(button('Previous', 'arrow-left', 'The sample before (k or ←)'), 'k');
previousButton.addEventListener('click', () => move(-1));
const nextButton = withKey(button('Next', 'arrow-right', 'The next sample (j or →)'), 'j');
nextButton.addEventListener('click', () => move(1));
const refreshButton = button('Refresh', 'refresh', 'Read the request log again for new samples');
refreshButton.addEventListener('click', () => host.post({ type: 'refresh' }));
const logButton = button('Show log', 'output', 'Open the MLOps output channel');
logButton.addEventListener('click', () => host.post({ type: 'showLog' }));

const gateText = el('div', { className: 'gate-text' });
const tallyRow = el('div', { className: 'tally' });
const promoteButton = button('Promote candidate', 'rocket', 'Waiting for the review gate', false);
promoteButton.toggleAttribute('disabled', true);
promoteButton.addEventListener('click', () => gate?.open && host.post({ type: 'promote' }));
// A disabled button gets no pointer events, so its wrapper carries the reason as a tooltip.
const promoteWrap = el('span', {}, promoteButton);
const gateBox = el('div', { className: 'gate' }, gateText, promoteWrap);
gateBox.setAttribute('role', 'status');

const sampleBox = el('section', { className: 'block' });
const verdictButtons = VERDICT_BUTTONS.map(({ verdict, key, text, icon: iconName }) => {
  const node = withKey(button(text, iconName, `${text} (${key})`), key);
  node.addEventListener('click', () => decide(verdict));
  return { verdict, node };
});
const comment = document.createElement('vscode-textarea');
comment.setAttribute('placeholder', 'Optional comment, saved with the verdict (c to focus, Esc to leave)');
comment.setAttribute('rows', '2');
comment.setAttribute('aria-label', 'Comment');
const judging = el('div', {}, el('div', { className: 'verdicts' }, ...verdictButtons.map((b) => b.node)), comment);
const emptyState = el('div', { className: 'empty-state' });
emptyState.hidden = true;

app.append(
  progress,
  heading,
  lead,
  el('div', { className: 'toolbar' }, previousButton, nextButton, refreshButton, logButton),
  error.element,
  notice,
  gateBox,
  tallyRow,
  emptyState,
  sampleBox,
  judging,
);
render();

document.addEventListener('keydown', (event) => {
  if (event.metaKey || event.ctrlKey || event.altKey) return;
  const typing = event
    .composedPath()
    .some(
      (node) => node instanceof HTMLElement && /^(TEXTAREA|INPUT|VSCODE-TEXTAREA|VSCODE-TEXTFIELD)$/.test(node.tagName),
    );
  if (typing && event.key === 'Escape') return void (document.activeElement as HTMLElement | null)?.blur();
  const action = keyAction(event.key, typing);
  if (!action) return;
  event.preventDefault();
  if (action.kind === 'verdict') decide(action.verdict);
  else if (action.kind === 'move') move(action.by);
  else comment.focus();
});

host.post({ type: 'ready' });

function withKey(node: HTMLElement, key: string): HTMLElement {
  node.append(el('kbd', { text: key }));
  return node;
}

function move(by: number): void {
  queue.move(by);
  comment.value = '';
  render();
}

function decide(verdict: Verdict): void {
  const sample = queue.current();
  if (!sample) return;
  host.post({
    type: 'decide',
    requestId: sample.requestId,
    verdict,
    ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
  });
}

function receive(update: ReviewUpdate): void {
  switch (update.type) {
    case 'init':
      heading.textContent = `Review: ${update.title}`;
      return;
    case 'samples':
      loaded = true;
      error.hide();
      queue.load(update.samples);
      return render();
    case 'gate':
      gate = update.gate;
      tally = update.tally;
      return renderGate();
    case 'decided':
      notice.hidden = true;
      queue.decided(update.requestId, update.verdict);
      comment.value = '';
      return render();
    case 'busy':
      progress.hidden = !update.on;
      app.setAttribute('aria-busy', String(update.on));
      return;
    case 'error':
      return error.show(update.message);
    case 'notice':
      notice.textContent = update.message;
      notice.hidden = false;
      return;
  }
}

function render(): void {
  const sample = queue.current();
  const { index, count, pending } = queue.position;
  if (loaded)
    lead.textContent = count
      ? `Sample ${index + 1} of ${count} · ${pending} to judge · disagreements first, then the newest`
      : '';
  emptyState.hidden = !loaded || count > 0;
  if (!emptyState.hidden) {
    emptyState.replaceChildren(
      icon('inbox'),
      el('p', {
        text: 'No answers to review: nothing was answered by both production and a candidate since the last review.',
      }),
      el('p', {
        className: 'muted',
        text: 'Mirror traffic to a candidate (shadow) or split it, then Refresh once requests have come in.',
      }),
    );
  }
  sampleBox.hidden = !sample;
  judging.hidden = !sample;
  previousButton.toggleAttribute('disabled', index === 0);
  nextButton.toggleAttribute('disabled', index >= count - 1);
  if (!sample) return;
  const given = queue.verdicts.get(sample.requestId);
  for (const { verdict, node } of verdictButtons) node.toggleAttribute('secondary', verdict !== given);
  const time = el('time', { className: 'muted', text: new Date(sample.ts).toLocaleString() });
  time.dateTime = sample.ts;
  const badge = document.createElement('vscode-badge');
  badge.textContent = sample.disagree ? 'Disagree' : 'Agree';
  badge.setAttribute('variant', sample.disagree ? 'counter' : 'default');
  const inputRows = Object.entries(sample.input).map(([key, value]) =>
    el('tr', {}, el('td', { className: 'key', text: key }), el('td', { className: 'val', text: valueText(value) })),
  );
  const answer = (title: string, version: string, prediction: unknown) =>
    el(
      'div',
      { className: 'answer' },
      el('div', { className: 'muted', text: `${title} · ${version}` }),
      el('div', { className: 'value', text: valueText(prediction) }),
    );
  sampleBox.replaceChildren(
    el(
      'div',
      { className: 'sample-head' },
      el('h2', { text: `Request ${sample.requestId}` }),
      badge,
      time,
      given
        ? el('span', {
            className: 'muted',
            text: `· judged: ${VERDICT_BUTTONS.find((b) => b.verdict === given)!.text}`,
          })
        : '',
    ),
    el(
      'div',
      { className: `answers${sample.disagree ? ' disagree' : ''}` },
      answer('Production', sample.production.version, sample.production.prediction),
      answer('Candidate', sample.candidate.version, sample.candidate.prediction),
    ),
    inputRows.length
      ? el(
          'table',
          { className: 'grid' },
          el('thead', {}, el('tr', {}, el('th', { text: 'Input' }), el('th', { text: 'Value' }))),
          el('tbody', {}, ...inputRows),
        )
      : el('p', { className: 'muted', text: 'The request logged no input.' }),
  );
}

function renderGate(): void {
  if (!gate || !tally) return;
  gateBox.classList.toggle('open', gate.open);
  gateText.replaceChildren(
    icon(gate.open ? 'pass' : 'lock'),
    ` Review gate ${gate.open ? 'open' : 'closed'}: ${gate.reason}`,
  );
  promoteButton.toggleAttribute('disabled', !gate.open);
  const why = gate.open ? 'Move all traffic to the candidate and pin it as stable' : `Not yet: ${gate.reason}`;
  promoteButton.title = why;
  promoteWrap.title = why;
  const count = (label: string, value: number) => el('span', {}, `${label} `, el('strong', { text: String(value) }));
  tallyRow.replaceChildren(
    count('Reviews', tally.reviews),
    count('Candidate right', tally.candidate),
    count('Production right', tally.production),
    count('Both', tally.both),
    count('Neither', tally.neither),
  );
}
