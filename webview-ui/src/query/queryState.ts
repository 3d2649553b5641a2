// The Query panel's texts and choices: table names as SQL, version labels, pins kept across
// reloads of the table list, and the line that sums up a result.
import { QUERY_ROW_LIMIT, type QueryTable, type QueryTableVersion } from '../../../src/datasets/contract';
import { formatCount, formatDuration } from '../shared/format';

/** A table name as it can be typed in SQL: bare when it is a plain identifier, double-quoted otherwise. */
export function sqlIdentifier(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function defaultQuery(tables: readonly QueryTable[]): string {
  return tables.length > 0 ? `SELECT *\nFROM ${sqlIdentifier(tables[0].name)}\nLIMIT 100;` : '';
}

/** "v3 · 2 May 2025, 14:03", from the version's creation time in the webview's time zone. */
export function versionLabel(version: QueryTableVersion): string {
  const created = new Date(version.createdAt);
  const when = Number.isNaN(created.getTime())
    ? version.createdAt
    : created.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return `v${version.version} · ${when}`;
}

/** `text` with `insert` in place of [start, end), spaced from the words around it; and where the cursor goes after it. */
export function insertWord(text: string, start: number, end: number, insert: string): { text: string; cursor: number } {
  const before = text.slice(0, start);
  const after = text.slice(end);
  const head = `${before}${before === '' || /[\s(,.]$/.test(before) ? '' : ' '}${insert}`;
  const tail = `${after === '' || /^[\s),;.]/.test(after) ? '' : ' '}${after}`;
  return { text: head + tail, cursor: head.length };
}

/**
 * The pins whose table and version still exist. A pin to the version that is the latest now stays:
 * it keeps the query on that version when a newer one is written.
 */
export function keepKnownPins(
  pins: Readonly<Record<string, number>>,
  tables: readonly QueryTable[],
): Record<string, number> {
  const kept: Record<string, number> = {};
  for (const table of tables) {
    const pinned = pins[table.name];
    if (pinned !== undefined && table.versions.some((version) => version.version === pinned)) kept[table.name] = pinned;
  }
  return kept;
}

/** "1,234 rows in 45 ms", or "10,000 rows (truncated at 10,000) in 1.2s". */
export function resultSummary(rows: number, truncated: boolean, elapsedMs: number): string {
  const count = `${formatCount(rows)} ${rows === 1 ? 'row' : 'rows'}`;
  const cut = truncated ? ` (truncated at ${formatCount(QUERY_ROW_LIMIT)})` : '';
  const time = elapsedMs < 1000 ? `${elapsedMs} ms` : formatDuration(elapsedMs / 1000);
  return `${count}${cut} in ${time}`;
}
