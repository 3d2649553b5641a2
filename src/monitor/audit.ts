// The audit log of a deployment's alerts and reverts: `audit.jsonl` beside its recorded counts,
// appended line by line so a crash loses at most the line being written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { JsonNumber, readJsonLines, type JsonLinesOptions } from '../shared/checked';
import type { AuditEntry } from './model';

const AuditLine: v.GenericSchema<unknown, AuditEntry> = v.looseObject({
  at: v.string(),
  target: v.string(),
  deployment: v.string(),
  kind: v.picklist(['alert', 'revert', 'revert-failed', 'review', 'split', 'promotion']),
  message: v.string(),
  alert: v.optional(
    v.looseObject({
      rule: v.picklist(['errorRate', 'p95LatencyMs', 'psi']),
      version: v.string(),
      value: JsonNumber,
      threshold: JsonNumber,
      feature: v.optional(v.string()),
      message: v.string(),
    }),
  ),
  fromRevision: v.optional(v.number()),
  toRevision: v.optional(v.number()),
  by: v.string(),
});

export function appendAudit(dir: string, entry: AuditEntry): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'audit.jsonl'), `${JSON.stringify(entry)}\n`);
}

/** Newest first; damaged lines are skipped (and given to `options.onBadLine`). */
export function readAudit(dir: string, limit = 200, options: JsonLinesOptions = {}): AuditEntry[] {
  return readJsonLines(join(dir, 'audit.jsonl'), AuditLine, 'an audit entry', options).reverse().slice(0, limit);
}
