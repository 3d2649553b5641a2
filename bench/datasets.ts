// Datasets at scale: profiling a 1 GB CSV of 10 million mixed-type rows against pandas
// (read_csv, then describe(include='all')) in the same run, each in a fresh process so that peak
// memory is per measurement; then the latency of a preview's first page on that file and on a
// 10 GB one, and how long counting the rows of the 1 GB file takes.
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { ensurePandas, PANDAS_VERSION } from '../scripts/lib/pandas.mjs';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import { mixedCsv } from './data/makeMixedCsv';
import { median, ms, type BenchSuite } from './suite';

const RUNS = 3;
const SPEED_GOAL = 5;
const MEMORY_GOAL = 0.25;
const FIRST_PAGE_GOAL_MS = 1000;

interface Measure {
  seconds: number;
  rows: number;
  peakRssMb: number;
}

interface PandasResult {
  seconds: number;
  read_seconds: number;
  describe_seconds: number;
  rows: number;
  peak_rss_mb: number;
}

function ours(what: 'profile' | 'preview' | 'inspect', path: string): Measure {
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'bench', 'datasetsProbe.ts'), what, path],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measure;
}

function medianOf(runs: Measure[]): Measure {
  return {
    seconds: median(runs.map((r) => r.seconds)),
    rows: runs[0].rows,
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
  };
}

function repeat(what: 'profile' | 'preview' | 'inspect', path: string): Measure {
  return medianOf(Array.from({ length: RUNS }, () => ours(what, path)));
}

function pandas(python: string, path: string): PandasResult {
  const output = execFileSync(python, [join(repoRoot, 'bench', 'pandas', 'peer.py'), path], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as PandasResult;
}

/** Ten copies of the 1 GB file under one header: built on first use, cached beside it. */
async function tenfold(csv: string): Promise<string> {
  const path = join(dirname(csv), `${basename(csv, '.csv')}-x10.csv`);
  if (existsSync(path)) return path;
  say(`building the 10 GB CSV ${path} from ten copies of ${csv} (cached for later runs)`);
  const header = await firstLineBytes(csv);
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const out = createWriteStream(partial);
  for (let copy = 0; copy < 10; copy++) {
    for await (const chunk of createReadStream(csv, { start: copy === 0 ? 0 : header, highWaterMark: 4 << 20 })) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  renameSync(partial, path);
  return path;
}

async function firstLineBytes(path: string): Promise<number> {
  for await (const chunk of createReadStream(path, { end: 64 * 1024 }) as AsyncIterable<Buffer>)
    return chunk.indexOf(10) + 1;
  throw new Error(`${path} is empty`);
}

function gb(path: string): string {
  return `${(statSync(path).size / 1e9).toFixed(2)} GB`;
}

export const datasetsSuite: BenchSuite = {
  name: 'datasets',
  async run() {
    const peer = ensurePandas();
    if (!peer.ok) throw new Error(peer.reason);
    const csv = await mixedCsv();
    say(`datasets: profiling ${csv} with DuckDB, ${RUNS} times`);
    const profiled = repeat('profile', csv);
    say('datasets: the same with pandas (a minute or two)');
    const theirs = pandas(peer.python, csv);
    if (profiled.rows !== theirs.rows) throw new Error(`we profiled ${profiled.rows} rows, pandas ${theirs.rows}`);
    say('datasets: counting rows, and first pages');
    const counted = repeat('inspect', csv);
    const firstPage = repeat('preview', csv);
    const big = await tenfold(csv);
    const bigFirstPage = repeat('preview', big);

    const speedup = theirs.seconds / profiled.seconds;
    const memory = profiled.peakRssMb / theirs.peak_rss_mb;
    const mark = (ok: boolean) => (ok ? '✓' : '✗');
    return [
      '## Datasets at scale',
      '',
      `A CSV of ${profiled.rows.toLocaleString('en')} rows (${gb(csv)}; integers, decimals, text, dates, booleans, nulls), profiled by our \`profile\` (DuckDB) and by pandas ${PANDAS_VERSION}'s \`read_csv\` then \`describe(include='all')\`, each in a fresh process. Ours: the median of ${RUNS} runs, DuckDB's start included; pandas: one run, its import not included.`,
      '',
      `Our profile reads the file once: exact row, null and value counts, min, max, mean and std for every column, and a uniform random sample of about 50 MB of the file (here about half a million rows) for quantiles, histograms and top values (smaller files are profiled whole). pandas reads every value into memory, then describes it: counts, mean, std, min, max and exact quartiles for numbers; counts, unique values, the top value and its frequency for the rest.`,
      '',
      '| measure | ours | pandas | ratio (ours / pandas) | speed-up | goal |',
      '| --- | --- | --- | --- | --- | --- |',
      `| profile the ${gb(csv)} CSV | ${profiled.seconds.toFixed(2)} s | ${theirs.seconds.toFixed(1)} s (read ${theirs.read_seconds.toFixed(1)} s, describe ${theirs.describe_seconds.toFixed(1)} s) | ${(profiled.seconds / theirs.seconds).toFixed(3)} | **${speedup.toFixed(1)}×** | ≥ ${SPEED_GOAL}× ${mark(speedup >= SPEED_GOAL)} |`,
      '',
      '| peak memory (RSS) | ours | pandas | ours / pandas | goal |',
      '| --- | --- | --- | --- | --- |',
      `| profiling the ${gb(csv)} CSV | ${profiled.peakRssMb.toFixed(0)} MB | ${theirs.peak_rss_mb.toFixed(0)} MB | ${memory.toFixed(3)} | ≤ ${MEMORY_GOAL} ${mark(memory <= MEMORY_GOAL)} |`,
      '',
      `| preview and inspect (median of ${RUNS}, each in a fresh process) | time | goal |`,
      '| --- | --- | --- |',
      `| first page (100 rows) of the ${gb(csv)} CSV | ${ms(firstPage.seconds * 1000)} | |`,
      `| first page (100 rows) of the ${gb(big)} CSV | ${ms(bigFirstPage.seconds * 1000)} | < ${FIRST_PAGE_GOAL_MS} ms ${mark(bigFirstPage.seconds * 1000 < FIRST_PAGE_GOAL_MS)} |`,
      `| inspect the ${gb(csv)} CSV (columns, and rows counted through the file) | ${counted.seconds.toFixed(2)} s | |`,
      '',
    ].join('\n');
  },
};
