// Glob patterns as VS Code and the lake write them: `*` and `?` within a folder name, `**` across
// folders (none included), `[a-z]` and `[!a-z]` for one character, `{a,b}` for alternatives.

export function hasMagic(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** `a{b,c}d` -> `abd`, `acd`; nested braces expand from the inside out. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + match[0].length);
  return match[1].split(',').flatMap((choice) => expandBraces(before + choice + after));
}

/** One folder or file name of a pattern, without braces, as a regular expression for one name. */
export function segmentRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replaceAll('\\', '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += char.replace(/[.+^$()|\\\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

type Segment = RegExp | '**';

/**
 * A test of `/`-separated relative paths against any of `patterns`. A pattern matches the whole
 * path: `build` is the top folder named build only; a leading `**` makes it any folder named build.
 */
export function globMatcher(patterns: readonly string[]): (relativePath: string) => boolean {
  const compiled = patterns
    .flatMap(expandBraces)
    .map((pattern) => pattern.replace(/^\.\//, '').split('/').filter(Boolean))
    .filter((segments) => segments.length > 0)
    .map((segments) => segments.map((segment): Segment => (segment === '**' ? '**' : segmentRegex(segment))));
  return (relativePath) => {
    const names = relativePath.split('/').filter(Boolean);
    return compiled.some((segments) => matchesFrom(segments, 0, names, 0));
  };
}

function matchesFrom(segments: Segment[], s: number, names: string[], n: number): boolean {
  if (s === segments.length) return n === names.length;
  const segment = segments[s];
  if (segment === '**') {
    for (let skipped = n; skipped <= names.length; skipped++)
      if (matchesFrom(segments, s + 1, names, skipped)) return true;
    return false;
  }
  return n < names.length && segment.test(names[n]) && matchesFrom(segments, s + 1, names, n + 1);
}
