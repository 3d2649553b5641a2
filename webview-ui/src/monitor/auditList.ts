// The audit log of the deployment: alerts and reverts, newest first.
import type { AuditEntry } from '../../../src/monitor/contract';
import { icon } from '../shared/controls';
import { el } from '../shared/theme';

const KINDS: Record<AuditEntry['kind'], { icon: string; text: string }> = {
  alert: { icon: 'warning', text: 'Alert' },
  revert: { icon: 'history', text: 'Revert' },
  'revert-failed': { icon: 'error', text: 'Revert failed' },
  review: { icon: 'feedback', text: 'Review' },
  split: { icon: 'split-horizontal', text: 'Traffic split' },
  promotion: { icon: 'rocket', text: 'Promotion' },
};

/** "revision 7 → 5" for a revert that names them. */
export function revisionText(entry: AuditEntry): string {
  if (entry.fromRevision === undefined && entry.toRevision === undefined) return '';
  return `revision ${entry.fromRevision ?? '?'} → ${entry.toRevision ?? '?'}`;
}

export function auditList(entries: readonly AuditEntry[], shown: number): HTMLElement {
  const items = entries.slice(0, shown).map((entry) => {
    const kind = KINDS[entry.kind] ?? KINDS.alert;
    const at = new Date(entry.at);
    const time = el('time', {
      className: 'muted',
      text: Number.isNaN(at.getTime())
        ? entry.at
        : at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }),
    });
    time.dateTime = entry.at;
    const details = [revisionText(entry), entry.by === 'auto' ? 'automatic' : entry.by ? `by ${entry.by}` : '']
      .filter(Boolean)
      .join(' · ');
    return el(
      'li',
      { className: `audit-${entry.kind}` },
      icon(kind.icon, 'audit-icon'),
      el(
        'div',
        { className: 'audit-body' },
        el('div', {}, el('strong', { text: `${kind.text} ` }), entry.message),
        el('div', { className: 'muted' }, time, details ? ` · ${details}` : ''),
      ),
    );
  });
  return el('ul', { className: 'audit' }, ...items);
}
