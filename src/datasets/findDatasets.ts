// The dataset files of a folder, found by walking it: asynchronous, a few directories at a time,
// so a workspace of a hundred thousand files never blocks the extension host. It honours
// .gitignore files at every level, as git does, leaves out what the editor's files.exclude
// globs match, and never enters dependencies, virtual environments or caches. It stops at a
// number of datasets and a number of entries looked at, and says so.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import ignore, { type Ignore } from 'ignore';
import { isDatasetFileName } from './datasetFileNames';
import { globMatcher } from './globSyntax';
import type { DatasetFormat } from './model';
import { formatOf } from './source';

/** Folders that hold tooling, not data. */
const SKIPPED_FOLDERS = new Set([
  'node_modules',
  '.git',
  '.mlops',
  '__pycache__',
  '.venv',
  'venv',
  'site-packages',
  '.ipynb_checkpoints',
]);
/** A folder holding one of these is a Python virtual environment (any name) or a conda environment. */
const ENVIRONMENT_MARKERS = ['pyvenv.cfg', 'conda-meta'];

export const DEFAULT_DATASET_LIMIT = 5000;
export const DEFAULT_ENTRY_BUDGET = 1_000_000;
const CONCURRENT_FOLDERS = 8;
const ENTRIES_BETWEEN_YIELDS = 1000;

export interface DiscoveredDataset {
  path: string;
  format: DatasetFormat;
  bytes: number;
}

export interface DiscoverOptions {
  /** Stop after this many datasets (5,000 by default). */
  limit?: number;
  /** Stop after looking at this many files and folders (1,000,000 by default). */
  entryBudget?: number;
  /** Globs relative to the root, as in VS Code's files.exclude: a folder matched is not entered, a file matched is left out. */
  exclude?: readonly string[];
  signal?: AbortSignal;
}

export interface Discovery {
  /** Sorted by path. */
  datasets: DiscoveredDataset[];
  /** Set when the walk stopped early: at the dataset limit, or at the entry budget. */
  stoppedAt?: 'limit' | 'budget';
}

interface Rules {
  base: string;
  ignore: Ignore;
}

interface Folder {
  path: string;
  /** The .gitignore rules that apply, nearest folder last. */
  rules: Rules[];
}

export async function discoverDatasets(root: string, options: DiscoverOptions = {}): Promise<Discovery> {
  const limit = options.limit ?? DEFAULT_DATASET_LIMIT;
  const budget = options.entryBudget ?? DEFAULT_ENTRY_BUDGET;
  const datasets: DiscoveredDataset[] = [];
  const queue: Folder[] = [{ path: root, rules: [] }];
  let entries = 0;
  let stoppedAt: Discovery['stoppedAt'];
  const matchesExclude = options.exclude?.length ? globMatcher(options.exclude, { dot: true }) : undefined;
  const excluded = (path: string) => matchesExclude?.(relative(root, path).split(sep).join('/')) ?? false;

  const visit = async ({ path, rules }: Folder): Promise<void> => {
    const children = await listFolder(path);
    if (children.some((c) => ENVIRONMENT_MARKERS.includes(c.name))) return;
    const gitignore = children.find((c) => c.name === '.gitignore' && c.isFile());
    const applying = gitignore
      ? [
          ...rules,
          { base: path, ignore: ignore().add(await readFile(join(path, '.gitignore'), 'utf8').catch(() => '')) },
        ]
      : rules;
    for (const child of children) {
      if (stoppedAt) return;
      if (++entries > budget) {
        stoppedAt = 'budget';
        return;
      }
      if (entries % ENTRIES_BETWEEN_YIELDS === 0) await yieldToEventLoop();
      const childPath = join(path, child.name);
      if (child.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(child.name) && !ignored(applying, childPath, true) && !excluded(childPath))
          queue.push({ path: childPath, rules: applying });
        continue;
      }
      const format = formatOf(child.name);
      if (!format || !isDatasetFileName(child.name) || ignored(applying, childPath, false) || excluded(childPath))
        continue;
      // Symbolic links to files count; links to folders are not followed (they can loop).
      const stats = await stat(childPath).catch(() => undefined);
      if (!stats?.isFile()) continue;
      datasets.push({ path: childPath, format, bytes: stats.size });
      if (datasets.length >= limit) stoppedAt = 'limit';
    }
  };

  // A few folders listed at once, each adding its subfolders to the queue.
  await new Promise<void>((resolve, reject) => {
    let listing = 0;
    const next = () => {
      while (!stoppedAt && !options.signal?.aborted && listing < CONCURRENT_FOLDERS && queue.length > 0) {
        listing++;
        visit(queue.shift()!).then(() => {
          listing--;
          next();
        }, reject);
      }
      if (listing === 0) resolve();
    };
    next();
  });
  options.signal?.throwIfAborted();

  datasets.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { datasets: datasets.slice(0, limit), ...(stoppedAt ? { stoppedAt } : {}) };
}

async function listFolder(path: string): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch {
    // A folder that went away or that we may not read has no datasets for us.
    return [];
  }
}

/** Git's rule: the nearest .gitignore that has a say decides, and a `!pattern` can re-include. */
function ignored(rules: Rules[], path: string, isFolder: boolean): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const relativePath = relative(rules[i].base, path).split(sep).join('/') + (isFolder ? '/' : '');
    const result = rules[i].ignore.test(relativePath);
    if (result.ignored) return true;
    if (result.unignored) return false;
  }
  return false;
}
