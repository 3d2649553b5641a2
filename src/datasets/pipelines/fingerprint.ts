// A step's fingerprint: the hash of its definition and of what it reads. Same fingerprint as the
// last successful run (and its output table untouched since): the step is skipped.
import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { MlopsError } from '../../shared/errors';
import { sha256File } from '../../shared/fileHash';
import { resolveSources } from '../lake/globs';
import type { LakeTable } from '../model';
import { sameTable, stepReads } from './dag';
import type { PipelineStep, TableRef } from './pipelineModel';

export interface FingerprintInputs {
  /** Ingest: each source file, relative to the workspace root, with its sha256. */
  files?: { path: string; sha256: string }[];
  /** Transforms and validations: the version of each table read. */
  tables?: { table: string; version: number; createdAt: string }[];
  /** Python transforms: the script's sha256. */
  script?: string;
}

export function stepFingerprint(step: PipelineStep, inputs: FingerprintInputs): string {
  // Where the step is written and its description do not change what it computes.
  const { position: _position, fieldPositions: _fieldPositions, description: _description, ...definition } = step;
  return createHash('sha256').update(canonicalJson({ definition, inputs })).digest('hex');
}

/** JSON with object keys sorted, so that equal values hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface GatheredInputs {
  inputs: FingerprintInputs;
  /** Ingest: the files to ingest, absolute, exactly those hashed. */
  sourceFiles?: string[];
  /** The tables read, as the lake names them, at the versions hashed; in the order the step lists them. */
  tables: TableRef[];
}

/** Reads what a step depends on now: the source files, the tables' latest versions, the script. */
export async function gatherInputs(
  step: PipelineStep,
  context: { root: string; pipelineOutputs: readonly string[]; lakeTables: readonly LakeTable[]; signal?: AbortSignal },
): Promise<GatheredInputs> {
  const { root, pipelineOutputs, lakeTables, signal } = context;
  if (step.kind === 'ingest') {
    // The lake's own expansion, so that the files hashed are the files it would ingest.
    const sourceFiles = await resolveSources(step.from, root);
    const files: { path: string; sha256: string }[] = [];
    for (const file of sourceFiles)
      files.push({ path: relative(root, file), sha256: await sha256File(file, { signal }) });
    return { inputs: { files }, sourceFiles, tables: [] };
  }
  const known = [...new Set([...pipelineOutputs, ...lakeTables.map((t) => t.name)])];
  const tables = stepReads(step, known).map((table) => {
    const found = lakeTables.find((t) => sameTable(t.name, table));
    if (!found)
      throw new MlopsError(
        `Step '${step.name}' reads table '${table}', which is not in the lake.`,
        `Ingest it first, or add a step whose output is ${table}.`,
      );
    return { table: found.name, version: found.latest.version, createdAt: found.latest.createdAt };
  });
  const pinned = tables.map(({ table, version }) => ({ table, version }));
  if (step.kind !== 'python') return { inputs: { tables }, tables: pinned };
  const script = await sha256File(resolve(root, step.script), { signal }).catch((error: unknown) => {
    throw new MlopsError(
      `Cannot read the script of step '${step.name}': ${resolve(root, step.script)} (${(error as Error).message}).`,
      'Check the path in python:, relative to the workspace root.',
    );
  });
  return { inputs: { tables, script }, tables: pinned };
}
