// The audit log of a deployment's alerts and reverts: `audit.jsonl` beside its recorded counts,
// appended line by line so a crash loses at most the line being written.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from './model';

export function appendAudit(dir: string, entry: AuditEntry): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify(entry)}\n`);
}

/** Newest first; damaged lines are skipped. */
export function readAudit(dir: string, limit = 200): AuditEntry[] {
  const file = join(dir, 'audit.jsonl');
  if (!existsSync(file)) return [];
  const entries: AuditEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      // a line cut short by a crash
    }
  }
  return entries.reverse().slice(0, limit);
}
