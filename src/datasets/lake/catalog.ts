// The lake on disk. Every version is an immutable folder holding its Parquet files and a
// `_manifest.json`:
//
//   <root>/tables/<table>/v<N>/part-0.parquet
//   <root>/tables/<table>/v<N>/part-1.parquet    ... after appends (at most MAX_PARTS parts)
//   <root>/tables/<table>/v<N>/_manifest.json   what the version is (sources, rows, schema, files...)
//   <root>/tables/<table>/.lock                 held by the one process writing the table
//   <root>/.staging/<table>.<pid>.<random>/     a version being written
//
// A version is written whole in .staging, manifest included, fsynced, then renamed to v<N> in one
// step: readers see all of it or none of it, and need no lock. A folder without a manifest is
// never a version; interrupted writes are swept by the next writer.
//
// An append makes a version of the previous version's parts, hard-linked (no copy, and no later
// write can change them: a part is never written in place), plus one new part.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { checked, checkedJson } from '../../shared/checked';
import { MlopsError } from '../../shared/errors';
import type { LakeTableVersion } from '../model';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_FOLDER = /^v([1-9][0-9]*)$/;
const MANIFEST = '_manifest.json';
const MANIFEST_FORMAT = 1;

/** An append past this many parts rewrites the table as one part (a read opens every part). */
export const MAX_PARTS = 32;

export interface Manifest extends LakeTableVersion {
  format: typeof MANIFEST_FORMAT;
  /** The version's Parquet files, relative to its folder. */
  files: { name: string; bytes: number }[];
}

const SourceFileSchema = v.object({ path: v.string(), sha256: v.string(), bytes: v.number() });
const ColumnSchema = v.object({ name: v.string(), type: v.string() });
const SchemaChangeSchema = v.object({
  kind: v.picklist(['added', 'removed', 'retyped']),
  column: v.string(),
  from: v.optional(v.string()),
  to: v.optional(v.string()),
});

/** A manifest of `table` version `version` in this extension's format (keys it does not know are kept). */
function manifestSchema(table: string, version: number) {
  return v.looseObject({
    format: v.literal(MANIFEST_FORMAT),
    table: v.literal(table),
    version: v.literal(version),
    createdAt: v.string(),
    sources: v.array(SourceFileSchema),
    producedBy: v.optional(v.string()),
    rows: v.number(),
    schema: v.array(ColumnSchema),
    schemaChanges: v.array(SchemaChangeSchema),
    files: v.array(v.object({ name: v.string(), bytes: v.number() })),
  });
}

export function checkTableName(table: string): void {
  if (!TABLE_NAME.test(table)) {
    throw new MlopsError(
      `'${table}' is not a valid table name.`,
      'A table name starts with a letter or _ and holds only letters, digits and _ (for example sales_2024).',
    );
  }
}

export const tableDir = (root: string, table: string) => join(root, 'tables', table);
export const versionDir = (root: string, table: string, version: number) => join(tableDir(root, table), `v${version}`);

function readDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Committed versions of a table, oldest first. */
export function versionNumbers(root: string, table: string): number[] {
  return readDir(tableDir(root, table))
    .map((name) => VERSION_FOLDER.exec(name))
    .filter((match) => match !== null && existsSync(join(tableDir(root, table), match[0], MANIFEST)))
    .map((match) => Number(match![1]))
    .sort((a, b) => a - b);
}

/** Tables with at least one committed version, by name. */
export function tableNames(root: string): string[] {
  return readDir(join(root, 'tables'))
    .filter((name) => TABLE_NAME.test(name) && versionNumbers(root, name).length > 0)
    .sort();
}

export function readManifest(root: string, table: string, version: number): Manifest {
  const path = join(versionDir(root, table, version), MANIFEST);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MlopsError(
      `${path} cannot be read: ${(error as Error).message}.`,
      'Restore the file, or delete its version folder to drop the version.',
      { cause: error },
    );
  }
  const expected = `a manifest of ${table} version ${version} that this extension can read`;
  return checked(manifestSchema(table, version), manifest, path, expected);
}

/** The manifest minus the storage details, as the Lake API returns versions. */
export function publicVersion({ format: _format, files: _files, ...version }: Manifest): LakeTableVersion {
  return version;
}

export function parquetFiles(root: string, table: string, version: number): string[] {
  return readManifest(root, table, version).files.map((file) => join(versionDir(root, table, version), file.name));
}

function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Folders cannot be opened for fsync on Windows; their rename is durable there anyway.
    if (!statSync(path).isDirectory()) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const LockOwnerSchema = v.object({ pid: v.number(), host: v.string(), since: v.string() });
type LockOwner = v.InferOutput<typeof LockOwnerSchema>;

/**
 * Takes the table's writer lock, or fails naming the process that holds it. A lock left by a
 * process that died (killed mid-ingest) is taken over. Returns the release function.
 */
export function lockTable(root: string, table: string): () => void {
  const dir = tableDir(root, table);
  const lock = join(dir, '.lock');
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  // Written aside then hard-linked: the link appears atomically, always with its content.
  const candidate = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(candidate, JSON.stringify(owner));
  } catch {
    // The folder was removed meanwhile by a failed first write releasing its lock.
    mkdirSync(dir, { recursive: true });
    writeFileSync(candidate, JSON.stringify(owner));
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(candidate, lock);
        return () => {
          rmSync(lock, { force: true });
          // A first write that failed leaves no trace of the table.
          if (readDir(dir).length === 0) rmSync(dir, { recursive: true, force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let text: string;
      try {
        text = readFileSync(lock, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      const holder = checkedJson(
        LockOwnerSchema,
        text,
        `The write lock ${lock}`,
        'a lock this extension wrote',
        `If no process is writing table ${table}, delete ${lock}.`,
      );
      if (holder.host === owner.host && !isAlive(holder.pid)) {
        // Moved aside before removal, so two processes taking over at once cannot delete each other's new lock.
        try {
          renameSync(lock, `${candidate}.stale`);
          rmSync(`${candidate}.stale`, { force: true });
        } catch {
          // another process took it over first
        }
        continue;
      }
      throw new MlopsError(
        `Table ${table} is being written by process ${holder.pid} on ${holder.host} (since ${holder.since}).`,
        `Try again when it has finished. If no such process is running, delete ${lock}.`,
      );
    }
    throw new MlopsError(`Could not take the write lock ${lock}.`, 'Try again.');
  } finally {
    rmSync(candidate, { force: true });
  }
}

/**
 * Removes what interrupted writes left: staging folders of dead writers and of this table (whose
 * lock the caller holds), and version folders that never got their manifest. Call with the lock held.
 */
export function sweep(root: string, table: string): void {
  const staging = join(root, '.staging');
  for (const name of readDir(staging)) {
    const [owner, pid] = name.split('.');
    if (owner === table || !isAlive(Number(pid))) rmSync(join(staging, name), { recursive: true, force: true });
  }
  for (const name of readDir(tableDir(root, table))) {
    if (VERSION_FOLDER.test(name) && !existsSync(join(tableDir(root, table), name, MANIFEST))) {
      rmSync(join(tableDir(root, table), name), { recursive: true, force: true });
    }
  }
  for (const name of readDir(tableDir(root, table))) {
    if (name.startsWith('.lock.') && !isAlive(Number(name.split('.')[2])))
      rmSync(join(tableDir(root, table), name), { force: true });
  }
}

/** Puts a committed part into a staged version: a hard link, or a copy where links are not supported. */
export function linkPart(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
    copyFileSync(from, to);
  }
}

export function makeStaging(root: string, table: string): string {
  const dir = join(root, '.staging', `${table}.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Makes the staged version durable, then publishes it with one rename. */
export function commit(root: string, staging: string, manifest: Manifest): void {
  for (const file of manifest.files) fsyncPath(join(staging, file.name));
  const path = join(staging, MANIFEST);
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncPath(path);
  fsyncPath(staging);
  const target = versionDir(root, manifest.table, manifest.version);
  try {
    renameSync(staging, target);
  } catch (error) {
    throw new MlopsError(`Could not publish ${target}: ${(error as Error).message}.`, undefined, { cause: error });
  }
  fsyncPath(tableDir(root, manifest.table));
}
