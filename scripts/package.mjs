// @ts-check
// `npm run package`: a .vsix for linux-x64 in out/. vsce runs the production build first
// (vscode:prepublish). Everything is bundled, so node_modules is not shipped.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureNodeModules, repoRoot, run, say } from './lib/setup.mjs';

const target = process.env.MLOPS_VSIX_TARGET || 'linux-x64';
const { name, version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const output = join(repoRoot, 'out', `${name}-${version}-${target}.vsix`);

ensureNodeModules();
mkdirSync(join(repoRoot, 'out'), { recursive: true });
say(`packaging ${output}`);
run(join(repoRoot, 'node_modules', '.bin', 'vsce'), ['package', '--target', target, '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', output], {
  cwd: repoRoot,
});
console.log(output);
