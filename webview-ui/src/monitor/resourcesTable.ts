// CPU and memory of each task or pod, as the orchestrator measures them now.
import type { ResourceUse } from '../../../src/monitor/contract';
import { el } from '../shared/theme';

const number = (value: number | null, digits: number, unit: string) =>
  value === null ? '—' : `${value.toFixed(digits)} ${unit}`;

export function resourcesTable(rows: readonly ResourceUse[]): HTMLTableElement {
  const head = el(
    'tr',
    {},
    el('th', { text: 'Task or pod' }),
    el('th', { className: 'num', text: 'CPU (% of a core)' }),
    el('th', { className: 'num', text: 'Memory' }),
  );
  const body = rows.map((row) =>
    el(
      'tr',
      {},
      el('td', { text: row.instance }),
      el('td', { className: 'num', text: number(row.cpuPercent, 1, '%') }),
      el('td', { className: 'num', text: number(row.memoryMb, 0, 'MiB') }),
    ),
  );
  return el('table', { className: 'grid resources' }, el('thead', {}, head), el('tbody', {}, ...body));
}
