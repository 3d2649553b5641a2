// Sources of an ingest: file paths and globs (`data/*.csv`, `raw/**/part-?.parquet`,
// `{a,b}.jsonl`), expanded to existing files with their format.
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { MlopsError } from '../../shared/errors';
import { expandBraces, hasMagic, segmentRegex } from '../glob';
import type { DatasetFormat } from '../model';

const FORMATS: Record<string, DatasetFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export function formatOf(path: string): DatasetFormat {
  const format = FORMATS[extname(path).toLowerCase()];
  if (!format)
    throw new MlopsError(
      `${path} is not a CSV, TSV, Parquet, JSON or JSONL file.`,
      `The lake ingests ${Object.keys(FORMATS).join(', ')} files.`,
    );
  return format;
}

async function kind(path: string): Promise<'file' | 'dir' | undefined> {
  const stats = await stat(path).catch(() => undefined);
  return stats?.isFile() ? 'file' : stats?.isDirectory() ? 'dir' : undefined;
}

// Hidden entries (.git, .mlops, ...) are skipped unless the pattern names them with a leading dot.
async function walk(
  dir: string,
  segments: string[],
  found: Set<string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head === '**') {
    await walk(dir, rest, found, signal);
    for (const entry of await listFolder(dir)) {
      if (entry.isDirectory() && !entry.name.startsWith('.'))
        await walk(join(dir, entry.name), segments, found, signal);
    }
    return;
  }
  const candidates = hasMagic(head)
    ? (await listFolder(dir))
        .filter((entry) => (head.startsWith('.') || !entry.name.startsWith('.')) && segmentRegex(head).test(entry.name))
        .map((entry) => entry.name)
    : [head];
  for (const name of candidates) {
    const path = join(dir, name);
    const what = await kind(path);
    if (rest.length === 0 && what === 'file') found.add(path);
    else if (rest.length > 0 && what === 'dir') await walk(path, rest, found, signal);
  }
}

function listFolder(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** Expands one glob to the files it matches, sorted. The part before the first wildcard is the folder searched. */
export async function expandGlob(pattern: string, cwd: string, signal?: AbortSignal): Promise<string[]> {
  const found = new Set<string>();
  for (const expanded of expandBraces(pattern)) {
    const absolute = isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
    const segments = absolute.split(/[\\/]+/);
    if (segments.at(-1) === '**') segments.push('*');
    const firstMagic = segments.findIndex(hasMagic);
    const base = segments.slice(0, firstMagic).join('/') || '/';
    await walk(base, segments.slice(firstMagic), found, signal);
  }
  return [...found].sort();
}

/** The files named by `sources` (paths or globs), absolute, de-duplicated, in order. */
export async function resolveSources(sources: string[], cwd: string, signal?: AbortSignal): Promise<string[]> {
  if (sources.length === 0)
    throw new MlopsError('Nothing to ingest: no files given.', 'Name a file or a glob such as data/*.csv.');
  const files: string[] = [];
  for (const source of sources) {
    if (hasMagic(source)) {
      const matched = await expandGlob(source, cwd, signal);
      if (matched.length === 0)
        throw new MlopsError(
          `No files match ${source} (in ${cwd}).`,
          'Check the pattern: * matches within a folder, ** across folders.',
        );
      files.push(...matched);
    } else {
      const path = resolve(cwd, source);
      const what = await kind(path);
      if (what !== 'file')
        throw new MlopsError(
          what === 'dir' ? `${path} is a folder, not a file.` : `${path} does not exist.`,
          what === 'dir' ? `Use a glob such as ${join(source, '*.csv')}.` : undefined,
        );
      files.push(path);
    }
  }
  return [...new Set(files)];
}
