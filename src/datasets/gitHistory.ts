// A dataset's git history: the commits that touched it, and the file as it was at one of them,
// read with simple-git (binary-safe, so Parquet works too).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { MlopsError } from '../shared/errors';

export interface DatasetCommit {
  hash: string;
  date: string;
  author: string;
  message: string;
}

async function git(repository: string) {
  const { simpleGit } = await import('simple-git');
  return simpleGit({ baseDir: repository });
}

function inRepository(repository: string, path: string): string {
  const rel = relative(repository, path);
  if (rel.startsWith('..')) throw new MlopsError(`${path} is not inside the repository at ${repository}.`);
  return rel.split(sep).join('/');
}

/** The commits that touched `path`, newest first, following renames. */
export async function datasetCommits(repository: string, path: string, maxCount = 50): Promise<DatasetCommit[]> {
  const rel = inRepository(repository, path);
  try {
    const log = await (await git(repository)).log({ file: rel, maxCount, '--follow': null });
    return log.all.map((c) => ({ hash: c.hash, date: c.date, author: c.author_name, message: c.message }));
  } catch (error) {
    throw new MlopsError(`The git history of ${rel} cannot be read: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Writes `path` as it was at `commit` into a temporary folder and returns that copy's path. */
export async function datasetAtCommit(repository: string, path: string, commit: string): Promise<string> {
  if (!/^[0-9a-f]{7,40}$/i.test(commit)) throw new MlopsError(`'${commit}' is not a git commit id.`);
  const rel = inRepository(repository, path);
  let content: Buffer;
  try {
    content = await (await git(repository)).showBuffer([`${commit}:${rel}`]);
  } catch (error) {
    throw new MlopsError(
      `${rel} does not exist at commit ${commit.slice(0, 8)}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const copy = join(await mkdtemp(join(tmpdir(), `mlops-${commit.slice(0, 8)}-`)), basename(path));
  await writeFile(copy, content);
  return copy;
}
