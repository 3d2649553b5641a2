// Appends to lake tables against real DuckDB and real files: versions made of hard-linked parts
// plus one new part, time travel, keys that make an append idempotent, compaction past the part
// limit, a refused schema, and a writer killed mid-append.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { MAX_PARTS } from '../../src/datasets/lake/catalog';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { MlopsError } from '../../src/shared/errors';

const repo = join(import.meta.dirname, '..', '..');
const tsx = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('tsx')).href;
const dir = mkdtempSync(join(tmpdir(), 'mlops-lake-append-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function freshRoot(name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return join(path, 'lake');
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<MlopsError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof MlopsError, `not an MlopsError: ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

/** Rows first..first+count-1 of (id BIGINT, x DOUBLE, name VARCHAR). */
const rows = (first: number, count: number) =>
  `SELECT range AS id, CAST(range AS DOUBLE) * 0.5 AS x, 'n' || range AS name FROM range(${first}, ${first + count})`;
const partsOf = (root: string, table: string, version: number) =>
  readdirSync(join(root, 'tables', table, `v${version}`))
    .filter((name) => name.endsWith('.parquet'))
    .sort();

test('an append makes a new version of the previous parts, hard-linked, plus one; older versions still read their rows', async () => {
  const root = freshRoot('versions');
  const lake = openLake(root);
  const first = await lake.append('events', rows(0, 100));
  assert.deepEqual(
    [first.version.version, first.version.rows, first.appended, first.skipped, first.compacted],
    [1, 100, 100, 0, false],
  );
  assert.deepEqual(first.version.schema, [
    { name: 'id', type: 'BIGINT' },
    { name: 'x', type: 'DOUBLE' },
    { name: 'name', type: 'VARCHAR' },
  ]);
  const second = await lake.append('events', rows(100, 50), { producedBy: 'a test' });
  assert.deepEqual(
    [second.version.version, second.version.rows, second.appended, second.version.producedBy],
    [2, 150, 50, 'a test'],
  );
  assert.deepEqual(partsOf(root, 'events', 2), ['part-0.parquet', 'part-1.parquet']);
  const linked = statSync(join(root, 'tables', 'events', 'v2', 'part-0.parquet'));
  assert.equal(
    linked.ino,
    statSync(join(root, 'tables', 'events', 'v1', 'part-0.parquet')).ino,
    'the previous part is a hard link, not a copy',
  );
  assert.ok(linked.nlink >= 2);

  const third = await lake.append('events', rows(150, 25));
  assert.equal(third.version.version, 3);
  assert.deepEqual(partsOf(root, 'events', 3), ['part-0.parquet', 'part-1.parquet', 'part-2.parquet']);
  assert.deepEqual(
    (await lake.versions('events')).map((v) => [v.version, v.rows]),
    [
      [1, 100],
      [2, 150],
      [3, 175],
    ],
  );
  assert.deepEqual((await lake.query('SELECT count(*), min(id), max(id), sum(x) FROM events')).rows, [
    [175, 0, 174, 7612.5],
  ]);
  assert.deepEqual((await lake.query('SELECT count(*), max(id) FROM events', { versions: { events: 1 } })).rows, [
    [100, 99],
  ]);
  assert.deepEqual((await lake.query('SELECT count(*), max(id) FROM events', { versions: { events: 2 } })).rows, [
    [150, 149],
  ]);
  assert.deepEqual(
    (await lake.tables()).map((t) => [t.name, t.latest.version, t.versions]),
    [['events', 3, 3]],
  );
  assert.deepEqual(readdirSync(join(root, '.staging')), []);
  assert.deepEqual(readdirSync(join(root, 'tables', 'events')).sort(), ['v1', 'v2', 'v3'], 'no lock left');

  // The query may read the table it appends to: its previous version.
  const doubled = await lake.append('events', 'SELECT id + 1000 AS id, x, name FROM events WHERE id < 10');
  assert.deepEqual([doubled.version.version, doubled.version.rows], [4, 185]);
  await lake.close();
});

test('with a key, rows already in the table or repeated in the batch are skipped; nothing new commits nothing', async () => {
  const root = freshRoot('key');
  const lake = openLake(root);
  await lake.append('events', rows(0, 100), { key: ['id'] });
  const overlap = await lake.append('events', `${rows(50, 100)} UNION ALL ${rows(140, 20)}`, { key: ['id'] });
  assert.deepEqual(
    [overlap.version.version, overlap.version.rows, overlap.appended, overlap.skipped],
    [2, 160, 60, 60],
  );
  assert.deepEqual((await lake.query('SELECT count(*), count(DISTINCT id), max(id) FROM events')).rows, [
    [160, 160, 159],
  ]);
  const again = await lake.append('events', rows(0, 160), { key: ['id', 'name'] });
  assert.deepEqual(
    [again.version.version, again.version.rows, again.appended, again.skipped],
    [2, 160, 0, 160],
    'the previous version, unchanged',
  );
  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1, 2],
  );
  // Nulls match nulls.
  await lake.append('nullable', `SELECT CAST(NULL AS VARCHAR) AS k, 1 AS v`, { key: ['k'] });
  const nulls = await lake.append('nullable', `SELECT CAST(NULL AS VARCHAR) AS k, 1 AS v UNION ALL SELECT 'a', 2`, {
    key: ['k'],
  });
  assert.deepEqual([nulls.appended, nulls.skipped], [1, 1]);
  await rejectsWith(
    lake.append('events', rows(0, 1), { key: ['nope'] }),
    /key column nope is not one of its columns \(id, x, name\)/,
  );
  assert.deepEqual(readdirSync(join(root, '.staging')), []);
});

test('rows with other columns or types are refused, naming them; the table is unchanged', async () => {
  const root = freshRoot('schema');
  const lake = openLake(root);
  // A table that an ingest wrote takes appends as well.
  const csv = join(dir, 'events.csv');
  writeFileSync(csv, `id,x,name\n${Array.from({ length: 9 }, (_, i) => `${i},${i * 0.5},n${i}`).join('\n')}\n`);
  await lake.ingest('events', [csv]);
  assert.equal((await lake.append('events', rows(9, 1))).version.rows, 10);
  const before = await lake.query('SELECT * FROM events ORDER BY id');
  const retyped = await rejectsWith(
    lake.append('events', 'SELECT range AS id, CAST(range AS VARCHAR) AS x, 1 AS extra FROM range(3)'),
    /Cannot append to events: the rows do not have the columns of version 2/,
  );
  assert.match(retyped.message, /x retyped from DOUBLE to VARCHAR/);
  assert.match(retyped.message, /extra added \(INTEGER\)/);
  assert.match(retyped.message, /name removed \(was VARCHAR\)/);
  assert.match(retyped.remedy ?? '', /CAST/);
  // The same columns in another order are the same schema; they are stored in the table's order.
  const reordered = await lake.append(
    'events',
    "SELECT name, x, id FROM (SELECT 10::BIGINT AS id, 5.0::DOUBLE AS x, 'n10' AS name)",
  );
  assert.equal(reordered.version.version, 3);
  assert.deepEqual((await lake.query('SELECT * FROM events WHERE id = 10')).rows, [[10, 5, 'n10']]);
  assert.deepEqual(
    (await lake.query('SELECT * FROM events ORDER BY id', { versions: { events: 2 } })).rows,
    before.rows,
  );
  await rejectsWith(lake.append('events', 'SELECT nope FROM events'), /SQL error: .*nope/);
  await rejectsWith(lake.append('Events', rows(0, 1)), /would clash with table events/);
  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1, 2, 3],
  );
  assert.deepEqual(readdirSync(join(root, '.staging')), []);
});

test(`an append that would make more than ${MAX_PARTS} parts compacts the table into one part`, async () => {
  const root = freshRoot('compaction');
  const lake = openLake(root);
  await lake.append('events', rows(0, 10));
  for (let i = 1; i < MAX_PARTS; i++) {
    const appended = await lake.append('events', rows(i * 10, 10));
    assert.equal(appended.compacted, false);
  }
  assert.equal(partsOf(root, 'events', MAX_PARTS).length, MAX_PARTS);
  const compacted = await lake.append('events', rows(MAX_PARTS * 10, 10));
  assert.deepEqual(
    [compacted.compacted, compacted.appended, compacted.version.version, compacted.version.rows],
    [true, 10, MAX_PARTS + 1, (MAX_PARTS + 1) * 10],
  );
  assert.deepEqual(partsOf(root, 'events', MAX_PARTS + 1), ['part-0.parquet']);
  assert.deepEqual((await lake.query('SELECT count(*), count(DISTINCT id), min(id), max(id) FROM events')).rows, [
    [(MAX_PARTS + 1) * 10, (MAX_PARTS + 1) * 10, 0, (MAX_PARTS + 1) * 10 - 1],
  ]);
  assert.deepEqual(
    (await lake.query('SELECT count(*) FROM events', { versions: { events: MAX_PARTS } })).rows,
    [[MAX_PARTS * 10]],
    'the version before compaction still reads',
  );
  const next = await lake.append('events', rows(1000, 5));
  assert.deepEqual([next.compacted, next.version.rows], [false, (MAX_PARTS + 1) * 10 + 5]);
  assert.deepEqual(partsOf(root, 'events', MAX_PARTS + 2), ['part-0.parquet', 'part-1.parquet']);
});

const CHILD = String.raw`
import { openLake } from ${JSON.stringify(pathToFileURL(join(repo, 'src', 'datasets', 'lake', 'duckdbLake.ts')).href)};
const [root, table, count] = process.argv.slice(2);
const lake = openLake(root);
try {
  const result = await lake.append(table, 'SELECT range AS id, random() AS x, md5(CAST(range AS VARCHAR)) AS name FROM range(' + count + ')', {
    onProgress: (progress) => process.stdout.write(JSON.stringify({ progress }) + '\n'),
  });
  process.stdout.write(JSON.stringify({ version: result.version.version }) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.message }) + '\n');
}
`;

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );

test(
  'an append killed while writing leaves the previous version intact; the next append gets the next version',
  { timeout: 120_000 },
  async () => {
    const root = freshRoot('killed');
    const lake = openLake(root);
    await lake.append('events', rows(0, 100));
    await lake.append('events', rows(100, 100));
    const before = await lake.query('SELECT * FROM events ORDER BY id', { limit: 1000 });
    const script = join(dir, 'appendChild.mts');
    writeFileSync(script, CHILD);
    const child = spawn(process.execPath, ['--import', tsx, script, root, 'events', String(40_000_000)], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    for (;;) {
      const { value, done } = await lines.next();
      assert.ok(!done, 'the child printed its progress');
      assert.doesNotMatch(value, /"error"|"version"/, 'the child was still writing');
      if (/Writing Parquet/.test(value)) break;
    }
    const [staged] = readdirSync(join(root, '.staging'));
    const part = join(root, '.staging', staged, 'part-2.parquet');
    for (const deadline = Date.now() + 60_000; !(existsSync(part) && statSync(part).size > 0);) {
      assert.ok(Date.now() < deadline, 'the child started writing its part');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(existsSync(join(root, '.staging', staged, 'part-0.parquet')), 'the previous parts are linked in first');
    await rejectsWith(lake.append('events', rows(500, 1)), /events is being written by process \d+/);
    child.kill('SIGKILL');
    await exited(child);
    assert.equal(child.signalCode, 'SIGKILL', 'the child was killed, not finished');

    assert.deepEqual(
      (await lake.versions('events')).map((v) => [v.version, v.rows]),
      [
        [1, 100],
        [2, 200],
      ],
    );
    assert.deepEqual(await lake.query('SELECT * FROM events ORDER BY id', { limit: 1000 }), before);
    const next = await lake.append('events', rows(200, 10));
    assert.deepEqual([next.version.version, next.version.rows], [3, 210]);
    assert.deepEqual(readdirSync(join(root, '.staging')), [], "the dead writer's staging folder was swept");
    assert.equal(
      statSync(join(root, 'tables', 'events', 'v1', 'part-0.parquet')).nlink,
      3,
      'sweeping its links left the committed parts alone (v1, v2, v3)',
    );
    assert.deepEqual((await lake.query('SELECT count(*), max(id) FROM events')).rows, [[210, 209]]);
    assert.deepEqual((await lake.query('SELECT count(*) FROM events', { versions: { events: 1 } })).rows, [[100]]);
  },
);

test('cancelling an append through its signal commits nothing', async () => {
  const root = freshRoot('cancelled');
  const lake = openLake(root);
  await lake.append('events', rows(0, 10));
  const controller = new AbortController();
  controller.abort();
  await rejectsWith(
    lake.append('events', rows(10, 10), { signal: controller.signal }),
    /cancelled; the lake was not changed/,
  );
  const late = new AbortController();
  const pending = lake.append(
    'events',
    'SELECT range AS id, random() AS x, md5(CAST(range AS VARCHAR)) AS name FROM range(30000000)',
    {
      signal: late.signal,
      onProgress: (message) => {
        if (/Writing/.test(message)) setTimeout(() => late.abort(), 200);
      },
    },
  );
  await rejectsWith(pending, /cancelled; the lake was not changed/);
  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(readdirSync(join(root, '.staging')), []);
});
