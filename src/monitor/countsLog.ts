// The counters of every scrape, kept on disk so a window reaches back past the last restart of
// the extension or the CLI: one JSON line per scrape in a file per UTC day,
// `.mlops/monitoring/<target>/<deployment>/counts-YYYY-MM-DD.jsonl`. Days older than
// KEEP_DAYS are deleted as new ones start.
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { readJsonLines, type JsonLinesOptions } from '../shared/checked';
import type { CountsRecord, Histogram } from './counts';

export const KEEP_DAYS = 8;
const DAY_MS = 86_400_000;
const FILE = /^counts-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** The folder of a deployment's monitoring files. */
export function monitoringDir(workspace: string, target: string, deployment: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return join(workspace, '.mlops', 'monitoring', safe(target), safe(deployment));
}

// Checked once per line of up to 86,400 a day: plain types only (a transform per array element
// costs more than the rest of the panel's work), with the nulls JSON wrote restored after.
const Histogram = v.nullable(
  v.looseObject({
    bounds: v.array(v.nullable(v.number())),
    cumulative: v.array(v.number()),
    sum: v.nullable(v.number()),
  }),
);

const CountsLine = v.looseObject({
  at: v.number(),
  instances: v.array(
    v.looseObject({
      instance: v.string(),
      version: v.string(),
      startedAt: v.optional(v.number()),
      requests: v.number(),
      errors: v.number(),
      latency: Histogram,
      classes: v.record(v.string(), v.number()),
      values: Histogram,
    }),
  ),
  unreachable: v.array(v.looseObject({ instance: v.string(), error: v.string() })),
});

type StoredHistogram = v.InferOutput<typeof Histogram>;
type StoredCounts = v.InferOutput<typeof CountsLine>;

// The same shape as CountsLine, checked by hand: a panel's 24 h window reads 86,400 lines, and
// valibot on each would double the time; the schema then only says what is wrong with a line.
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isHistogram = (value: unknown) =>
  value === null ||
  (isObject(value) &&
    Array.isArray(value.bounds) &&
    value.bounds.every((bound) => bound === null || isNumber(bound)) &&
    Array.isArray(value.cumulative) &&
    value.cumulative.every(isNumber) &&
    (value.sum === null || isNumber(value.sum)));
const isInstance = (value: unknown) =>
  isObject(value) &&
  typeof value.instance === 'string' &&
  typeof value.version === 'string' &&
  (value.startedAt === undefined || isNumber(value.startedAt)) &&
  isNumber(value.requests) &&
  isNumber(value.errors) &&
  isHistogram(value.latency) &&
  isObject(value.classes) &&
  Object.values(value.classes).every(isNumber) &&
  isHistogram(value.values);
const isCounts = (value: unknown): value is StoredCounts =>
  isObject(value) &&
  isNumber(value.at) &&
  Array.isArray(value.instances) &&
  value.instances.every(isInstance) &&
  Array.isArray(value.unreachable) &&
  value.unreachable.every(
    (entry) => isObject(entry) && typeof entry.instance === 'string' && typeof entry.error === 'string',
  );

/** JSON has no Infinity or NaN: the +Inf bucket bound and a NaN sum are stored as null. */
function restored(histogram: StoredHistogram): Histogram | null {
  if (!histogram) return null;
  return {
    bounds: histogram.bounds.map((bound) => bound ?? Infinity),
    cumulative: histogram.cumulative,
    sum: histogram.sum ?? Number.NaN,
  };
}

function countsRecord(line: StoredCounts): CountsRecord {
  return {
    ...line,
    instances: line.instances.map((instance) => ({
      ...instance,
      latency: restored(instance.latency),
      values: restored(instance.values),
    })),
  };
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

/** Records between `from` and `to` (epoch ms), oldest first; damaged lines are skipped (and given to `options.onBadLine`). */
export function readCounts(dir: string, from: number, to: number, options: JsonLinesOptions = {}): CountsRecord[] {
  if (!existsSync(dir)) return [];
  const [first, last] = [dayOf(from), dayOf(to)];
  // Lines start with their time: those outside the range are passed over unparsed.
  const wanted = (line: string) => {
    const at = line.startsWith('{"at":') ? Number(line.slice(6, line.indexOf(',', 6))) : NaN;
    return !(at < from || at > to);
  };
  const records: CountsRecord[] = [];
  for (const name of readdirSync(dir).sort()) {
    const day = FILE.exec(name)?.[1];
    if (!day || day < first || day > last) continue;
    // A line cut short by a crash is skipped: the scrapes around it still count.
    for (const line of readJsonLines(join(dir, name), CountsLine, 'a counts record', {
      ...options,
      wanted,
      accepts: isCounts,
    }))
      if (line.at >= from && line.at <= to) records.push(countsRecord(line));
  }
  return records.sort((a, b) => a.at - b.at);
}

/** The last record at or before `at`, looking back up to KEEP_DAYS; damaged lines go to `options.onBadLine`. */
export function countsAtOrBefore(dir: string, at: number, options: JsonLinesOptions = {}): CountsRecord | undefined {
  for (let day = 0; day <= KEEP_DAYS; day++) {
    const dayStart = Date.parse(`${dayOf(at - day * DAY_MS)}T00:00:00Z`);
    const found = readCounts(dir, dayStart, Math.min(at, dayStart + DAY_MS - 1), options).at(-1);
    if (found) return found;
  }
  return undefined;
}
