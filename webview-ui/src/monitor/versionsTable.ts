// The versions table, the comparison of the versions serving: traffic, errors, latency and
// predictions side by side, each version's colour, and a checkbox to show it in the charts.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { Thresholds, VersionHealth } from '../../../src/monitor/contract';
import { formatCount } from '../shared/format';
import { el } from '../shared/theme';
import { classShares, formatMs, formatPercent, judgeErrorRate, judgeP95, predictionText } from './tiles';

export interface VersionsTableInput {
  versions: readonly VersionHealth[];
  colorOf(version: string): string;
  classColor(key: string): string;
  thresholds: Thresholds;
  hidden: ReadonlySet<string>;
  onToggle(version: string, shown: boolean): void;
}

export function versionsTable(input: VersionsTableInput): HTMLTableElement {
  const total = input.versions.reduce((sum, health) => sum + health.requests, 0);
  const head = el(
    'tr',
    {},
    el('th', { text: 'Version' }),
    ...['Requests', 'Traffic', 'Error rate', 'p50', 'p95', 'p99'].map((text) => el('th', { className: 'num', text })),
    el('th', { text: 'Predictions' }),
  );
  const rows = input.versions.map((health) => {
    const show = document.createElement('vscode-checkbox');
    show.checked = !input.hidden.has(health.version);
    show.title = 'Show this version in the charts';
    show.setAttribute('aria-label', `Show ${health.version} in the charts`);
    show.addEventListener('change', () => input.onToggle(health.version, show.checked));
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = input.colorOf(health.version);
    const { latencyMs } = health;
    return el(
      'tr',
      {},
      el(
        'td',
        { className: 'version' },
        el('div', { className: 'cell-row' }, show, swatch, el('span', { text: health.version, title: health.version })),
      ),
      el('td', { className: 'num', text: formatCount(health.requests) }),
      el('td', { className: 'num', text: total > 0 ? formatPercent(health.requests / total) : '—' }),
      el('td', {
        className: `num level-${judgeErrorRate(health.errorRate, health.requests, input.thresholds)}`,
        text: formatPercent(health.errorRate),
      }),
      el('td', { className: 'num', text: formatMs(latencyMs.p50) }),
      el('td', { className: `num level-${judgeP95(latencyMs.p95, input.thresholds)}`, text: formatMs(latencyMs.p95) }),
      el('td', { className: 'num', text: formatMs(latencyMs.p99) }),
      predictionCell(health, input.classColor),
    );
  });
  return el('table', { className: 'grid versions' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

/** The class mix as a small stacked bar beside its text; other predictions as text. */
function predictionCell(health: VersionHealth, classColor: (key: string) => string): HTMLElement {
  const cell = el('div', { className: 'cell-row' });
  const { predictions } = health;
  if (predictions.kind === 'classes') {
    const parts = classShares(predictions.counts, 7);
    if (parts.length > 0) {
      const bar = el('span', { className: 'mix' });
      bar.setAttribute('aria-hidden', 'true');
      for (const part of parts) {
        const segment = el('span', { title: `${part.key}: ${formatPercent(part.share)}` });
        segment.style.width = `${part.share * 100}%`;
        segment.style.background = classColor(part.key);
        bar.append(segment);
      }
      cell.append(bar);
    }
  }
  cell.append(el('span', { text: predictionText(predictions) }));
  return el('td', { className: 'predictions' }, cell);
}
