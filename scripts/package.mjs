// @ts-check
// `npm run package`: a .vsix for one platform in out/ (linux-x64 unless MLOPS_VSIX_TARGET says
// otherwise). vsce runs the production build first (vscode:prepublish). Everything is bundled
// but the native SQLite and DuckDB bindings, which ship with the binaries of the target platform only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureNodeModules, repoRoot, run, say } from './lib/setup.mjs';

const target = process.env.MLOPS_VSIX_TARGET || 'linux-x64';
const { name, version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const output = join(repoRoot, 'out', `${name}-${version}-${target}.vsix`);

ensureNodeModules();
mkdirSync(join(repoRoot, 'out'), { recursive: true });
const ignoreFile = join(repoRoot, 'out', `.vscodeignore-${target}`);
writeFileSync(
  ignoreFile,
  [
    readFileSync(join(repoRoot, '.vscodeignore'), 'utf8').trimEnd(),
    `!node_modules/@photostructure/sqlite/prebuilds/${target}/**`,
    `!node_modules/@duckdb/node-bindings-${target}/**`,
    '',
  ].join('\n'),
);
say(`packaging ${output}`);
run(
  join(repoRoot, 'node_modules', '.bin', 'vsce'),
  [
    'package',
    '--target',
    target,
    '--allow-missing-repository',
    '--no-rewrite-relative-links',
    '--ignoreFile',
    ignoreFile,
    '--out',
    output,
  ],
  { cwd: repoRoot },
);
console.log(output);
