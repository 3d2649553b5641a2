// The lake against real DuckDB and real files: versions, time travel, globs, schema changes, bad
// input, cancellation, a writer killed mid-write, a reader beside a writer, and `mlops lake`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCli } from '../../src/shared/cliFramework';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import { lakeCommand } from '../../src/datasets/lake/cli';
import type { LakeTable, LakeTableVersion, QueryResult } from '../../src/datasets/model';
import { MlopsError } from '../../src/shared/errors';
import { writeEventsCsv } from '../support/lakeData';

const repo = join(import.meta.dirname, '..', '..');
// Children run in other folders, where a bare 'tsx' would not resolve.
const tsx = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('tsx')).href;
const BIG_ROWS = 3_000_000;
let dir: string;
let bigCsv: string;
let smallCsv: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-lake-test-'));
  smallCsv = join(dir, 'events-small.csv');
  await writeEventsCsv(smallCsv, 100);
  // Big enough that writing its Parquet takes seconds: time to kill the writer, or to read beside it.
  bigCsv = join(dir, 'events-big.csv');
  await writeEventsCsv(bigCsv, BIG_ROWS);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function freshDir(name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
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

test('ingesting a CSV makes version 1, again version 2; queries read the latest or a pinned version', async () => {
  const folder = freshDir('versions');
  const content = 'id,name,score,joined\n1,ann,2.5,2024-01-02\n2,bob,3.5,2024-02-03\n';
  writeFileSync(join(folder, 'people.csv'), content);
  const lake = openLake(join(folder, 'lake'), { cwd: folder });
  const phases: string[] = [];
  const v1 = await lake.ingest('people', ['people.csv'], { onProgress: (message) => phases.push(message) });
  assert.equal(v1.version, 1);
  assert.equal(v1.rows, 2);
  assert.deepEqual(v1.schema, [
    { name: 'id', type: 'BIGINT' },
    { name: 'name', type: 'VARCHAR' },
    { name: 'score', type: 'DOUBLE' },
    { name: 'joined', type: 'DATE' },
  ]);
  assert.deepEqual(v1.sources, [
    {
      path: join(folder, 'people.csv'),
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: content.length,
    },
  ]);
  assert.deepEqual(v1.schemaChanges, []);
  assert.ok(!Number.isNaN(Date.parse(v1.createdAt)));
  assert.ok(
    phases.some((p) => /Writing Parquet/.test(p)) && phases.some((p) => /Committing/.test(p)),
    phases.join(', '),
  );
  assert.ok(existsSync(join(folder, 'lake', 'tables', 'people', 'v1', '_manifest.json')));
  assert.ok(readdirSync(join(folder, 'lake', 'tables', 'people', 'v1')).some((name) => name.endsWith('.parquet')));

  writeFileSync(
    join(folder, 'people.csv'),
    'id,name,score,joined\n1,ann,2.5,2024-01-02\n2,bob,3.5,2024-02-03\n3,cy,4.5,2024-03-04\n',
  );
  const v2 = await lake.ingest('people', ['people.csv']);
  assert.equal(v2.version, 2);
  assert.equal(v2.rows, 3);
  assert.notEqual(v2.sources[0].sha256, v1.sources[0].sha256);

  const latest = await lake.query('SELECT id, name, score, joined FROM people ORDER BY id');
  assert.deepEqual(
    latest.columns.map((c) => c.type),
    ['BIGINT', 'VARCHAR', 'DOUBLE', 'DATE'],
  );
  assert.deepEqual(latest.rows, [
    [1, 'ann', 2.5, '2024-01-02'],
    [2, 'bob', 3.5, '2024-02-03'],
    [3, 'cy', 4.5, '2024-03-04'],
  ]);
  assert.equal(latest.truncated, false);
  const pinned = await lake.query('SELECT count(*) AS n, max(name) AS last FROM people', { versions: { people: 1 } });
  assert.deepEqual(pinned.rows, [[2, 'bob']]);

  const tables = await lake.tables();
  assert.deepEqual(
    tables.map((t) => [t.name, t.latest.version, t.versions]),
    [['people', 2, 2]],
  );
  assert.deepEqual(
    (await lake.versions('people')).map((v) => [v.version, v.rows]),
    [
      [1, 2],
      [2, 3],
    ],
  );

  const cut = await lake.query('SELECT * FROM range(25000)', { limit: 100 });
  assert.equal(cut.rows.length, 100);
  assert.equal(cut.truncated, true);
  const exact = await lake.query('SELECT * FROM people', { limit: 3 });
  assert.equal(exact.truncated, false);
  await rejectsWith(lake.query('SELECT 1', { versions: { people: 7 } }), /people has no version 7/);
  await rejectsWith(lake.ingest('2people', ['people.csv']), /'2people' is not a valid table name/);
  await lake.close();
});

test('a glob of several files is unioned by column name; formats mix', async () => {
  const folder = freshDir('glob');
  mkdirSync(join(folder, 'raw', '2024'), { recursive: true });
  writeFileSync(join(folder, 'raw', 'a.csv'), 'id,city\n1,Paris\n2,Lyon\n');
  writeFileSync(join(folder, 'raw', 'b.csv'), 'city,id,zip\nNice,3,06000\n');
  writeFileSync(join(folder, 'raw', '2024', 'c.jsonl'), '{"id": 4, "city": "Lille"}\n');
  writeFileSync(join(folder, 'raw', 'notes.txt'), 'not data');
  const lake = openLake(join(folder, 'lake'), { cwd: folder });
  const version = await lake.ingest('cities', ['raw/*.csv']);
  assert.deepEqual(
    version.sources.map((s) => s.path),
    [join(folder, 'raw', 'a.csv'), join(folder, 'raw', 'b.csv')],
  );
  assert.equal(version.rows, 3);
  const result = await lake.query('SELECT id, city, zip FROM cities ORDER BY id');
  assert.deepEqual(result.rows, [
    [1, 'Paris', null],
    [2, 'Lyon', null],
    [3, 'Nice', '06000'],
  ]);
  const all = await lake.ingest('cities', ['raw/**/*.{csv,jsonl}'], { allowSchemaChange: true });
  assert.equal(all.sources.length, 3);
  assert.deepEqual((await lake.query('SELECT id FROM cities ORDER BY id')).rows, [[1], [2], [3], [4]]);
  await rejectsWith(lake.ingest('cities', ['raw/*.xlsx']), /No files match raw\/\*\.xlsx/);
  await rejectsWith(
    lake.ingest('cities', ['raw/notes.txt']),
    /notes\.txt is not a CSV, TSV, Parquet, JSON or JSONL file/,
  );
});

test('a schema change is refused, naming the columns, unless allowed; then it is recorded', async () => {
  const folder = freshDir('schema');
  const lake = openLake(join(folder, 'lake'), { cwd: folder });
  writeFileSync(join(folder, 'm.csv'), 'id,price,label\n1,2.5,a\n');
  await lake.ingest('m', ['m.csv']);
  writeFileSync(join(folder, 'm.csv'), 'id,price,size\n1,cheap,10\n');
  const refused = await rejectsWith(lake.ingest('m', ['m.csv']), /schema of m would change/);
  assert.match(refused.message, /size added \(BIGINT\)/);
  assert.match(refused.message, /label removed \(was VARCHAR\)/);
  assert.match(refused.message, /price retyped from DOUBLE to VARCHAR/);
  assert.match(refused.remedy ?? '', /allow-schema-change/);
  assert.deepEqual(
    (await lake.versions('m')).map((v) => v.version),
    [1],
    'nothing was written',
  );
  const allowed = await lake.ingest('m', ['m.csv'], { allowSchemaChange: true });
  assert.equal(allowed.version, 2);
  assert.deepEqual(
    [...allowed.schemaChanges].sort((a, b) => a.column.localeCompare(b.column)),
    [
      { kind: 'removed', column: 'label', from: 'VARCHAR' },
      { kind: 'retyped', column: 'price', from: 'DOUBLE', to: 'VARCHAR' },
      { kind: 'added', column: 'size', to: 'BIGINT' },
    ],
  );
  assert.deepEqual((await lake.versions('m'))[1].schemaChanges, allowed.schemaChanges);
});

test('writeQuery writes a query over lake tables as a new version with producedBy', async () => {
  const folder = freshDir('writeQuery');
  const lake = openLake(join(folder, 'lake'), { cwd: folder });
  writeFileSync(join(folder, 'o.csv'), 'customer,amount\na,10\nb,5\na,7\n');
  await lake.ingest('orders', ['o.csv']);
  const totals = await lake.writeQuery(
    'totals',
    'SELECT customer, sum(amount) AS total FROM orders GROUP BY customer ORDER BY customer;',
    { producedBy: 'pipeline step totals' },
  );
  assert.deepEqual(
    [totals.version, totals.rows, totals.producedBy, totals.sources],
    [1, 2, 'pipeline step totals', []],
  );
  assert.deepEqual((await lake.query('SELECT * FROM totals ORDER BY customer')).rows, [
    ['a', 17],
    ['b', 5],
  ]);
  await rejectsWith(lake.writeQuery('totals', 'SELECT nope FROM orders'), /SQL error: .*nope/);
  assert.equal((await lake.versions('totals')).length, 1);
});

test('bad input is named with its file (and line) and leaves the lake untouched', async () => {
  const folder = freshDir('bad');
  const lake = openLake(join(folder, 'lake'), { cwd: folder });
  writeFileSync(join(folder, 'good.csv'), 'a,b,c\n1,x,2.5\n');
  await lake.ingest('t', ['good.csv']);
  const before = await lake.query('SELECT * FROM t');

  writeFileSync(join(folder, 'corrupt.parquet'), Buffer.from('PAR1 this is not really parquet'));
  await rejectsWith(
    lake.ingest('t', ['corrupt.parquet']),
    new RegExp(`Cannot ingest ${join(folder, 'corrupt.parquet')}: .*magic bytes`),
  );
  writeFileSync(join(folder, 'empty.csv'), '');
  await rejectsWith(
    lake.ingest('t', ['good.csv', 'empty.csv']),
    new RegExp(`${join(folder, 'empty.csv')}: the file is empty`),
  );
  writeFileSync(join(folder, 'ragged.csv'), 'a,b,c\n1,x,2.5\n2,y,3.5\n3,z,1.5,9\n4,w,2.5\n');
  const ragged = await rejectsWith(
    lake.ingest('t', ['good.csv', 'ragged.csv']),
    new RegExp(`Cannot ingest ${join(folder, 'ragged.csv')}, line 4: Expected Number of Columns: 3 Found: 4`),
  );
  assert.match(ragged.message, /3,z,1\.5,9/);
  // Beyond the sniffer's sample the error comes from the reader itself.
  writeFileSync(join(folder, 'late.csv'), `a,b,c\n${'1,x,2.5\n'.repeat(30_000)}oops,x,1\n`);
  await rejectsWith(
    lake.ingest('t', ['late.csv']),
    new RegExp(`late\\.csv, line 30002: .*Could not convert string "oops"`),
  );
  writeFileSync(join(folder, 'broken.jsonl'), '{"a": 1}\n{"a": 2,\n');
  await rejectsWith(lake.ingest('t', ['broken.jsonl']), /broken\.jsonl, line 2: malformed JSON/);

  assert.deepEqual(
    (await lake.versions('t')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(await lake.query('SELECT * FROM t'), before);
  assert.deepEqual(readdirSync(join(folder, 'lake', '.staging')), [], 'no staging leftovers');
  assert.deepEqual(readdirSync(join(folder, 'lake', 'tables', 't')), ['v1'], 'no lock or partial version left');
  assert.ok(!existsSync(join(folder, 'lake', 'tables', 'u')), 'a failed first write leaves no table folder');

  const syntax = await rejectsWith(
    lake.query('SELECT a,\n  b FRM t'),
    /SQL error: Parser Error: syntax error at or near "t"/,
  );
  assert.match(syntax.message, /LINE 2:/);
  const missing = await rejectsWith(lake.query('SELECT * FROM nowhere'), /SQL error: .*nowhere does not exist/);
  assert.match(missing.remedy ?? '', /The lake tables are: t\./);
});

function startChild(
  root: string,
  table: string,
  source: string,
): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(repo, 'test', 'support', 'lakeIngestChild.ts'), root, table, source],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function waitFor(lines: AsyncIterator<string>, pattern: RegExp): Promise<void> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the child ended before printing ${pattern}`);
    if (pattern.test(value)) return;
    if (/"error"|"version"/.test(value)) throw new Error(`the child finished before ${pattern}: ${value}`);
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve(child.exitCode)
      : child.once('exit', (code) => resolve(code)),
  );

test('an ingest killed while writing leaves the previous version intact; the next ingest gets the next version', async () => {
  const root = join(freshDir('killed'), 'lake');
  const lake = openLake(root);
  await lake.ingest('events', [smallCsv]);
  const before = await lake.query('SELECT * FROM events ORDER BY id');
  assert.equal(before.rows.length, 100);

  const { child, lines } = startChild(root, 'events', bigCsv);
  await waitFor(lines, /Writing Parquet/);
  const [staged] = readdirSync(join(root, '.staging'));
  const part = join(root, '.staging', staged, 'part-0.parquet');
  for (const deadline = Date.now() + 10_000; !(existsSync(part) && statSync(part).size > 0);) {
    assert.ok(Date.now() < deadline, 'the child started writing Parquet');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited(child);
  assert.equal(child.signalCode, 'SIGKILL', 'the child was killed, not finished');

  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(
    (await lake.tables()).map((t: LakeTable) => [t.name, t.latest.version, t.latest.rows]),
    [['events', 1, 100]],
  );
  assert.deepEqual(await lake.query('SELECT * FROM events ORDER BY id'), before);
  assert.ok(!existsSync(join(root, 'tables', 'events', 'v2')));
  // A version folder without its manifest is not a version, whatever made it.
  mkdirSync(join(root, 'tables', 'events', 'v2'));
  writeFileSync(join(root, 'tables', 'events', 'v2', 'part-0.parquet'), 'half a file');
  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(await lake.query('SELECT * FROM events ORDER BY id'), before);

  const next = await lake.ingest('events', [smallCsv]);
  assert.equal(next.version, 2);
  assert.deepEqual(readdirSync(join(root, '.staging')), [], "the dead writer's staging folder was swept");
  assert.deepEqual(
    readdirSync(join(root, 'tables', 'events')).sort(),
    ['v1', 'v2'],
    'its lock was taken over and released',
  );
  assert.deepEqual((await lake.query('SELECT count(*) FROM events')).rows, [[100]]);
  assert.equal((await lake.versions('events'))[1].sources[0].path, smallCsv);
});

test('queries and listings keep working while another process writes; they see the new version once committed', async () => {
  const root = join(freshDir('concurrent'), 'lake');
  const lake = openLake(root);
  await lake.ingest('events', [smallCsv]);
  const { child, lines } = startChild(root, 'events', bigCsv);
  await waitFor(lines, /Writing Parquet/);
  const during: QueryResult[] = [];
  for (let i = 0; i < 3; i++) {
    during.push(await lake.query('SELECT count(*) AS n, max(id) AS top FROM events'));
    assert.equal((await lake.tables())[0].latest.version, 1);
  }
  await rejectsWith(lake.ingest('events', [smallCsv]), /events is being written by process \d+/);
  assert.equal(await exited(child), 0);
  for (const result of during) assert.deepEqual(result.rows, [[100, 99]]);
  const after: LakeTableVersion[] = await lake.versions('events');
  assert.deepEqual(
    after.map((v) => [v.version, v.rows]),
    [
      [1, 100],
      [2, BIG_ROWS],
    ],
  );
  assert.deepEqual((await lake.query('SELECT count(*) AS n, max(id) AS top FROM events')).rows, [
    [BIG_ROWS, BIG_ROWS - 1],
  ]);
});

test('cancelling an ingest through its signal stops the write and commits nothing', async () => {
  const root = join(freshDir('cancelled'), 'lake');
  const lake = openLake(root);
  await lake.ingest('events', [smallCsv]);
  const controller = new AbortController();
  let abortedAt = 0;
  // Aborted once DuckDB reports progress, so the COPY itself is interrupted.
  const onProgress = (message: string, fraction?: number) => {
    if (/Writing/.test(message) && fraction && !abortedAt) {
      abortedAt = Date.now();
      controller.abort();
    }
  };
  await rejectsWith(
    lake.ingest('events', [bigCsv], { signal: controller.signal, onProgress }),
    /cancelled; the lake was not changed/,
  );
  assert.ok(abortedAt > 0, 'the write was under way');
  assert.ok(Date.now() - abortedAt < 1500, `the write stopped promptly (${Date.now() - abortedAt} ms)`);
  assert.deepEqual(
    (await lake.versions('events')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(readdirSync(join(root, '.staging')), []);
  assert.equal((await lake.ingest('events', [smallCsv])).version, 2);
});

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: (text: string) => void (out.stdout += text), stderr: (text: string) => void (out.stderr += text) },
  };
}

const program = { name: 'mlops', version: '0.0.0', commands: [lakeCommand] };

test('mlops lake ingest, tables, versions and query print text and --json', async () => {
  const folder = freshDir('cli');
  const root = join(folder, 'lake');
  copyFileSync(smallCsv, join(folder, 'events.csv'));
  const run = async (...argv: string[]) => {
    const { out, io } = capture();
    const code = await runCli(program, argv, io);
    return { code, ...out };
  };

  const ingested = await run(
    'lake',
    'ingest',
    join(folder, 'events.csv'),
    '--table',
    'events',
    '--lake',
    root,
    '--json',
  );
  assert.equal(ingested.code, 0, ingested.stderr);
  const version = JSON.parse(ingested.stdout) as LakeTableVersion;
  assert.deepEqual([version.table, version.version, version.rows, version.schema.length], ['events', 1, 100, 4]);
  const plain = await run('lake', 'ingest', join(folder, 'events.csv'), '--table', 'events', '--lake', root);
  assert.equal(plain.stdout, 'events version 2: 100 rows, 4 columns, from 1 file(s)\n');
  assert.match(plain.stderr, /Writing Parquet for events version 2/);

  const tables = await run('lake', 'tables', '--lake', root, '--json');
  assert.deepEqual(
    (JSON.parse(tables.stdout) as LakeTable[]).map((t) => [t.name, t.versions, t.latest.version]),
    [['events', 2, 2]],
  );
  const versions = await run('lake', 'versions', 'events', '--lake', root, '--json');
  assert.deepEqual(
    (JSON.parse(versions.stdout) as LakeTableVersion[]).map((v) => v.version),
    [1, 2],
  );

  const query = await run(
    'lake',
    'query',
    'SELECT id, name, day FROM events WHERE id < 2 ORDER BY id',
    '--at',
    'events=1',
    '--lake',
    root,
    '--json',
  );
  assert.deepEqual(JSON.parse(query.stdout), {
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'VARCHAR' },
      { name: 'day', type: 'DATE' },
    ],
    rows: [
      [0, 'name_0', '2020-01-01'],
      [1, 'name_1', '2020-01-02'],
    ],
    truncated: false,
  });
  const text = await run('lake', 'query', 'SELECT id, name FROM events ORDER BY id', '--limit', '2', '--lake', root);
  assert.equal(text.stdout, 'id\tname\n0\tname_0\n1\tname_1\n');
  assert.match(text.stderr, /cut at 2 rows/);

  const bad = await run('lake', 'query', 'SELEC 1', '--lake', root, '--json');
  assert.equal(bad.code, 1);
  assert.match((JSON.parse(bad.stderr) as { error: string }).error, /SQL error: Parser Error/);
  assert.equal((await run('lake', 'frobnicate', '--lake', root)).code, 2);
  assert.equal((await run('lake', 'query', 'SELECT 1', '--at', 'events', '--lake', root)).code, 2);
  assert.equal((await run('lake', 'ingest', 'x.csv', '--lake', root)).code, 2, '--table is required');
});

test('mlops lake uses .mlops/lake under the current folder by default', async () => {
  const folder = freshDir('cli-default');
  copyFileSync(smallCsv, join(folder, 'events.csv'));
  const cli = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', tsx, join(repo, 'test', 'support', 'lakeCli.ts'), ...args], {
        cwd: folder,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const ingest = await cli('lake', 'ingest', '*.csv', '--table', 'events', '--json');
  assert.equal(ingest.code, 0, ingest.stderr);
  assert.ok(existsSync(join(folder, '.mlops', 'lake', 'tables', 'events', 'v1', '_manifest.json')));
  const query = await cli('lake', 'query', 'SELECT count(*) AS n FROM events', '--json');
  assert.deepEqual((JSON.parse(query.stdout) as QueryResult).rows, [[100]]);
  const missing = await cli('lake', 'versions', 'nothing');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /has no table nothing/);
});
