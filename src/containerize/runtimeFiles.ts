// Where the Python model server and the notebook tools (runtime/) are: beside dist/ in the
// installed extension and for the CLI, beside src/ when tests run the sources.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function runtimeDir(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'runtime');
    if (existsSync(join(candidate, 'mlops_runtime', 'server.py'))) return candidate;
  }
  throw new Error(`runtime/mlops_runtime is not beside ${__dirname}; the extension is incomplete, reinstall it`);
}
