// The commit a build comes from, and whether the working tree had changes, for image labels.
export interface GitState {
  commit: string | null;
  dirty: boolean;
  remote: string | null;
}

export async function readGitState(dir: string): Promise<GitState> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: dir });
  try {
    if (!(await git.checkIsRepo())) return { commit: null, dirty: false, remote: null };
    const commit = (await git.revparse(['HEAD']).catch(() => '')).trim() || null;
    const status = await git.status();
    const remote = (await git.getRemotes(true)).find((r) => r.name === 'origin')?.refs.fetch ?? null;
    return { commit, dirty: !status.isClean(), remote };
  } catch {
    return { commit: null, dirty: false, remote: null };
  }
}
