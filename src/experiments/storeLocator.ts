// Where MLflow stores are and how to open one: an mlflow.db or mlruns/ found in a folder, and a
// tracking URI (MLflow's: sqlite:///path, file:path, http(s)://server, or a plain path) opened as
// the store it names. Which URI to read is trackingStoreResolver.ts's rule.
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlopsError } from '../shared/errors';
import type { TrackingStore } from './model';
import { FileTrackingStore } from './stores/fileStore';
import { RestTrackingStore, type RestOptions } from './stores/restStore';
import { SqliteTrackingStore } from './stores/sqliteStore';

const SKIP = new Set([
  'node_modules',
  '.git',
  '.venv',
  'venv',
  '.mlops',
  '__pycache__',
  '.ipynb_checkpoints',
  'site-packages',
]);

/** The MLflow stores under a folder, nearest first, looking a few levels down. */
export function findStores(root: string, depth = 3): string[] {
  const found: string[] = [];
  const visit = (dir: string, level: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isFile() && entry.name === 'mlflow.db') found.push(join(dir, entry.name));
      if (entry.isDirectory() && entry.name === 'mlruns') found.push(join(dir, entry.name));
    }
    if (level >= depth) return;
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && !SKIP.has(entry.name) && entry.name !== 'mlruns')
        visit(join(dir, entry.name), level + 1);
    }
  };
  visit(root, 0);
  return found;
}

/** Resolves an MLflow tracking URI to a local path or a server URL. */
export function parseTrackingUri(
  uri: string,
  base = process.cwd(),
): { kind: 'sqlite' | 'file' | 'rest'; location: string } {
  if (/^https?:\/\//i.test(uri)) return { kind: 'rest', location: uri };
  if (uri.startsWith('sqlite:')) {
    // sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy writes them.
    const path = uri.replace(/^sqlite:\/\/\//, '').replace(/\?.*$/, '');
    return { kind: 'sqlite', location: isAbsolute(path) ? path : resolve(base, path) };
  }
  if (/^[a-z][\w+.-]*:/i.test(uri) && !uri.startsWith('file:')) {
    throw new MlopsError(
      `The tracking URI '${uri}' is not supported.`,
      'Use a sqlite:/// path, an mlruns/ folder (file:) or an http(s):// tracking server.',
    );
  }
  const path = uri.startsWith('file://') ? fileURLToPath(uri) : uri.replace(/^file:/, '');
  const location = isAbsolute(path) ? path : resolve(base, path);
  let isDirectory = false;
  try {
    isDirectory = statSync(location).isDirectory();
  } catch {
    throw new MlopsError(
      `The tracking store ${location} does not exist.`,
      'Check mlops.trackingUri or MLFLOW_TRACKING_URI.',
    );
  }
  return { kind: isDirectory ? 'file' : 'sqlite', location };
}

export function openStore(uri: string, options: { base?: string; rest?: RestOptions } = {}): TrackingStore {
  const { kind, location } = parseTrackingUri(uri, options.base);
  switch (kind) {
    case 'rest':
      return new RestTrackingStore(location, options.rest);
    case 'sqlite':
      return new SqliteTrackingStore(location);
    case 'file':
      return new FileTrackingStore(location);
  }
}
