// The files of a workspace that go into a build context. Paths are compared after links are
// resolved, so no link (to a file or to a folder) brings a file from outside the workspace into
// an image; a link that stays inside is copied as the content it points to.
import { copyFile, lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { MlopsError } from '../../shared/errors';

export interface Workspace {
  /** As given, for messages. */
  root: string;
  /** With every link resolved, for comparisons. */
  realRoot: string;
}

export async function openWorkspace(root: string): Promise<Workspace> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new MlopsError(
      `The workspace ${root} ${info ? 'is not a folder' : 'does not exist'}.`,
      'Give the folder that holds the notebook and the data it reads.',
    );
  }
  return { root, realRoot: await realpath(root) };
}

/** Where a real path is inside the workspace ('' for the root itself, '/' separated), or undefined outside it. */
export function insideWorkspace(workspace: Workspace, real: string): string | undefined {
  const rel = relative(workspace.realRoot, real);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The real path of `path` (not normalised first: `notebooks/../data` goes where the notebook's
 * `..` goes), refused when it leaves the workspace. `reader` and `shown` name who reads what.
 */
export async function realPathInWorkspace(
  workspace: Workspace,
  path: string,
  reader: string,
  shown: string,
): Promise<string> {
  const real = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    throw new MlopsError(
      `${reader} reads ${shown}, which cannot be read (${error.code ?? error.message}).`,
      'Create the file or correct the path.',
    );
  });
  if (insideWorkspace(workspace, real) !== undefined) return real;
  const link = await linkLeaving(workspace, path);
  throw new MlopsError(
    link
      ? `${reader} reads ${shown} through the link ${link.path}, which points to ${link.target}, outside the workspace ${workspace.root}.`
      : `${reader} reads ${shown}, which is outside the workspace ${workspace.root}.`,
    link
      ? 'Copy the data into the workspace instead of linking to it: an image takes nothing from outside its workspace.'
      : 'Move the file into the workspace, or choose a workspace that holds it (mlops containerize --workspace DIR).',
  );
}

/** The link on the path that leads out of the workspace: its own folder is inside, its target is not. */
async function linkLeaving(workspace: Workspace, path: string): Promise<{ path: string; target: string } | undefined> {
  const parts = path.split(sep);
  for (let end = parts.length; end > 1; end--) {
    const prefix = parts.slice(0, end).join(sep);
    if (!(await lstat(prefix).catch(() => undefined))?.isSymbolicLink()) continue;
    const target = await realpath(prefix).catch(() => undefined);
    const parent = await realpath(dirname(prefix)).catch(() => undefined);
    const inside = parent === undefined ? undefined : insideWorkspace(workspace, parent);
    // Named where it is in the workspace, as the user sees it (not as `notebooks/../shared`).
    if (target && inside !== undefined && insideWorkspace(workspace, target) === undefined)
      return { path: join(workspace.root, inside, basename(prefix)), target };
  }
  return undefined;
}

export interface Copy {
  /** The real path of the content. */
  from: string;
  to: string;
}

/**
 * The copies that bring a file, or a folder and everything in it, into a context, by content;
 * every entry is checked before anything is written, so a refusal leaves no half-made context.
 */
export async function copiesFromWorkspace(
  workspace: Workspace,
  source: string,
  target: string,
  reader: string,
  shown: string,
  seen = new Set<string>(),
): Promise<Copy[]> {
  const real = await realPathInWorkspace(workspace, source, reader, shown);
  if (!(await stat(real)).isDirectory()) return [{ from: real, to: target }];
  // A link back to a folder already being copied would never end.
  if (seen.has(real)) return [];
  seen.add(real);
  const copies: Copy[] = [];
  for (const entry of await readdir(source)) {
    copies.push(
      ...(await copiesFromWorkspace(
        workspace,
        `${source}${sep}${entry}`,
        join(target, entry),
        reader,
        `${shown}/${entry}`,
        seen,
      )),
    );
  }
  return copies;
}

export async function copyAll(copies: Copy[]): Promise<void> {
  for (const copy of copies) {
    await mkdir(dirname(copy.to), { recursive: true });
    await copyFile(copy.from, copy.to);
  }
}
