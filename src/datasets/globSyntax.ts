// Globs as VS Code and the lake write them, read by picomatch: `*`, `?`, `**`, `[...]`, `[!...]`
// and `{a,b}` are special; parentheses, `|`, `+`, `@` and a leading `!` are plain characters.
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = { posix: true, noextglob: true, nonegate: true };

/** Parentheses and `|` are regular-expression syntax inside picomatch even without extglobs. */
function escapeLiterals(pattern: string): string {
  return pattern.replace(/[()|]/g, '\\$&');
}

/** Whether the pattern has a wildcard, a set or alternatives, and the folder before the first one. */
export function scanGlob(pattern: string): { isGlob: boolean; base: string; glob: string } {
  const { isGlob, base, glob } = picomatch.scan(escapeLiterals(pattern), { ...OPTIONS, unescape: true });
  return { isGlob, base, glob };
}

/**
 * A test of `/`-separated relative paths against any of `patterns`, each matching the whole path.
 * `dot`: whether `*` and `**` match names that start with a dot (as in files.exclude).
 */
export function globMatcher(patterns: readonly string[], { dot }: { dot: boolean }): (relativePath: string) => boolean {
  const normalized = patterns.map((pattern) => pattern.replace(/^\.\//, '').replace(/^\/+|\/+$/g, '')).filter(Boolean);
  if (normalized.length === 0) return () => false;
  return picomatch(normalized.map(escapeLiterals), { ...OPTIONS, dot });
}
