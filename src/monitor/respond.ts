// What happens when thresholds are breached: an alert is new when it was not firing at the last
// look (kept in `firing.json`), new alerts go to the audit log, and with `autoRevert` the
// deployment goes back to its stable revision, once per breach rather than at every look.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import type { DeployTarget } from '../deploy/targets/deployTarget';
import { describeError } from '../shared/errors';
import { revertToStable } from './alerts';
import { appendAudit } from './audit';
import type { Alert, AuditEntry, Thresholds } from './model';

export interface Response {
  /** Alerts that started firing at this look. */
  fresh: Alert[];
  /** The audit entries written. */
  entries: AuditEntry[];
}

const keyOf = (alert: Alert) => `${alert.rule}|${alert.version}|${alert.feature ?? ''}`;

/** `firing.json`: the keys of the alerts firing at the last look; a damaged file counts as none. */
const FiringKeys = v.array(v.string());

function readFiring(dir: string): Set<string> {
  const file = join(dir, 'firing.json');
  try {
    return new Set(existsSync(file) ? v.parse(FiringKeys, JSON.parse(readFileSync(file, 'utf8'))) : []);
  } catch {
    return new Set();
  }
}

type RespondInput = {
  dir: string;
  target: DeployTarget;
  targetId: string;
  name: string;
  alerts: Alert[];
  thresholds: Thresholds;
  by: string;
  signal?: AbortSignal;
};

// Looks at one deployment can overlap (the panel's refresh, the watcher): one responds at a time,
// so the second sees what the first recorded as firing.
const responding = new Map<string, Promise<unknown>>();

export function respondToAlerts(input: RespondInput): Promise<Response> {
  const previous = responding.get(input.dir) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => respond(input));
  responding.set(input.dir, next);
  void next.finally(() => responding.get(input.dir) === next && responding.delete(input.dir)).catch(() => undefined);
  return next;
}

async function respond(input: RespondInput): Promise<Response> {
  const { dir, target, targetId, name } = input;
  const firing = readFiring(dir);
  const fresh = input.alerts.filter((alert) => !firing.has(keyOf(alert)));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'firing.json'), JSON.stringify(input.alerts.map(keyOf)));
  const entries: AuditEntry[] = [];
  const write = (entry: Omit<AuditEntry, 'at' | 'target' | 'deployment'>) => {
    const full: AuditEntry = { at: new Date().toISOString(), target: targetId, deployment: name, ...entry };
    appendAudit(dir, full);
    entries.push(full);
  };
  for (const alert of fresh) write({ kind: 'alert', message: alert.message, alert, by: 'monitor' });
  if (fresh.length && input.thresholds.autoRevert) {
    try {
      const { result, from, to, pinned } = await revertToStable(target, name, { signal: input.signal });
      const what = pinned
        ? `the stable revision ${to}`
        : `the previous revision ${to} (no revision is pinned as stable)`;
      if (result === null)
        write({
          kind: 'revert',
          message: `Auto-revert: ${what} already serves ${name}.`,
          fromRevision: from,
          toRevision: to,
          by: 'auto',
        });
      else
        write({
          kind: 'revert',
          message: `Auto-revert: ${name} went back from revision ${from} to ${what} after: ${fresh.map((a) => a.message).join(' ')}`,
          fromRevision: from,
          toRevision: to,
          by: 'auto',
        });
    } catch (error) {
      write({ kind: 'revert-failed', message: `Auto-revert of ${name} failed: ${describeError(error)}`, by: 'auto' });
    }
  }
  return { fresh, entries };
}

/** Records a revert the user asked for. */
export function auditManualRevert(
  dir: string,
  entry: { targetId: string; name: string; from: number; to: number; by: string; message: string },
): AuditEntry {
  const full: AuditEntry = {
    at: new Date().toISOString(),
    target: entry.targetId,
    deployment: entry.name,
    kind: 'revert',
    message: entry.message,
    fromRevision: entry.from,
    toRevision: entry.to,
    by: entry.by,
  };
  appendAudit(dir, full);
  return full;
}
