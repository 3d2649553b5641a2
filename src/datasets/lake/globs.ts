// Sources of an ingest: file paths and globs (`data/*.csv`, `raw/**/part-?.parquet`,
// `{a,b}.jsonl`), expanded to existing files with their format.
import { readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { MlopsError } from '../../shared/errors';
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
  if (!format) throw new MlopsError(`${path} is not a CSV, TSV, Parquet, JSON or JSONL file.`, `The lake ingests ${Object.keys(FORMATS).join(', ')} files.`);
  return format;
}

export function hasMagic(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** `a{b,c}d` -> `abd`, `acd`; nested braces expand from the inside out. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + match[0].length);
  return match[1].split(',').flatMap((choice) => expandBraces(before + choice + after));
}

function segmentRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replaceAll('\\', '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += char.replace(/[.+^$()|\\\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function kind(path: string): 'file' | 'dir' | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : undefined;
  } catch {
    return undefined;
  }
}

// Hidden entries (.git, .mlops, ...) are skipped unless the pattern names them with a leading dot.
function walk(dir: string, segments: string[], found: Set<string>): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head === '**') {
    walk(dir, rest, found);
    for (const entry of safeReaddir(dir)) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) walk(join(dir, entry.name), segments, found);
    }
    return;
  }
  const candidates = hasMagic(head)
    ? safeReaddir(dir)
        .filter((entry) => (head.startsWith('.') || !entry.name.startsWith('.')) && segmentRegex(head).test(entry.name))
        .map((entry) => entry.name)
    : [head];
  for (const name of candidates) {
    const path = join(dir, name);
    const what = kind(path);
    if (rest.length === 0 && what === 'file') found.add(path);
    else if (rest.length > 0 && what === 'dir') walk(path, rest, found);
  }
}

function safeReaddir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Expands one glob to the files it matches, sorted. The part before the first wildcard is the folder searched. */
export function expandGlob(pattern: string, cwd: string): string[] {
  const found = new Set<string>();
  for (const expanded of expandBraces(pattern)) {
    const absolute = isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
    const segments = absolute.split(/[\\/]+/);
    if (segments.at(-1) === '**') segments.push('*');
    const firstMagic = segments.findIndex(hasMagic);
    const base = segments.slice(0, firstMagic).join('/') || '/';
    walk(base, segments.slice(firstMagic), found);
  }
  return [...found].sort();
}

/** The files named by `sources` (paths or globs), absolute, de-duplicated, in order. */
export function resolveSources(sources: string[], cwd: string): string[] {
  if (sources.length === 0) throw new MlopsError('Nothing to ingest: no files given.', 'Name a file or a glob such as data/*.csv.');
  const files: string[] = [];
  for (const source of sources) {
    if (hasMagic(source)) {
      const matched = expandGlob(source, cwd);
      if (matched.length === 0) throw new MlopsError(`No files match ${source} (in ${cwd}).`, 'Check the pattern: * matches within a folder, ** across folders.');
      files.push(...matched);
    } else {
      const path = resolve(cwd, source);
      const what = kind(path);
      if (what !== 'file') throw new MlopsError(what === 'dir' ? `${path} is a folder, not a file.` : `${path} does not exist.`, what === 'dir' ? `Use a glob such as ${join(source, '*.csv')}.` : undefined);
      files.push(path);
    }
  }
  return [...new Set(files)];
}
