// Ingests into a lake in its own process, so a test can kill it mid-write and a benchmark can
// measure its peak memory alone: lakeIngestChild.ts LAKE_ROOT TABLE SOURCE...
// Prints one JSON line per progress message ({progress}), then {version, seconds, peakRssMb} or {error}.
// Loading Node and the modules is not timed.
import { openLake } from '../../src/datasets/lake/duckdbLake';

async function main(): Promise<void> {
  const [root, table, ...sources] = process.argv.slice(2);
  const lake = openLake(root);
  const started = performance.now();
  try {
    const version = await lake.ingest(table, sources, {
      onProgress: (progress) => process.stdout.write(`${JSON.stringify({ progress })}\n`),
    });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({ version, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
    process.exitCode = 1;
  } finally {
    await lake.close();
  }
}

void main();
