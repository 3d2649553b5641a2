// Sources of an ingest: file paths and globs (`data/*.csv`, `raw/**/part-?.parquet`,
// `{a,b}.jsonl`), expanded to existing files with their format.
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { MlopsError } from '../../shared/errors';
import { globMatcher, scanGlob } from '../globSyntax';
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

/** Expands one glob to the files it matches, sorted. The part before the first wildcard is the folder searched. */
export async function expandGlob(pattern: string, cwd: string, signal?: AbortSignal): Promise<string[]> {
  const { base, glob } = scanGlob(sep === '\\' ? pattern.replaceAll('\\', '/') : pattern);
  // Hidden entries (.git, .mlops, ...) are skipped unless the pattern names them with a leading dot.
  const matches = globMatcher([glob], { dot: false });
  const namesHidden = /(^|[/{,])\./.test(glob);
  // Without `**` a match is at most as deep as the glob has folders (a `/` inside braces only adds one).
  const maxDepth = glob.includes('**') ? Infinity : glob.split('/').length;
  const found: string[] = [];
  const walk = async (dir: string, relativeDir: string, depth: number): Promise<void> => {
    signal?.throwIfAborted();
    for (const entry of await listFolder(dir)) {
      if (entry.name.startsWith('.') && !namesHidden) continue;
      const path = join(dir, entry.name);
      const relativePath = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      // Links to files count; a link to a folder is followed only without `**` (it could loop).
      const what = entry.isSymbolicLink()
        ? await kind(path)
        : entry.isFile()
          ? 'file'
          : entry.isDirectory()
            ? 'dir'
            : undefined;
      if (what === 'file' && matches(relativePath)) found.push(path);
      else if (what === 'dir' && depth < maxDepth && (!entry.isSymbolicLink() || maxDepth !== Infinity))
        await walk(path, relativePath, depth + 1);
    }
  };
  await walk(resolve(cwd, base), '', 1);
  return [...new Set(found)].sort();
}

async function kind(path: string): Promise<'file' | 'dir' | undefined> {
  const stats = await stat(path).catch(() => undefined);
  return stats?.isFile() ? 'file' : stats?.isDirectory() ? 'dir' : undefined;
}

function listFolder(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** The files named by `sources` (paths or globs), absolute, de-duplicated, in order. */
export async function resolveSources(sources: string[], cwd: string, signal?: AbortSignal): Promise<string[]> {
  if (sources.length === 0)
    throw new MlopsError('Nothing to ingest: no files given.', 'Name a file or a glob such as data/*.csv.');
  const files: string[] = [];
  for (const source of sources) {
    if (scanGlob(source).isGlob) {
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
