// A run's git commit (mlflow.source.git.commit): the commit and its diff, read with simple-git.
import { MlopsError } from '../shared/errors';

export async function showCommit(
  repository: string,
  commit: string,
  against: 'parent' | 'workingTree',
): Promise<string> {
  if (!/^[0-9a-f]{7,40}$/i.test(commit)) throw new MlopsError(`'${commit}' is not a git commit id.`);
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: repository });
  try {
    return against === 'parent' ? await git.show(['--stat', '--patch', commit]) : await git.diff([commit, '--']);
  } catch (error) {
    throw new MlopsError(
      `Commit ${commit.slice(0, 8)} is not in the repository at ${repository}: ${(error as Error).message.split('\n')[0]}`,
      'Fetch it, or open the workspace the run came from.',
    );
  }
}
