// @ts-check
// `npm run bench`: builds the extension as it ships (production bundle), then runs every
// benchmark suite in bench/ and writes the figures and the ratios to the peers to bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureCodeServer } from './lib/codeServer.mjs';
import { ensureNodeModules, repoRoot, run, say } from './lib/setup.mjs';

ensureNodeModules();
say('building the production bundle');
run(process.execPath, [join(repoRoot, 'scripts', 'build.mjs'), '--production'], { cwd: repoRoot });
const codeServer = ensureCodeServer();
if (!codeServer.ok) say(`the activation benchmark needs code-server: ${codeServer.reason}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(repoRoot, 'bench', 'run.ts'), ...process.argv.slice(2)],
  {
    cwd: repoRoot,
    stdio: 'inherit',
  },
);
process.exitCode = result.status ?? 1;
