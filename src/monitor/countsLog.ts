// The counters of every scrape, kept on disk so a window reaches back past the last restart of
// the extension or the CLI: one JSON line per scrape in a file per UTC day,
// `.mlops/monitoring/<target>/<deployment>/counts-YYYY-MM-DD.jsonl`. Days older than
// KEEP_DAYS are deleted as new ones start.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CountsRecord } from './counts';

export const KEEP_DAYS = 8;
const DAY_MS = 86_400_000;
const FILE = /^counts-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** The folder of a deployment's monitoring files. */
export function monitoringDir(workspace: string, target: string, deployment: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return join(workspace, '.mlops', 'monitoring', safe(target), safe(deployment));
}

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

export function appendCounts(dir: string, record: CountsRecord): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `counts-${dayOf(record.at)}.jsonl`);
  const fresh = !existsSync(file);
  // JSON has no Infinity: the +Inf bucket bound is written as null.
  appendFileSync(file, `${JSON.stringify(record, (_key, value: unknown) => (value === Infinity ? null : value))}\n`);
  if (fresh) prune(dir, record.at);
}

function prune(dir: string, now: number): void {
  const oldest = dayOf(now - KEEP_DAYS * DAY_MS);
  for (const name of readdirSync(dir)) {
    const day = FILE.exec(name)?.[1];
    if (day && day < oldest) rmSync(join(dir, name), { force: true });
  }
}

/** Records between `from` and `to` (epoch ms), oldest first; damaged lines are skipped. */
export function readCounts(dir: string, from: number, to: number): CountsRecord[] {
  if (!existsSync(dir)) return [];
  const [first, last] = [dayOf(from), dayOf(to)];
  const records: CountsRecord[] = [];
  for (const name of readdirSync(dir).sort()) {
    const day = FILE.exec(name)?.[1];
    if (!day || day < first || day > last) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      // Lines start with their time: those outside the range are passed over unparsed.
      const at = line.startsWith('{"at":') ? Number(line.slice(6, line.indexOf(',', 6))) : NaN;
      if (at < from || at > to) continue;
      try {
        const record = JSON.parse(line) as CountsRecord;
        if (record.at < from || record.at > to) continue;
        for (const instance of record.instances) {
          for (const histogram of [instance.latency, instance.values])
            if (histogram) histogram.bounds = histogram.bounds.map((b) => b ?? Infinity);
        }
        records.push(record);
      } catch {
        // A line cut short by a crash: the scrapes around it still count.
      }
    }
  }
  return records.sort((a, b) => a.at - b.at);
}

/** The last record at or before `at`, looking back up to KEEP_DAYS. */
export function countsAtOrBefore(dir: string, at: number): CountsRecord | undefined {
  for (let day = 0; day <= KEEP_DAYS; day++) {
    const dayStart = Date.parse(`${dayOf(at - day * DAY_MS)}T00:00:00Z`);
    const found = readCounts(dir, dayStart, Math.min(at, dayStart + DAY_MS - 1)).at(-1);
    if (found) return found;
  }
  return undefined;
}
