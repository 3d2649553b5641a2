// Lake ingest at scale: a 1 GB CSV of 10 million mixed-type rows into a new table version
// (sniffing, Parquet with zstd, sha256 of the source, atomic commit), each run in a fresh process
// so its peak memory is its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, say } from '../scripts/lib/setup.mjs';
import type { LakeTableVersion } from '../src/datasets/model';
import { mixedCsv } from './data/makeMixedCsv';
import { median, type BenchSuite } from './suite';

const SAMPLES = 3;

interface Measure {
  version: LakeTableVersion;
  seconds: number;
  peakRssMb: number;
  parquetBytes: number;
}

function ingestOnce(csv: string): Measure {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-lake-'));
  try {
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test', 'support', 'lakeIngestChild.ts'), join(dir, 'lake'), 'sales', csv],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const last = JSON.parse(output.trim().split('\n').at(-1)!) as Omit<Measure, 'parquetBytes'> & { error?: string };
    if (last.error) throw new Error(last.error);
    return { ...last, parquetBytes: statSync(join(dir, 'lake', 'tables', 'sales', 'v1', 'part-0.parquet')).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const lakeIngestSuite: BenchSuite = {
  name: 'lake',
  async run() {
    const csv = await mixedCsv();
    const bytes = statSync(csv).size;
    const measures: Measure[] = [];
    for (let sample = 1; sample <= SAMPLES; sample++) {
      say(`lake: ingesting ${(bytes / 1e6).toFixed(0)} MB, run ${sample} of ${SAMPLES}`);
      measures.push(ingestOnce(csv));
    }
    const rows = measures[0].version.rows;
    const seconds = median(measures.map((m) => m.seconds));
    const peak = median(measures.map((m) => m.peakRssMb));
    const parquet = measures[0].parquetBytes;
    const range = (values: number[], digits: number) =>
      `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
    return [
      '## Lake ingest',
      '',
      `\`lake.ingest\` of one ${(bytes / 1e9).toFixed(2)} GB CSV, ${rows.toLocaleString('en')} rows × ${measures[0].version.schema.length} columns of mixed types (integers, floats, strings, dates, booleans, nulls), into a new lake table: type sniffing, Parquet with zstd, sha256 of the source, atomic commit. ${SAMPLES} runs, each in a fresh process.`,
      '',
      '| measure | median | range |',
      '| --- | --- | --- |',
      `| time | ${seconds.toFixed(2)} s | ${range(
        measures.map((m) => m.seconds),
        2,
      )} s |`,
      `| throughput | ${(bytes / 1e6 / seconds).toFixed(0)} MB/s | |`,
      `| rows per second | ${Math.round(rows / seconds).toLocaleString('en')} | |`,
      `| peak RSS of the process | ${peak.toFixed(0)} MB | ${range(
        measures.map((m) => m.peakRssMb),
        0,
      )} MB |`,
      `| Parquet written | ${(parquet / 1e6).toFixed(0)} MB (${((parquet / bytes) * 100).toFixed(0)} % of the CSV) | |`,
      '',
    ].join('\n');
  },
};
