// Runs the benchmark suites in turn and writes bench/RESULTS.md. Each suite returns a markdown
// section; a suite that cannot run says why in its section instead of failing the others.
// `npm run bench -- activation` runs only the named suites and keeps the other suites' sections.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { activationSuite } from './activation';
import { backtestSuite } from './backtest';
import { containerizeSuite } from './containerize';
import { datasetsSuite } from './datasets';
import { deploySuite } from './deploy';
import { driftSuite } from './drift';
import { experimentsSuite } from './experiments';
import { kubernetesSuite } from './kubernetes';
import { lakeIngestSuite } from './lakeIngest';
import { modelServerSuite } from './modelServer';
import { monitorSeriesSuite } from './monitorSeries';
import { requestsDriftSuite } from './requestsDrift';
import { routerSuite } from './router';
import type { BenchSuite } from './suite';

const suites: BenchSuite[] = [
  activationSuite,
  experimentsSuite,
  datasetsSuite,
  lakeIngestSuite,
  containerizeSuite,
  modelServerSuite,
  deploySuite,
  kubernetesSuite,
  driftSuite,
  requestsDriftSuite,
  monitorSeriesSuite,
  backtestSuite,
  routerSuite,
];
const RESULTS = join(import.meta.dirname, 'RESULTS.md');
const marker = (name: string) => `<!-- suite: ${name} -->`;

/** The sections of the last results, by suite, so that a partial run keeps the others. */
function previousSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(RESULTS)) return sections;
  for (const part of readFileSync(RESULTS, 'utf8').split('<!-- suite: ').slice(1)) {
    const end = part.indexOf(' -->');
    sections.set(part.slice(0, end), `${marker(part.slice(0, end))}${part.slice(end + 4)}`.trimEnd());
  }
  return sections;
}

async function main(only: string[]): Promise<void> {
  const sections = previousSections();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  for (const suite of suites.filter((s) => only.length === 0 || only.includes(s.name))) {
    process.stderr.write(`[bench] ${suite.name}\n`);
    let body: string;
    try {
      body = await suite.run();
    } catch (error) {
      body = `## ${suite.name}\n\nCould not run: ${(error as Error).message}\n`;
    }
    sections.set(
      suite.name,
      `${marker(suite.name)}\n${body.trimEnd()}\n\n_Measured on ${new Date().toISOString()} (${machine})._`,
    );
  }
  const report = [
    '# Benchmark results',
    '',
    'Written by `npm run bench`. Ratios compare this project to its peer measured in the same run;',
    'below 1 means this project is faster. Each section says when and where it was measured.',
    '',
    ...suites
      .map((s) => sections.get(s.name))
      .filter((section): section is string => Boolean(section))
      .flatMap((section) => [section, '']),
  ].join('\n');
  writeFileSync(RESULTS, report);
  process.stdout.write(report);
}

void main(process.argv.slice(2));
