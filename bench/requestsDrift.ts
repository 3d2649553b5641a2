// Input drift over a million logged requests: the model server's request log (JSON Lines, one row
// of 4 numeric and 1 categorical feature per request) ingested into the lake's `requests` table,
// then `requestDrift` against a baseline of a million training rows; beside it pandas reading the
// same log and numpy and scipy computing the same PSI and KS, in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { say } from '../scripts/lib/setup.mjs';
import { openDuckDb } from '../src/datasets/duckdb';
import { openLake } from '../src/datasets/lake/duckdbLake';
import { sqlString } from '../src/datasets/sql';
import { ingestRequestFile, ingestRequestLines, requestDrift } from '../src/monitor/requestsTable';
import { driftData } from './drift';
import { median, type BenchSuite } from './suite';

const REQUESTS = 1_000_000;
const RUNS = 3;
const target = 'bench';
const deployment = 'churn';

/**
 * The request log, written by DuckDB from the drift benchmark's shifted Parquet file: one request
 * per row, 3.6 ms apart (an hour), as the model server logs them. Not timed; cached beside it.
 */
async function requestLog(dir: string, current: string): Promise<string> {
  const path = join(dir, 'requests.jsonl');
  if (existsSync(path)) return path;
  say(`requests-drift: writing ${REQUESTS.toLocaleString('en')} request log lines to ${path}`);
  const db = await openDuckDb();
  try {
    await db.query(`
      COPY (
        SELECT strftime(TIMESTAMP '2026-11-27 12:00:00' + to_milliseconds(CAST(i * 3.6 AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%gZ') AS ts,
               CAST(uuid() AS VARCHAR) AS request_id, '3f2a9c1d0e7b' AS version,
               [{'tenure_months': tenure_months, 'monthly_charges': monthly_charges, 'support_calls': support_calls, 'latency_ms': latency_ms, 'plan': plan}] AS inputs,
               [CAST(random() < 0.3 AS INTEGER)] AS predictions, round(2 + random() * 20, 3) AS latency_ms, 200 AS status, 'task-' || (i % 3) AS instance
        FROM (SELECT row_number() OVER () - 1 AS i, * FROM read_parquet(${sqlString(current)}) LIMIT ${REQUESTS})
        ORDER BY i
      ) TO ${sqlString(`${path}.partial`)} (FORMAT json)`);
  } finally {
    db.close();
  }
  renameSync(`${path}.partial`, path);
  return path;
}

const seconds = (started: number) => (performance.now() - started) / 1000;

interface Peer {
  seconds: number;
  read_seconds: number;
  flatten_seconds: number;
  drift_seconds: number;
  rows: number;
  features: Record<string, { psi: number; ks: number | null }>;
}

export const requestsDriftSuite: BenchSuite = {
  name: 'requests-drift',
  async run() {
    const { dir, baseline, current, python } = driftData();
    const log = await requestLog(dir, current);
    const measures = {
      ingest: [] as number[],
      drift: [] as number[],
      again: [] as number[],
      lines: [] as number[],
      peerRead: [] as number[],
      peerDrift: [] as number[],
    };
    let agree = true;
    let parquetBytes = 0;
    for (let run = 1; run <= RUNS; run++) {
      const folder = mkdtempSync(join(tmpdir(), 'mlops-bench-requests-'));
      try {
        say(`requests-drift: run ${run} of ${RUNS}`);
        const lake = openLake(join(folder, 'lake'));
        let started = performance.now();
        const ingested = await ingestRequestFile(lake, log, { target, deployment });
        measures.ingest.push(seconds(started));
        if (ingested.appended !== REQUESTS || ingested.malformed !== 0)
          throw new Error(
            `the ingest stored ${ingested.appended} requests and found ${ingested.malformed} malformed lines`,
          );
        parquetBytes = statSync(join(folder, 'lake', 'tables', 'requests', 'v1', 'part-0.parquet')).size;

        started = performance.now();
        const drift = await requestDrift(lake, { target, deployment, baseline: { file: baseline } });
        measures.drift.push(seconds(started));

        started = performance.now();
        const again = await ingestRequestFile(lake, log, { target, deployment });
        measures.again.push(seconds(started));
        if (again.appended !== 0 || again.duplicates !== REQUESTS)
          throw new Error(`reading the log again stored ${again.appended} requests`);

        const linesLake = openLake(join(folder, 'lines-lake'));
        started = performance.now();
        const lines = readFileSync(log, 'utf8').split('\n');
        await ingestRequestLines(linesLake, lines, { target, deployment });
        measures.lines.push(seconds(started));

        const peer = JSON.parse(
          execFileSync(python, [join(import.meta.dirname, 'pandas', 'requests_drift_peer.py'), baseline, log], {
            encoding: 'utf8',
            maxBuffer: 1 << 24,
          })
            .trim()
            .split('\n')
            .at(-1)!,
        ) as Peer;
        measures.peerRead.push(peer.read_seconds + peer.flatten_seconds);
        measures.peerDrift.push(peer.drift_seconds);
        agree &&= peer.rows === REQUESTS && drift.currentRows === REQUESTS && drift.rows.length === 5;
        for (const row of drift.rows) {
          const expected = peer.features[row.feature];
          agree &&=
            Boolean(expected) &&
            Math.abs(row.psi - expected!.psi) < 1e-9 &&
            (expected!.ks === null ? row.ks === null : Math.abs((row.ks ?? NaN) - expected!.ks) < 1e-12);
        }
        await lake.close();
        await linesLake.close();
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }
    const m = Object.fromEntries(Object.entries(measures).map(([key, values]) => [key, median(values)])) as Record<
      keyof typeof measures,
      number
    >;
    const row = (label: string, ours: number, peer: number) =>
      `| ${label} | ${ours.toFixed(2)} s | ${peer.toFixed(2)} s | ${(ours / peer).toFixed(2)} |`;
    const n = REQUESTS.toLocaleString('en');
    return [
      '## Input drift over logged requests',
      '',
      `${n} request log lines as the model server writes them (JSON Lines, ${(statSync(log).size / 1e6).toFixed(0)} MB; one input row of 4 numeric and 1 categorical feature per request, the shifted sample of the input drift benchmark), against a baseline Parquet file of ${n} training rows. Ours: \`ingestRequestFile\` appends the log to the lake's \`requests\` table (DuckDB reads the JSON with explicit columns, checks every line, skips lines already stored by their key, and commits a new table version in Parquet), then \`requestDrift\` reads the window back from the lake, flattens the inputs into one column per feature typed by the baseline, and computes PSI (baseline deciles, or categories), the KS statistic and an 8-slice PSI trend per feature in DuckDB. The peer: pandas \`read_json(lines=True)\` and a frame of the flattened inputs, then \`read_parquet\` of the baseline, numpy (quantiles, searchsorted, bincount) and \`scipy.stats.ks_2samp\`, in one Python process (imports not timed), keeping nothing. Medians of ${RUNS} runs.`,
      '',
      '| | ours | pandas + scipy | ratio (ours / peer) |',
      '| --- | --- | --- | --- |',
      row(`read ${n} logged requests (ours: into the lake)`, m.ingest, m.peerRead),
      row(`drift of 5 features against ${n} baseline rows`, m.drift, m.peerDrift),
      row('total', m.ingest + m.drift, m.peerRead + m.peerDrift),
      '',
      '| ours only | median |',
      '| --- | --- |',
      `| reading the same log again (every line already stored, nothing committed) | ${m.again.toFixed(2)} s |`,
      `| \`ingestRequestLines\` of the ${n} lines, the file read and split in Node included | ${m.lines.toFixed(2)} s |`,
      `| the \`requests\` table's Parquet | ${(parquetBytes / 1e6).toFixed(0)} MB |`,
      '',
      agree
        ? 'Every PSI agrees with the peer within 1e-9 and every KS statistic within 1e-12.'
        : '**The results disagree with the peer** (beyond 1e-9 for PSI or 1e-12 for KS).',
      '',
    ].join('\n');
  },
};
