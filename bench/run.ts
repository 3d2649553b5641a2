// Runs the benchmark suites in turn and writes bench/RESULTS.md. Each suite returns a markdown
// section; a suite that cannot run says why in its section instead of failing the others.
// `npm run bench -- activation` runs only the named suites.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { activationSuite } from './activation';
import { experimentsSuite } from './experiments';
import type { BenchSuite } from './suite';

const suites: BenchSuite[] = [activationSuite, experimentsSuite];

async function main(only: string[]): Promise<void> {
  const sections: string[] = [];
  for (const suite of suites.filter((s) => only.length === 0 || only.includes(s.name))) {
    process.stderr.write(`[bench] ${suite.name}\n`);
    try {
      sections.push(await suite.run());
    } catch (error) {
      sections.push(`## ${suite.name}\n\nCould not run: ${(error as Error).message}\n`);
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const report = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString()} (${machine}).`,
    'Figures are medians over the repetitions named in each section. Ratios compare this project to its',
    'peer measured in the same run; below 1 means this project is faster.',
    '',
    ...sections,
  ].join('\n');
  writeFileSync(join(import.meta.dirname, 'RESULTS.md'), report);
  process.stdout.write(report);
}

void main(process.argv.slice(2));
