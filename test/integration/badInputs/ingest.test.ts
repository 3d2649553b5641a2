// The bad-input catalogue: `mlops lake ingest` killed with SIGKILL while it writes, interrupted
// with Ctrl-C, and raced by a second writer. The lake keeps reading its previous version, the next
// ingest works, and the second writer is refused with the process that holds the table.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLake } from '../../../src/datasets/lake/duckdbLake';
import { expectAccepted, expectRefused, fingerprint, startCli, type RunningCli } from '../../support/badInput';
import { writeEventsCsv } from '../../support/lakeData';

// Big enough that writing its Parquet takes a second or more: time to kill or race the writer.
const BIG_ROWS = 1_500_000;
let dir = '';
let smallCsv = '';
let bigCsv = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-ingest-'));
  smallCsv = join(dir, 'events-small.csv');
  bigCsv = join(dir, 'events-big.csv');
  await writeEventsCsv(smallCsv, 100);
  await writeEventsCsv(bigCsv, BIG_ROWS);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Setup, not a case: a lake whose table `events` holds the 100 small rows at version 1, made in this process. */
async function lakeAtVersion1(name: string): Promise<string> {
  const lake = join(dir, name);
  const opened = openLake(lake);
  try {
    assert.equal((await opened.ingest('events', [smallCsv])).version, 1);
  } finally {
    await opened.close();
  }
  return lake;
}

/** Starts the big ingest into `events` and resolves once it has begun writing Parquet into its staging folder. */
async function startBigIngest(lake: string): Promise<RunningCli> {
  const running = startCli(['lake', 'ingest', bigCsv, '--table', 'events', '--lake', lake]);
  await running.stderrMatches(/Writing Parquet for events version 2/);
  const staging = join(lake, '.staging');
  for (const deadline = Date.now() + 20_000; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const parts = existsSync(staging) ? readdirSync(staging).map((name) => join(staging, name, 'part-0.parquet')) : [];
    if (parts.some((part) => existsSync(part) && statSync(part).size > 0)) return running;
    assert.ok(Date.now() < deadline, 'the ingest started writing Parquet');
  }
}

const versionsSay = (lake: string, ...lines: RegExp[]) =>
  expectAccepted({ args: ['lake', 'versions', 'events', '--lake', lake], output: lines });
const countIs = (lake: string, rows: number) =>
  expectAccepted({
    args: ['lake', 'query', 'SELECT count(*) AS n, max(id) AS top FROM events', '--lake', lake],
    output: new RegExp(`^n\\ttop\\n${rows}\\t${rows - 1}\\n$`),
  });

test('an ingest killed with SIGKILL while writing Parquet: the lake reads version 1 as before, and the next ingest makes version 2', async () => {
  const lake = await lakeAtVersion1('killed');
  const version1 = join(lake, 'tables', 'events', 'v1');
  const before = fingerprint([version1, smallCsv]);
  const running = await startBigIngest(lake);
  running.child.kill('SIGKILL');
  assert.equal((await running.result).signal, 'SIGKILL', 'the ingest was killed, not finished');

  await versionsSay(lake, /^v1\t.*\t100 rows\t/m);
  await countIs(lake, 100);
  assert.ok(!existsSync(join(lake, 'tables', 'events', 'v2')), 'no half version was published');
  assert.deepEqual(fingerprint([version1, smallCsv]), before, 'version 1 and its source are as they were');

  // The dead writer's lock and staging folder are taken over, not in the way.
  await expectAccepted({
    args: ['lake', 'ingest', smallCsv, '--table', 'events', '--lake', lake],
    output: /events version 2: 100 rows/,
    unchanged: [version1, smallCsv],
  });
  assert.deepEqual(readdirSync(join(lake, '.staging')), [], "the dead writer's staging folder was swept");
  assert.deepEqual(readdirSync(join(lake, 'tables', 'events')).sort(), ['v1', 'v2'], 'its lock was released');
  await versionsSay(lake, /^v1\t.*\t100 rows\t/m, /^v2\t.*\t100 rows\t/m);
});

test('an ingest interrupted with Ctrl-C (SIGINT) while writing: it says the lake was not changed and exits 1', async () => {
  const lake = await lakeAtVersion1('interrupted');
  const before = fingerprint([join(lake, 'tables'), smallCsv, bigCsv]);
  const running = await startBigIngest(lake);
  running.child.kill('SIGINT');
  const result = await running.result;
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /events was cancelled; the lake was not changed/);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m);
  assert.deepEqual(
    fingerprint([join(lake, 'tables'), smallCsv, bigCsv]),
    before,
    'the lake and the sources are as they were',
  );
  assert.deepEqual(readdirSync(join(lake, '.staging')), [], 'its staging folder was removed');
  await countIs(lake, 100);
});

test('a second writer while an ingest is under way: refused with the process that holds the table; the first one commits', async () => {
  const lake = await lakeAtVersion1('concurrent');
  const version1 = join(lake, 'tables', 'events', 'v1');
  const running = await startBigIngest(lake);
  await expectRefused({
    args: ['lake', 'ingest', smallCsv, '--table', 'events', '--lake', lake],
    message: [
      new RegExp(`Table events is being written by process ${running.child.pid} on ${hostname()} \\(since `),
      /Try again when it has finished/,
    ],
    unchanged: [version1, smallCsv],
  });
  const first = await running.result;
  assert.equal(first.code, 0, first.stderr);
  await versionsSay(lake, /^v1\t.*\t100 rows\t/m, new RegExp(`^v2\\t.*\\t${BIG_ROWS} rows\\t`, 'm'));
  await countIs(lake, BIG_ROWS);
});
