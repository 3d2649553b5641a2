// One measurement of the datasets core in a fresh process, so peak memory is this measurement's:
// datasetsProbe.ts profile|preview|inspect PATH
// Prints JSON {seconds, rows, peakRssMb}: the rows profiled or counted, or those of the first
// page. Loading Node and the modules is not timed, as the peer's import of pandas is not;
// opening DuckDB is.
import { inspect } from '../src/datasets/inspect';
import { preview } from '../src/datasets/preview';
import { profile } from '../src/datasets/profile';

const measures: Record<string, (path: string) => Promise<number>> = {
  profile: async (path) => (await profile(path)).rows,
  preview: async (path) => (await preview(path, 0, 100)).rows.length,
  inspect: async (path) => (await inspect(path)).rows,
};

async function main(): Promise<void> {
  const [what, path] = process.argv.slice(2);
  const started = performance.now();
  const rows = await measures[what](path);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, rows, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

void main();
