// What to ingest, typed as a path or a glob: checked against the files as the lake would expand
// them, and a table name suggested from it.
import { relative } from 'node:path';
import { MlopsError } from '../../shared/errors';
import { formatOf, resolveSources } from './globs';

export type PatternCheck = { files: string[]; summary: string } | { problem: string };

const NAMED_FILES = 3;

/** The files `pattern` names under `cwd`, with a line that counts and names them, or why the lake cannot ingest them. */
export async function checkIngestPattern(pattern: string, cwd: string, signal?: AbortSignal): Promise<PatternCheck> {
  const source = pattern.trim();
  if (!source) return { problem: 'Enter a file or a glob, for example data/events-*.jsonl.' };
  try {
    const files = await resolveSources([source], cwd, signal);
    files.forEach(formatOf);
    const names = files.slice(0, NAMED_FILES).map((file) => relative(cwd, file));
    const more = files.length > NAMED_FILES ? ` and ${(files.length - NAMED_FILES).toLocaleString('en')} more` : '';
    return {
      files,
      summary: `${files.length.toLocaleString('en')} ${files.length === 1 ? 'file' : 'files'}: ${names.join(', ')}${more}`,
    };
  } catch (error) {
    if (error instanceof MlopsError) return { problem: error.message };
    throw error;
  }
}

/** A table name from the last part of a path or glob that has letters left once wildcards and the extension are gone. */
export function suggestTableName(pattern: string): string {
  const stems = pattern.split(/[\\/]+/).map((part) =>
    part
      .replace(/\.[A-Za-z0-9]+$/, '')
      .replace(/[*?]|\[[^\]]*\]|\{[^}]*\}/g, '')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, ''),
  );
  const name = stems.filter(Boolean).at(-1) ?? 'dataset';
  return /^\d/.test(name) ? `_${name}` : name;
}
