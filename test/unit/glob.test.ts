import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatcher, scanGlob } from '../../src/datasets/globSyntax';

// files.exclude globs: `*` matches names that start with a dot.
function matches(pattern: string, path: string): boolean {
  return globMatcher([pattern], { dot: true })(path);
}

test('* and ? match within one folder name, never across a /', () => {
  assert.ok(matches('*.csv', 'train.csv'));
  assert.ok(matches('*.csv', '.csv'));
  assert.ok(!matches('*.csv', 'data/train.csv'));
  assert.ok(matches('data/*.csv', 'data/train.csv'));
  assert.ok(matches('part-?.parquet', 'part-1.parquet'));
  assert.ok(!matches('part-?.parquet', 'part-12.parquet'));
  assert.ok(!matches('part-?.parquet', 'part-/.parquet'));
  assert.ok(matches('*', '.DS_Store'), 'VS Code globs match dot files with *');
});

test('** matches any number of folders, none included', () => {
  assert.ok(matches('**/.git', '.git'));
  assert.ok(matches('**/.git', 'a/b/.git'));
  assert.ok(!matches('**/.git', 'a/.github'));
  assert.ok(matches('**/*.tmp.csv', 'x.tmp.csv'));
  assert.ok(matches('**/*.tmp.csv', 'a/b/x.tmp.csv'));
  assert.ok(matches('data/**/raw', 'data/raw'));
  assert.ok(matches('data/**/raw', 'data/2024/01/raw'));
  assert.ok(!matches('data/**/raw', 'other/raw'));
  assert.ok(matches('build/**', 'build/out/a.csv'));
  assert.ok(matches('**', 'anything/at/all'));
});

test('a pattern without ** matches at the top only, and the whole path', () => {
  assert.ok(matches('scratch', 'scratch'));
  assert.ok(!matches('scratch', 'data/scratch'));
  assert.ok(!matches('scratch', 'scratch/a.csv'));
  assert.ok(matches('./scratch', 'scratch'));
  assert.ok(matches('scratch/', 'scratch'));
});

test('{a,b} gives alternatives, nested and across folders', () => {
  assert.ok(matches('a{b,c}d', 'abd'));
  assert.ok(matches('a{b,c}d', 'acd'));
  assert.ok(!matches('a{b,c}d', 'ad'));
  for (const name of ['x1', 'x2', 'x3']) assert.ok(matches('x{1,{2,3}}', name));
  assert.ok(!matches('x{1,{2,3}}', 'x4'));
  assert.ok(matches('**/*.{csv,tsv}', 'a/b.tsv'));
  assert.ok(!matches('**/*.{csv,tsv}', 'a/b.json'));
  assert.ok(matches('{out,dist/build}/*.csv', 'dist/build/a.csv'));
  assert.ok(matches('{out,dist/build}/*.csv', 'out/a.csv'));
});

test('[...] matches one character of a set or a range, [!...] one outside it', () => {
  assert.ok(matches('v[0-9].csv', 'v7.csv'));
  assert.ok(!matches('v[0-9].csv', 'vx.csv'));
  assert.ok(matches('v[!0-9].csv', 'vx.csv'));
  assert.ok(!matches('v[!0-9].csv', 'v7.csv'));
});

test('other characters are literal, and any of several patterns matches', () => {
  assert.ok(matches('a+b (1).csv', 'a+b (1).csv'));
  assert.ok(!matches('a.csv', 'abcsv'));
  assert.ok(matches('data (1)/*.csv', 'data (1)/a.csv'), 'parentheses are plain characters');
  assert.ok(matches('a|b/@(x)/+(y)', 'a|b/@(x)/+(y)'));
  assert.ok(!matches('@(x)', 'x'), 'no extglobs');
  assert.ok(matches('!a.csv', '!a.csv'), 'a leading ! is a plain character');
  const excluded = globMatcher(['**/.git', '**/node_modules', 'tmp/*.csv'], { dot: true });
  assert.ok(excluded('x/node_modules'));
  assert.ok(excluded('tmp/a.csv'));
  assert.ok(!excluded('data/a.csv'));
  assert.ok(!globMatcher([], { dot: true })('a.csv'));
});

test('without dot, * and ** skip names that start with a dot unless the pattern names them', () => {
  const lake = (pattern: string, path: string) => globMatcher([pattern], { dot: false })(path);
  assert.ok(!lake('*.csv', '.a.csv'));
  assert.ok(!lake('**/*.csv', '.git/a.csv'));
  assert.ok(lake('.cache/*.csv', '.cache/a.csv'));
});

test('the folder before the first wildcard is the base of a scan', () => {
  assert.deepEqual(scanGlob('raw/**/part-?.parquet'), { isGlob: true, base: 'raw', glob: '**/part-?.parquet' });
  assert.deepEqual(scanGlob('./data/*.{csv,tsv}'), { isGlob: true, base: 'data', glob: '*.{csv,tsv}' });
  assert.deepEqual(scanGlob('/home/me/my (copy)/v[0-9].csv'), {
    isGlob: true,
    base: '/home/me/my (copy)',
    glob: 'v[0-9].csv',
  });
  assert.equal(scanGlob('data/a+b (1).csv').isGlob, false);
  assert.equal(scanGlob('{a,b}.jsonl').isGlob, true);
});
