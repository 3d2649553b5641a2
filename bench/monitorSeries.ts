// The monitor panel's data for 24 hours at one-second resolution: 86,400 recorded scrapes of two
// versions, read back and turned into the chart series (request rate, error rate, p50/p95/p99
// latency, prediction shares), each downsampled to the 2,000-point budget. Beside it, pandas
// reading the same files and computing request rate, error rate and p95 into the same budget.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMlflow } from '../scripts/lib/mlflow.mjs';
import { say } from '../scripts/lib/setup.mjs';
import type { CountsRecord, InstanceCounts } from '../src/monitor/counts';
import { appendCounts, readCounts } from '../src/monitor/countsLog';
import { POINT_BUDGET } from '../src/monitor/model';
import { windowSeries } from '../src/monitor/window';
import { median, type BenchSuite } from './suite';

const SECONDS = 86_400;
const RUNS = 3;
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

/** Two instances (one per version) serving a few requests a second, for a day. */
function writeDay(dir: string, start: number): void {
  const totals = new Map<string, InstanceCounts>();
  for (const [instance, version] of [
    ['10.0.0.5:8080', 'v1'],
    ['10.0.0.6:8080', 'v2'],
  ]) {
    totals.set(instance, {
      instance,
      version,
      requests: 0,
      errors: 0,
      latency: { bounds: BOUNDS, cumulative: BOUNDS.map(() => 0), sum: 0 },
      classes: { yes: 0, no: 0 },
      values: null,
    });
  }
  for (let second = 0; second <= SECONDS; second++) {
    for (const counts of totals.values()) {
      const served = 2 + ((second * 7 + counts.version.length) % 5);
      counts.requests += served;
      counts.errors += second % 97 === 0 ? 1 : 0;
      const bucket = 3 + (second % 5);
      counts.latency!.cumulative = counts.latency!.cumulative.map((c, i) => (i >= bucket ? c + served : c));
      counts.latency!.sum += served * BOUNDS[bucket]!;
      counts.classes.yes += second % 3 === 0 ? served : 0;
      counts.classes.no += second % 3 === 0 ? 0 : served;
    }
    const record: CountsRecord = {
      at: start + second * 1000,
      instances: [...totals.values()].map((c) => structuredClone(c)),
      unreachable: [],
    };
    appendCounts(dir, record);
  }
}

export const monitorSeriesSuite: BenchSuite = {
  name: 'monitor-series',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(`pandas comes with the MLflow virtualenv: ${mlflow.reason}`);
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-monitor-'));
    try {
      // A day that does not cross midnight twice: two daily files, as a real day mostly is.
      const start = Date.parse('2026-11-26T12:00:00Z');
      say(`monitor-series: recording ${SECONDS.toLocaleString('en')} scrapes of two versions in ${dir}`);
      writeDay(dir, start);
      const ours: number[] = [];
      const theirs: number[] = [];
      let largest = 0;
      let total = 0;
      let lines = 0;
      for (let run = 1; run <= RUNS; run++) {
        say(`monitor-series: run ${run} of ${RUNS}`);
        const started = performance.now();
        const series = windowSeries(readCounts(dir, start, start + SECONDS * 1000));
        ours.push((performance.now() - started) / 1000);
        largest = Math.max(...series.map((s) => s.points.length));
        total = series[0]!.totalPoints;
        lines = series.length;
        const peer = JSON.parse(
          execFileSync(
            mlflow.python,
            [join(import.meta.dirname, 'pandas', 'monitor_series_peer.py'), dir, String(POINT_BUDGET)],
            { encoding: 'utf8' },
          )
            .trim()
            .split('\n')
            .at(-1)!,
        ) as { seconds: number };
        theirs.push(peer.seconds);
      }
      const [o, t] = [median(ours), median(theirs)];
      return [
        '## Monitor panel data',
        '',
        `24 hours of recorded scrapes at one-second resolution (${SECONDS.toLocaleString('en')} records of two instances, one per version, in the daily JSON lines files of \`.mlops/monitoring/\`). Ours: \`readCounts\` + \`windowSeries\`, what the panel's host side runs for a 24 h range: every instance's differences between consecutive scrapes, per version, as ${lines} series (request rate, error rate, p50, p95 and p99 latency, and each class's share), each cut from ${total.toLocaleString('en')} points to at most ${POINT_BUDGET.toLocaleString('en')} by LTTB. The peer: pandas reading the same files and computing request rate, error rate and p95 per version into ${POINT_BUDGET.toLocaleString('en')} buckets (means), so it does less. Medians of ${RUNS} runs.`,
        '',
        '| | ours | pandas | ratio (ours / peer) |',
        '| --- | --- | --- | --- |',
        `| 24 h at 1 s, 2 versions, to ${POINT_BUDGET.toLocaleString('en')} points a series | ${o.toFixed(2)} s | ${t.toFixed(2)} s | ${(o / t).toFixed(2)} |`,
        '',
        `The largest series sent to the panel has ${largest.toLocaleString('en')} points (budget ${POINT_BUDGET.toLocaleString('en')}).`,
      ].join('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
