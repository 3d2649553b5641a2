// The drift table: per input feature, PSI and KS between the baseline and the window's requests,
// a severity badge and a sparkline of PSI over the window.
import type { DriftRow, OutputDrift } from '../../../src/monitor/contract';
import { el } from '../shared/theme';
import { sortDrift } from './drift';
import { sparklineGeometry } from './sparkline';
import { judge } from './tiles';

export function driftTable(rows: readonly DriftRow[], psiThreshold: number | undefined): HTMLTableElement {
  const head = el(
    'tr',
    {},
    el('th', { text: 'Feature' }),
    el('th', { text: 'Kind' }),
    el('th', {
      className: 'num',
      text: 'PSI',
      title: 'Population stability index against the baseline: under 0.1 no shift, 0.1–0.25 moderate, over 0.25 major',
    }),
    el('th', { className: 'num', text: 'KS', title: 'Kolmogorov–Smirnov statistic (numeric features)' }),
    el('th', { text: 'Severity' }),
    el('th', { text: 'PSI trend', title: 'PSI per slice of the window, oldest on the left' }),
  );
  const body = sortDrift(rows).map((row) => {
    const psi = el('td', { className: `num level-${judge(row.psi, psiThreshold)}`, text: row.psi.toFixed(3) });
    const trend = el('td', { className: 'trend' });
    // Slices without requests are null (NaN on the host): gaps in the line.
    const values = (row.trend ?? []).map((value) => (typeof value === 'number' ? value : Number.NaN));
    const finite = values.filter(Number.isFinite);
    if (finite.length > 0) {
      const line = sparkline(
        values,
        `PSI of ${row.feature} over the window, from ${finite[0].toFixed(3)} to ${finite[finite.length - 1].toFixed(3)}`,
      );
      line.classList.add(`severity-${row.severity}`);
      trend.append(line);
    } else trend.append(el('span', { className: 'muted', text: '—' }));
    return el(
      'tr',
      {},
      el('td', { className: 'feature', text: row.feature }),
      el('td', { className: 'muted', text: row.kind }),
      psi,
      el('td', { className: 'num', text: row.ks === null ? '—' : row.ks.toFixed(3) }),
      el('td', {}, el('span', { className: `badge severity-${row.severity}`, text: row.severity })),
      trend,
    );
  });
  return el('table', { className: 'grid drift' }, el('thead', {}, head), el('tbody', {}, ...body));
}

const SVG = 'http://www.w3.org/2000/svg';

/** The sparkline as an SVG element drawn in `currentColor`; `label` is read by screen readers. */
function sparkline(values: readonly number[], label: string, width = 96, height = 22): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [name, value] of [
    ['width', width],
    ['height', height],
    ['viewBox', `0 0 ${width} ${height}`],
    ['role', 'img'],
    ['aria-label', label],
    ['class', 'sparkline'],
  ] as const) {
    svg.setAttribute(name, String(value));
  }
  const { path, last } = sparklineGeometry(values, width, height);
  if (path) {
    const line = document.createElementNS(SVG, 'path');
    for (const [name, value] of [
      ['d', path],
      ['fill', 'none'],
      ['stroke', 'currentColor'],
      ['stroke-width', '1.5'],
      ['stroke-linejoin', 'round'],
      ['stroke-linecap', 'round'],
    ]) {
      line.setAttribute(name, value);
    }
    svg.append(line);
  }
  if (last) {
    const dot = document.createElementNS(SVG, 'circle');
    for (const [name, value] of [
      ['cx', last.x],
      ['cy', last.y],
      ['r', 2],
      ['fill', 'currentColor'],
    ] as const)
      dot.setAttribute(name, String(value));
    svg.append(dot);
  }
  return svg;
}

/** Output drift: which predictions are compared, PSI, KS and a severity badge. */
export function outputDriftTable(rows: readonly OutputDrift[]): HTMLTableElement {
  const head = el(
    'tr',
    {},
    el('th', { text: 'Compared' }),
    el('th', { className: 'num', text: 'Predictions' }),
    el('th', { className: 'num', text: 'PSI' }),
    el('th', { className: 'num', text: 'KS' }),
    el('th', { text: 'Severity' }),
  );
  const body = rows.map((row) =>
    el(
      'tr',
      {},
      el('td', {
        text:
          row.comparison === 'versions'
            ? `${row.current} against ${row.reference}`
            : 'this window against the one before',
      }),
      el('td', {
        className: 'num muted',
        text: `${row.currentRows.toLocaleString()} / ${row.referenceRows.toLocaleString()}`,
      }),
      el('td', { className: 'num', text: row.psi.toFixed(3) }),
      el('td', { className: 'num', text: row.ks === null ? '—' : row.ks.toFixed(3) }),
      el('td', {}, el('span', { className: `badge severity-${row.severity}`, text: row.severity })),
    ),
  );
  return el('table', { className: 'grid drift' }, el('thead', {}, head), el('tbody', {}, ...body));
}
