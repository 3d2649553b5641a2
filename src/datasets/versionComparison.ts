// Two versions of a dataset side by side, as Markdown: row counts, the schema diff, and how each
// shared column's statistics moved.
import { describeChange, schemaChanges } from './lake/schemaChanges';
import type { ColumnProfile, DatasetProfile } from './model';

export interface ProfiledVersion {
  label: string;
  profile: DatasetProfile;
}

const STATS = ['nulls', 'distinct', 'min', 'max', 'mean', 'std'] as const;

function cell(value: ColumnProfile[(typeof STATS)[number]]): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : String(value).replace(/\|/g, '\\|');
}

export function compareVersionsMarkdown(title: string, before: ProfiledVersion, after: ProfiledVersion): string {
  const changes = schemaChanges(before.profile.columns, after.profile.columns);
  const delta = after.profile.rows - before.profile.rows;
  const lines = [
    `# ${title}`,
    '',
    `| | ${before.label} | ${after.label} |`,
    '| --- | --- | --- |',
    `| rows | ${before.profile.rows.toLocaleString('en')} | ${after.profile.rows.toLocaleString('en')} (${delta >= 0 ? '+' : ''}${delta.toLocaleString('en')}) |`,
    `| columns | ${before.profile.columns.length} | ${after.profile.columns.length} |`,
    '',
    '## Schema',
    '',
    ...(changes.length
      ? changes.map((change) => `- ${describeChange(change)}`)
      : ['No column was added, removed or retyped.']),
    '',
    '## Column statistics',
    '',
    `| column | statistic | ${before.label} | ${after.label} |`,
    '| --- | --- | --- | --- |',
  ];
  const beforeByName = new Map(before.profile.columns.map((c) => [c.name, c]));
  for (const column of after.profile.columns) {
    const old = beforeByName.get(column.name);
    if (!old) continue;
    for (const stat of STATS) {
      const [a, b] = [cell(old[stat]), cell(column[stat])];
      if (a !== b) lines.push(`| ${column.name} | ${stat} | ${a} | **${b}** |`);
    }
  }
  if (lines.at(-1)?.startsWith('| ---')) lines.push('| | no statistic changed | | |');
  return `${lines.join('\n')}\n`;
}
