// Per-deployment monitoring settings: thresholds, autoRevert and the training data drift is
// measured against. They come from the `monitoring` section of the workspace's
// `mlops.config.json` and from the `mlops.monitoring.thresholds` setting (which wins), keyed by deployment
// name, with "*" for every deployment:
//   { "monitoring": { "churn": { "errorRate": 0.05, "p95LatencyMs": 250, "psi": 0.25,
//                                "autoRevert": true, "baseline": "data/churn.csv" } } }
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isJsonObject } from '../shared/checked';
import { MlopsError } from '../shared/errors';
import type { Thresholds } from './model';

export interface DeploymentMonitoring {
  thresholds: Thresholds;
  /** The training data: a dataset file (resolved against the workspace) or a lake table. */
  baseline?: { file?: string; table?: string };
}

export const CONFIG_FILE = 'mlops.config.json';
type Section = Record<string, Record<string, unknown>>;

const NUMBER_FIELDS = ['errorRate', 'p95LatencyMs', 'psi', 'minRequests'] as const;

function checkEntry(entry: unknown, where: string): Record<string, unknown> {
  if (!isJsonObject(entry)) throw new MlopsError(`${where} must be an object of thresholds.`);
  const record = entry;
  for (const field of NUMBER_FIELDS) {
    const value = record[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0))
      throw new MlopsError(`${where}.${field} must be a number, 0 or more, not ${JSON.stringify(value)}.`);
  }
  if (typeof record.errorRate === 'number' && record.errorRate > 1)
    throw new MlopsError(
      `${where}.errorRate is a share between 0 and 1 (0.05 for 5 %), not ${String(record.errorRate)}.`,
    );
  if (record.autoRevert !== undefined && typeof record.autoRevert !== 'boolean')
    throw new MlopsError(`${where}.autoRevert must be true or false.`);
  if (record.baseline !== undefined && typeof record.baseline !== 'string')
    throw new MlopsError(`${where}.baseline must be a file path or a lake table name.`);
  return record;
}

/** A section of the workspace's mlops.config.json, `monitoring` by default ({} when there is none). */
export function readConfigSection(workspace: string, name = 'monitoring'): Section {
  const file = join(workspace, CONFIG_FILE);
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MlopsError(
      `${file} is not valid JSON: ${(error as Error).message}.`,
      'Fix the file; monitoring runs without thresholds until then.',
    );
  }
  const section = isJsonObject(parsed) ? parsed[name] : undefined;
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new MlopsError(`${file}: "${name}" must be an object keyed by deployment name.`);
  return section as Section;
}

/** The settings of one deployment: "*" first, then its own entry, the setting over the file. */
export function monitoringFor(name: string, workspace: string, setting: Section = {}): DeploymentMonitoring {
  const file = readConfigSection(workspace);
  const merged: Record<string, unknown> = {};
  for (const [source, section] of [
    [CONFIG_FILE, file],
    ['mlops.monitoring.thresholds', setting],
  ] as const) {
    for (const key of ['*', name])
      if (section[key] !== undefined) Object.assign(merged, checkEntry(section[key], `${source} monitoring["${key}"]`));
  }
  const thresholds: Thresholds = {};
  for (const field of NUMBER_FIELDS) if (typeof merged[field] === 'number') thresholds[field] = merged[field];
  if (typeof merged.autoRevert === 'boolean') thresholds.autoRevert = merged.autoRevert;
  const baseline = typeof merged.baseline === 'string' ? baselineOf(merged.baseline, workspace) : undefined;
  return { thresholds, ...(baseline ? { baseline } : {}) };
}

/** A path that exists (or looks like one) is a file; a bare name is a lake table. */
export function baselineOf(text: string, workspace: string): { file?: string; table?: string } {
  const path = isAbsolute(text) ? text : join(workspace, text);
  if (existsSync(path) || /[/\\.]/.test(text)) return { file: path };
  return { table: text };
}
