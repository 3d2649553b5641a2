// Who is reviewing: the workspace's git user.name, else the name of the OS user.
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';

export async function reviewerName(workspace: string): Promise<string> {
  const fromGit = await new Promise<string>((resolve) =>
    execFile('git', ['config', 'user.name'], { cwd: workspace, timeout: 5000 }, (error, stdout) =>
      resolve(error ? '' : stdout.trim()),
    ),
  );
  if (fromGit) return fromGit;
  try {
    return userInfo().username;
  } catch {
    // no passwd entry for the uid (a container started with --user)
    return process.env.USER ?? 'unknown';
  }
}
