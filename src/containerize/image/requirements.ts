// The Python requirements of an image: the project's own file when it has one (from the
// notebook's folder up to the workspace root), or else the notebook's imports pinned to the
// workspace interpreter's versions.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { InferredRequirement } from '../notebook/notebookAnalysis';

export interface Requirements {
  /** The file they came from, relative to the workspace, or 'inferred from imports'. */
  source: string;
  lines: string[];
}

const FILES = ['requirements.txt', 'pyproject.toml', 'environment.yml', 'environment.yaml'] as const;

export async function resolveRequirements(
  notebookDir: string,
  workspaceRoot: string,
  inferred: InferredRequirement[],
): Promise<Requirements> {
  for (let dir = notebookDir; ; dir = dirname(dir)) {
    for (const name of FILES) {
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const lines =
        name === 'requirements.txt'
          ? fromRequirementsTxt(text)
          : name === 'pyproject.toml'
            ? fromPyproject(text)
            : fromEnvironmentYml(text);
      if (lines.length > 0) return { source: relative(workspaceRoot, join(dir, name)) || name, lines };
    }
    if (dir === workspaceRoot || dir === dirname(dir) || relative(workspaceRoot, dir).startsWith('..')) break;
  }
  return {
    source: 'inferred from imports',
    lines: inferred.map((r) => r.spec ?? (r.version ? `${r.distribution}==${r.version}` : r.distribution)),
  };
}

/** Requirement lines; options (-r, -e, --index-url) and comments are left out. */
export function fromRequirementsTxt(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => /^[A-Za-z0-9]/.test(line));
}

/** PEP 621 `[project] dependencies`, or the names of `[tool.poetry.dependencies]`. */
export function fromPyproject(text: string): string[] {
  const project = section(text, 'project');
  const list = /^dependencies\s*=\s*\[([\s\S]*?)\]/m.exec(project)?.[1];
  if (list) return [...list.matchAll(/["']([^"']+)["']/g)].map((m) => m[1]!.trim());
  return section(text, 'tool.poetry.dependencies')
    .split('\n')
    .map((line) => /^([A-Za-z0-9][\w.-]*)\s*=/.exec(line.trim())?.[1])
    .filter((name): name is string => !!name && name.toLowerCase() !== 'python');
}

function section(text: string, name: string): string {
  const start = text.search(new RegExp(`^\\[${name.replace(/\./g, '\\.')}\\]\\s*$`, 'm'));
  if (start < 0) return '';
  const rest = text.slice(start).split('\n').slice(1).join('\n');
  const end = rest.search(/^\[/m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Conda dependencies (`name=1.2` means 1.2.*) and the nested pip list; python and pip left out. */
export function fromEnvironmentYml(text: string): string[] {
  const lines: string[] = [];
  let inDependencies = false;
  for (const raw of text.split('\n')) {
    if (/^dependencies:\s*$/.test(raw)) {
      inDependencies = true;
      continue;
    }
    if (/^\S/.test(raw)) inDependencies = false;
    const item = /^\s*-\s*([^#\s][^#]*?)\s*(#.*)?$/.exec(raw)?.[1];
    if (!inDependencies || !item || item.endsWith(':')) continue;
    const spec = item.replace(/^conda-forge::/, '').replace(/['"]/g, '');
    const [name, version] = spec.split(/=(?!=)/);
    if (!name || ['python', 'pip'].includes(name.trim().toLowerCase())) continue;
    lines.push(
      spec.includes('==') || /[<>~!]/.test(spec) || !version
        ? spec
        : `${name.trim()}==${version.trim()}${version.includes('*') ? '' : '.*'}`,
    );
  }
  return lines;
}
