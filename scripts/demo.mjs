// @ts-check
// `npm run demo`: build the extension and open it in a real VS Code (code-server) on a sample
// workspace, then print the URL. Options: --port N (or MLOPS_DEMO_PORT), --host H, --fresh.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer, freePort, portIsFree, startCodeServer } from './lib/codeServer.mjs';
import { prepareDemoDocker } from './lib/demoDocker.mjs';
import { prepareDemoKubernetes } from './lib/demoKubernetes.mjs';
import { createDemoWorkspace } from './lib/demoWorkspace.mjs';
import { build, ensureNodeModules, repoRoot, say } from './lib/setup.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.MLOPS_DEMO_PORT },
    host: { type: 'string', default: '127.0.0.1' },
    workspace: { type: 'string', default: process.env.MLOPS_DEMO_WORKSPACE || join(repoRoot, '.demo-workspace') },
    fresh: { type: 'boolean', default: false },
  },
});

ensureNodeModules();
build();
const codeServer = ensureCodeServer();
if (!codeServer.ok) {
  say(`cannot start VS Code: ${codeServer.reason}`);
  process.exit(1);
}
const workspace = String(values.workspace);
if (values.fresh) rmSync(workspace, { recursive: true, force: true });
createDemoWorkspace(workspace);
await prepareDemoDocker(workspace);
const stopCluster = await prepareDemoKubernetes(workspace).catch(
  (/** @type {Error} */ error) => void say(`no local Kubernetes cluster in the demo: ${error.message}`),
);

const port = values.port ? Number(values.port) : (await portIsFree(8080)) ? 8080 : await freePort();
const server = await startCodeServer({ workspace, port, host: values.host });
console.log(`\nMLOps demo: open ${server.url} in a browser (Ctrl+C stops it).\n`);

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, async () => {
    await server.stop();
    await stopCluster?.();
    process.exit(0);
  });
}
