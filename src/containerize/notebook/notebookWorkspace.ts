// The workspace of a notebook when none is given (the command line): the git repository that
// holds it, else its own folder. Its data may sit beside it or anywhere in the repository.
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function notebookWorkspace(notebook: string): Promise<string> {
  const folder = dirname(notebook);
  const { simpleGit } = await import('simple-git');
  const top = await simpleGit({ baseDir: folder })
    .revparse(['--show-toplevel'])
    .then(
      (text) => text.trim(),
      () => '',
    );
  if (!top) return folder;
  // git gives the real path of the top folder; name it the way the notebook's path does.
  const realTop = await realpath(top);
  for (let dir = folder; dir !== dirname(dir); dir = dirname(dir)) {
    if ((await realpath(dir)) === realTop) return dir;
  }
  return top;
}
