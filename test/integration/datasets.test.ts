// The datasets core on real files made in a temporary folder: discovery (ignore rules, a
// workspace of 100,000 files), inspection, paging, profiling (histograms, wide files), bad
// input, and the CLI (the wide files also through the built dist/cli.js).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../src/shared/cliFramework';
import { datasetsCommand, profileCommand } from '../../src/datasets/cli';
import { discoverDatasets } from '../../src/datasets/findDatasets';
import { withDuckDb } from '../../src/datasets/duckdb';
import { sqlIdentifier, sqlString } from '../../src/datasets/sql';
import { inspect } from '../../src/datasets/inspect';
import type { ColumnProfile, DatasetProfile } from '../../src/datasets/model';
import { preview } from '../../src/datasets/preview';
import { profile } from '../../src/datasets/profile';
import { MlopsError } from '../../src/shared/errors';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { runCli as runBuiltCli } from '../support/badInput';

const tempDirs: string[] = [];
after(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-datasets-'));
  tempDirs.push(dir);
  return dir;
}

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

async function copyToFile(sql: string, path: string, format: 'parquet' | 'csv'): Promise<void> {
  await withDuckDb({}, (db) => db.query(`COPY (${sql}) TO ${sqlString(path)} (FORMAT ${format})`));
}

async function rejectsNaming(promise: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MlopsError, `not an MlopsError: ${String(error)}`);
    for (const pattern of patterns) {
      if (typeof pattern === 'string')
        assert.ok(error.message.includes(pattern), `${JSON.stringify(pattern)} not in: ${error.message}`);
      else assert.match(error.message, pattern);
    }
    return true;
  });
}

function column(profileColumns: ColumnProfile[], name: string): ColumnProfile {
  const found = profileColumns.find((c) => c.name === name);
  assert.ok(found, `no column ${name}`);
  return found;
}

test('discovery honours nested .gitignore files and skips dependencies, environments and caches', async () => {
  const root = tempDir();
  write(root, {
    '.gitignore': 'scratch/\n*.tmp.csv\nraw/*.csv\n!raw/keep.csv\n',
    'train.csv': 'a\n1\n',
    'data/events.jsonl': '{"a":1}\n',
    'data/table.parquet': 'x',
    'data/table.tsv': 'a\tb\n',
    'data/customers.json': '[]',
    'data/package.json': '{}',
    'data/tsconfig.json': '{}',
    'data/notes.txt': 'not a dataset',
    'data/big.tmp.csv': 'a\n',
    'raw/drop.csv': 'a\n',
    'raw/keep.csv': 'a\n',
    'scratch/x.csv': 'a\n',
    'nested/.gitignore': 'private.csv\n',
    'nested/private.csv': 'a\n',
    'nested/public.csv': 'a\n',
    'node_modules/pkg/data.csv': 'a\n',
    '.venv/lib/data.csv': 'a\n',
    'venv/data.csv': 'a\n',
    'env/pyvenv.cfg': 'home = /usr/bin\n',
    'env/lib/data.csv': 'a\n',
    'env2/conda-meta/history': '',
    'env2/data.csv': 'a\n',
    'lib/python3.11/site-packages/pandas/tests/data.csv': 'a\n',
    '.git/objects/data.csv': 'a\n',
    '.mlops/lake/t.parquet': 'x',
    'src/__pycache__/data.csv': 'a\n',
    'notebooks/.ipynb_checkpoints/data.csv': 'a\n',
  });
  const { datasets, stoppedAt } = await discoverDatasets(root);
  assert.equal(stoppedAt, undefined);
  assert.deepEqual(
    datasets.map((d) => [d.path.slice(root.length + 1), d.format]),
    [
      ['data/customers.json', 'json'],
      ['data/events.jsonl', 'jsonl'],
      ['data/table.parquet', 'parquet'],
      ['data/table.tsv', 'tsv'],
      ['nested/public.csv', 'csv'],
      ['raw/keep.csv', 'csv'],
      ['train.csv', 'csv'],
    ],
  );
  assert.equal(datasets.find((d) => d.path.endsWith('train.csv'))!.bytes, 4);
});

test("discovery leaves out what the editor's files.exclude globs match, folders and files", async () => {
  const root = tempDir();
  write(root, {
    'train.csv': 'a\n1\n',
    'data/events.jsonl': '{"a":1}\n',
    'data/events.tmp.jsonl': '{"a":1}\n',
    'data/archive/2020.csv': 'a\n',
    'out/result.csv': 'a\n',
    'nested/out/result.csv': 'a\n',
    'exports/a.parquet': 'x',
    'exports/b.tsv': 'a\tb\n',
  });
  const found = async (exclude: string[]) =>
    (await discoverDatasets(root, { exclude })).datasets.map((d) => d.path.slice(root.length + 1));
  assert.equal((await found([])).length, 8);
  assert.deepEqual(await found(['**/*.tmp.*', 'data/archive', 'out', 'exports/*.{parquet,json}']), [
    'data/events.jsonl',
    'exports/b.tsv',
    'nested/out/result.csv',
    'train.csv',
  ]);
  assert.deepEqual(await found(['**/out']), [
    'data/archive/2020.csv',
    'data/events.jsonl',
    'data/events.tmp.jsonl',
    'exports/a.parquet',
    'exports/b.tsv',
    'train.csv',
  ]);
});

test('discovery stops at its limit and its entry budget, and can be cancelled', async () => {
  const root = tempDir();
  write(root, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`d${i % 5}/f${i}.csv`, 'a\n'])));
  const limited = await discoverDatasets(root, { limit: 10 });
  assert.equal(limited.stoppedAt, 'limit');
  assert.equal(limited.datasets.length, 10);
  const budgeted = await discoverDatasets(root, { entryBudget: 20 });
  assert.equal(budgeted.stoppedAt, 'budget');
  assert.ok(budgeted.datasets.length < 20);
  await assert.rejects(discoverDatasets(root, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('discovery walks 100,000 files in seconds without blocking the event loop', async () => {
  const root = tempDir();
  const started = performance.now();
  // 100 folders of 1,000 files: 200 datasets among source files, a node_modules of 20,000
  // files, 10 ignored folders of 1,000 CSVs each.
  writeFileSync(join(root, '.gitignore'), 'ignored-*/\n');
  for (let d = 0; d < 100; d++) {
    const folder = d < 20 ? `node_modules/pkg${d}` : d < 30 ? `ignored-${d}` : `src/module${d}`;
    mkdirSync(join(root, folder), { recursive: true });
    for (let f = 0; f < 1000; f++) {
      const name = d >= 30 ? (f < 3 ? `data${f}.csv` : `file${f}.py`) : `data${f}.csv`;
      writeFileSync(join(root, folder, name), '');
    }
  }
  process.stderr.write(`# wrote 100,000 files in ${Math.round(performance.now() - started)} ms\n`);
  // A timer that keeps firing during the walk shows the event loop was never held for long.
  let ticks = 0;
  let longestStall = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestStall = Math.max(longestStall, now - last);
    last = now;
    ticks++;
  }, 5);
  const walkStarted = performance.now();
  const { datasets, stoppedAt } = await discoverDatasets(root);
  const seconds = (performance.now() - walkStarted) / 1000;
  clearInterval(ticker);
  process.stderr.write(
    `# discovery: ${datasets.length} datasets in ${seconds.toFixed(2)} s; the event loop turned ${ticks} times, its longest stall ${Math.round(longestStall)} ms\n`,
  );
  assert.equal(stoppedAt, undefined);
  assert.equal(datasets.length, 70 * 3);
  assert.ok(
    datasets.every((d) => d.path.startsWith(join(root, 'src'))),
    'nothing from node_modules or ignored folders',
  );
  assert.ok(seconds < 5, `took ${seconds} s`);
  assert.ok(ticks >= 5, `the timer fired only ${ticks} times in ${seconds} s`);
  assert.ok(longestStall < 1000, `the event loop stalled for ${longestStall} ms`);
});

test('inspect gives rows, DuckDB types and bytes for CSV, TSV, Parquet, JSON and JSONL', async () => {
  const root = tempDir();
  write(root, {
    'people.csv':
      'id,name,born,score,active\n1,Ann,1990-01-02,1.5,true\n2,Bob,1985-05-06,,false\n3,"Smith, Jo",2001-12-31,3.25,true\n',
    'people.tsv': 'id\tname\n1\tAnn\n2\tBob\n',
    'semicolons.csv': 'id;amount\n1;2,5\n2;3,5\n',
    'events.jsonl': '{"id":1,"kind":"click"}\n{"id":2,"kind":"view"}\n{"id":3,"kind":null}\n',
    'array.json': '[{"id":1,"tags":["a","b"]},{"id":2,"tags":[]}]',
  });
  await copyToFile(
    'SELECT range AS id, range * 1.5 AS value, (range % 3)::VARCHAR AS bucket FROM range(12345)',
    join(root, 'table.parquet'),
    'parquet',
  );

  const csv = await inspect(join(root, 'people.csv'));
  assert.equal(csv.format, 'csv');
  assert.equal(csv.rows, 3);
  assert.equal(csv.bytes, 111);
  assert.deepEqual(csv.columns, [
    { name: 'id', type: 'BIGINT' },
    { name: 'name', type: 'VARCHAR' },
    { name: 'born', type: 'DATE' },
    { name: 'score', type: 'DOUBLE' },
    { name: 'active', type: 'BOOLEAN' },
  ]);
  assert.deepEqual(
    (await inspect(join(root, 'people.tsv'))).columns.map((c) => c.name),
    ['id', 'name'],
  );
  assert.deepEqual((await inspect(join(root, 'semicolons.csv'))).columns, [
    { name: 'id', type: 'BIGINT' },
    { name: 'amount', type: 'VARCHAR' },
  ]);
  const parquet = await inspect(join(root, 'table.parquet'));
  assert.equal(parquet.rows, 12345);
  assert.deepEqual(
    parquet.columns.map((c) => c.type),
    ['BIGINT', 'DECIMAL(21,1)', 'VARCHAR'],
  );
  const jsonl = await inspect(join(root, 'events.jsonl'));
  assert.equal(jsonl.rows, 3);
  assert.deepEqual(jsonl.columns, [
    { name: 'id', type: 'BIGINT' },
    { name: 'kind', type: 'VARCHAR' },
  ]);
  const json = await inspect(join(root, 'array.json'));
  assert.equal(json.rows, 2);
  assert.deepEqual(json.columns[1], { name: 'tags', type: 'VARCHAR[]' });
});

test('preview reads one page at the offset asked for; Parquet also tells its row count', async () => {
  const root = tempDir();
  const csv = join(root, 'numbers.csv');
  await copyToFile("SELECT range AS n, 'row ' || range AS label FROM range(100000)", csv, 'csv');
  const page = await preview(csv, 50_000, 3);
  assert.deepEqual(page.columns, [
    { name: 'n', type: 'BIGINT' },
    { name: 'label', type: 'VARCHAR' },
  ]);
  assert.deepEqual(page.rows, [
    [50000, 'row 50000'],
    [50001, 'row 50001'],
    [50002, 'row 50002'],
  ]);
  assert.equal(page.offset, 50_000);
  assert.equal(page.totalRows, undefined);
  assert.deepEqual((await preview(csv, 99_999, 10)).rows, [[99999, 'row 99999']]);
  assert.deepEqual((await preview(csv, 200_000, 10)).rows, []);

  const parquet = join(root, 'numbers.parquet');
  await copyToFile("SELECT range AS n, DATE '2024-01-01' + range::INTEGER AS day FROM range(1000)", parquet, 'parquet');
  const parquetPage = await preview(parquet, 10, 2);
  assert.equal(parquetPage.totalRows, 1000);
  assert.deepEqual(parquetPage.rows, [
    [10, '2024-01-11'],
    [11, '2024-01-12'],
  ]);
  await assert.rejects(preview(csv, -1, 10), MlopsError);
  await assert.rejects(preview(csv, 0, 0), MlopsError);
});

test('a profile counts nulls and distinct values, and gives ranges, spreads, quantiles, histograms and top values', async () => {
  const root = tempDir();
  const path = join(root, 'sales.csv');
  // 1,000 rows: amount = 0..999, every 10th quantity missing, 4 regions in 4:3:2:1.
  await copyToFile(
    `SELECT range AS amount, CASE WHEN range % 10 = 0 THEN NULL ELSE range % 7 END AS quantity,
       CASE WHEN range % 10 < 4 THEN 'north' WHEN range % 10 < 7 THEN 'south' WHEN range % 10 < 9 THEN 'east' ELSE 'west' END AS region,
       DATE '2024-01-01' + (range % 5)::INTEGER AS day
     FROM range(1000)`,
    path,
    'csv',
  );
  const steps: string[] = [];
  const result = await profile(path, { onProgress: (step) => steps.push(step) });
  assert.equal(result.rows, 1000);
  assert.equal(result.sampledRows, undefined, 'a small file is profiled whole');
  assert.ok(steps.length >= 2);

  const amount = column(result.columns, 'amount');
  assert.equal(amount.type, 'BIGINT');
  assert.deepEqual([amount.nulls, amount.distinct, amount.min, amount.max, amount.mean], [0, 1000, 0, 999, 499.5]);
  assert.ok(Math.abs(amount.std! - 288.8194) < 1e-3, String(amount.std));
  assert.deepEqual(amount.quantiles, { q25: 249.75, q50: 499.5, q75: 749.25 });
  assert.equal(amount.histogram!.length, 20);
  assert.deepEqual(amount.histogram![0], { start: 0, end: 50, count: 50 }, 'round edges: 0, 50, 100...');
  assert.equal(
    amount.histogram!.reduce((sum, bin) => sum + bin.count, 0),
    1000,
  );
  assert.equal(amount.topValues, undefined);

  const quantity = column(result.columns, 'quantity');
  assert.deepEqual([quantity.nulls, quantity.distinct, quantity.min, quantity.max], [100, 7, 0, 6]);
  assert.deepEqual(
    quantity.histogram!.map((b) => b.start),
    [0, 1, 2, 3, 4, 5, 6],
    'one bin per value',
  );
  assert.equal(
    quantity.histogram!.reduce((sum, bin) => sum + bin.count, 0),
    900,
  );

  const region = column(result.columns, 'region');
  assert.deepEqual(
    [region.type, region.nulls, region.distinct, region.min, region.max],
    ['VARCHAR', 0, 4, 'east', 'west'],
  );
  assert.deepEqual(region.topValues, [
    { value: 'north', count: 400 },
    { value: 'south', count: 300 },
    { value: 'east', count: 200 },
    { value: 'west', count: 100 },
  ]);
  assert.equal(region.histogram, undefined);
  assert.equal(region.mean, undefined);

  const day = column(result.columns, 'day');
  assert.deepEqual(
    [day.type, day.distinct, day.min, day.max, day.topValues![0]],
    ['DATE', 5, '2024-01-01', '2024-01-05', { value: '2024-01-01', count: 200 }],
  );
});

test('a file with more rows than the sample: exact counts and ranges, sampled shapes', async () => {
  const root = tempDir();
  const path = join(root, 'big.parquet');
  await copyToFile(
    `SELECT range AS id, ['a', 'b', 'c', 'd'][1 + (range % 4)::INTEGER] AS letter, CASE WHEN range % 2 = 0 THEN NULL ELSE range / 10 END AS half FROM range(2000000)`,
    path,
    'parquet',
  );
  const result = await profile(path);
  assert.equal(result.rows, 2_000_000);
  assert.equal(result.sampledRows, 1_666_667, 'five million values: 2,000,000 rows × 3 columns, sampled at 5/6');
  const id = column(result.columns, 'id');
  assert.deepEqual([id.min, id.max, id.mean, id.nulls], [0, 1_999_999, 999_999.5, 0]);
  assert.ok(Math.abs(id.distinct - 2_000_000) / 2_000_000 < 0.2, `distinct ${id.distinct}`);
  assert.ok(Math.abs(id.quantiles!.q50 - 1_000_000) < 10_000, `median ${id.quantiles!.q50}`);
  assert.equal(id.histogram!.length, 20);
  for (const bin of id.histogram!) assert.ok(Math.abs(bin.count - 100_000) < 3000, `bin ${JSON.stringify(bin)}`);
  assert.equal(
    id.histogram!.reduce((sum, bin) => sum + bin.count, 0),
    2_000_000,
    'scaled counts still add up to the rows',
  );
  const letter = column(result.columns, 'letter');
  assert.equal(letter.distinct, 4, 'the sample has seen every letter: its exact count wins over HyperLogLog');
  for (const top of letter.topValues!) assert.ok(Math.abs(top.count - 500_000) < 15_000, `top ${JSON.stringify(top)}`);
  const half = column(result.columns, 'half');
  assert.equal(half.nulls, 1_000_000);
  assert.equal(
    half.histogram!.reduce((sum, bin) => sum + bin.count, 0),
    1_000_000,
  );
});

/** Counts the non-null values of `name` that lie in each bin, by the bins' own edges: [start, end), the last one closed. */
async function countByEdges(path: string, name: string, bins: { start: number; end: number }[]): Promise<number[]> {
  const v = `${sqlIdentifier(name)}::DOUBLE`;
  const last = bins.length - 1;
  const items = bins.map(
    ({ start, end }, k) => `count(*) FILTER (WHERE ${v} >= ${start} AND ${v} ${k === last ? '<=' : '<'} ${end})`,
  );
  const { rows } = await withDuckDb({}, (db) =>
    db.query(`SELECT ${items.join(', ')} FROM read_csv(${sqlString(path)})`),
  );
  return rows[0].map(Number);
}

async function assertBinsHoldEveryValue(path: string, result: DatasetProfile): Promise<void> {
  for (const c of result.columns.filter((c) => c.histogram)) {
    const counts = c.histogram!.map((bin) => bin.count);
    assert.equal(
      counts.reduce((sum, n) => sum + n, 0),
      result.rows - c.nulls,
      `${c.name}: the bins add up to the non-null rows`,
    );
    assert.deepEqual(
      counts,
      await countByEdges(path, c.name, c.histogram!),
      `${c.name}: each bin holds the values between its edges`,
    );
  }
}

test('histogram bins hold every non-null value once: integer, float, skewed and single-value columns', async () => {
  const root = tempDir();
  const path = join(root, 'shapes.csv');
  await copyToFile(
    `SELECT CASE WHEN range % 11 = 0 THEN NULL ELSE range % 7 END AS small_int,
       (range * 37) % 1001 - 500 AS wide_int,
       round((range % 41) * 0.05, 2) AS on_edges,
       CASE WHEN range % 13 = 0 THEN NULL ELSE random() * 200 - 100 END AS float,
       exp(random() * 20) AS skewed,
       42.5 AS constant,
       7 AS constant_int
     FROM range(5000)`,
    path,
    'csv',
  );
  const result = await profile(path);
  assert.deepEqual(
    result.columns.map((c) => [c.name, Boolean(c.histogram)]),
    ['small_int', 'wide_int', 'on_edges', 'float', 'skewed', 'constant', 'constant_int'].map((name) => [name, true]),
  );
  await assertBinsHoldEveryValue(path, result);
  assert.deepEqual(
    column(result.columns, 'small_int').histogram!.map((b) => [b.start, b.end]),
    [0, 1, 2, 3, 4, 5, 6].map((v) => [v, v + 1]),
    'one bin per integer',
  );
  const wide = column(result.columns, 'wide_int').histogram!;
  assert.ok(
    wide.every((b) => Number.isInteger(b.start) && b.end - b.start === wide[0].end - wide[0].start),
    `integer bins of one whole width: ${JSON.stringify(wide.slice(0, 3))}`,
  );
  // 0.3 is on an edge: it counts in [0.3, 0.4), where its text says it is.
  const onEdges = column(result.columns, 'on_edges').histogram!;
  const fromPoint3 = onEdges.find((b) => b.start === 0.3)!;
  assert.deepEqual([fromPoint3.end, fromPoint3.count], [0.4, 2 * Math.round(5000 / 41)]);
  assert.deepEqual(column(result.columns, 'constant').histogram, [{ start: 42.5, end: 42.5, count: 5000 }]);
  assert.deepEqual(column(result.columns, 'constant_int').histogram, [{ start: 7, end: 7, count: 5000 }]);
  const skewed = column(result.columns, 'skewed').histogram!;
  assert.ok(skewed[0].count > 4000, `most of a skewed column is in its first bin: ${skewed[0].count}`);
});

test("the demo's customers.csv: every row in one bin, tenure_months in whole steps", async () => {
  const path = join(repoRoot, 'demo', 'data', 'customers.csv');
  const result = await profile(path);
  assert.equal(result.rows, 500);
  await assertBinsHoldEveryValue(path, result);
  const tenure = column(result.columns, 'tenure_months').histogram!;
  assert.deepEqual(
    tenure.slice(0, 2).map((b) => [b.start, b.end]),
    [
      [0, 5],
      [5, 10],
    ],
  );
  const { rows } = await withDuckDb({}, (db) =>
    db.query(
      `SELECT count(*) FILTER (WHERE tenure_months < 5), count(*) FILTER (WHERE tenure_months >= 5 AND tenure_months < 10) FROM read_csv(${sqlString(path)})`,
    ),
  );
  assert.deepEqual([tenure[0].count, tenure[1].count], rows[0].map(Number));
});

/** `width` columns: one-hot integers, floats with nulls, and text categories. */
function wideSelect(width: number, rows: number): string {
  const columns = Array.from({ length: width }, (_, i) =>
    i % 3 === 0
      ? `(random() < 0.2)::INTEGER AS onehot_${i}`
      : i % 3 === 1
        ? `CASE WHEN random() < 0.05 THEN NULL ELSE random() * ${i} END AS x_${i}`
        : `'g' || (range % 5) AS cat_${i}`,
  );
  return `SELECT range AS id, ${columns.join(', ')} FROM range(${rows})`;
}

function assertEveryColumnProfiled(result: DatasetProfile, width: number): void {
  assert.equal(result.columns.length, width + 1);
  assert.deepEqual(
    result.columns.map((c) => c.name),
    ['id', ...Array.from({ length: width }, (_, i) => `${['onehot', 'x', 'cat'][i % 3]}_${i}`)],
  );
  for (const c of result.columns) {
    assert.ok(c.histogram || c.topValues?.length, `${c.name} has no distribution`);
    if (c.histogram)
      assert.equal(
        c.histogram.reduce((sum, bin) => sum + bin.count, 0),
        result.rows - c.nulls,
        `${c.name}: bins add up`,
      );
  }
  const cat = column(result.columns, 'cat_2');
  assert.deepEqual([cat.distinct, cat.nulls, cat.min, cat.max], [5, 0, 'g0', 'g4']);
}

test('wide CSVs (1,500, 3,000 and 5,000 columns) are profiled, every column, by the core and by the command line', async (t) => {
  const root = tempDir();
  for (const width of [1500, 3000, 5000]) {
    const path = join(root, `wide-${width}.csv`);
    await copyToFile(wideSelect(width, 300), path, 'csv');
    const started = performance.now();
    const result = await profile(path);
    const coreMs = Math.round(performance.now() - started);
    assert.equal(result.rows, 300);
    assert.equal(result.sampledRows, undefined);
    assertEveryColumnProfiled(result, width);
    const cli = await runBuiltCli(['profile', path, '--json'], { timeoutMs: 300_000 });
    assert.deepEqual([cli.code, cli.signal], [0, null], cli.stderr);
    const printed = JSON.parse(cli.stdout) as DatasetProfile;
    assertEveryColumnProfiled(printed, width);
    t.diagnostic(`${width} columns × 300 rows: core ${coreMs} ms, command line ${cli.ms} ms`);
    // Before batching: 1,500 columns gave nothing in two minutes, 3,000 crashed DuckDB.
    assert.ok(
      coreMs < 90_000 && cli.ms < 90_000,
      `${width} columns took ${coreMs} ms (core), ${cli.ms} ms (command line)`,
    );
  }
});

test('a wide Parquet file bigger than the sample gets exact statistics in batches of columns', async (t) => {
  const root = tempDir();
  const path = join(root, 'wide.parquet');
  // 5,001 columns × 2,000 rows: twice the sample's values, so half the rows are sampled.
  await copyToFile(wideSelect(5000, 2000), path, 'parquet');
  const started = performance.now();
  const result = await profile(path);
  t.diagnostic(`5,001 columns × 2,000 rows of Parquet, sampled: ${Math.round(performance.now() - started)} ms`);
  assert.equal(result.rows, 2000);
  assert.ok(result.sampledRows! > 500 && result.sampledRows! < 1500, `sampled ${result.sampledRows}`);
  assertEveryColumnProfiled(result, 5000);
  const id = column(result.columns, 'id');
  assert.deepEqual([id.min, id.max, id.mean, id.nulls], [0, 1999, 999.5, 0], 'exact, from the whole file');
  const last = column(result.columns, 'x_4999');
  assert.ok(last.nulls > 40 && last.nulls < 170, `about 5% nulls: ${last.nulls}`);
});

test('ragged rows are named by file and line', async () => {
  const root = tempDir();
  const early = join(root, 'early.csv');
  writeFileSync(early, 'a,b,c\n1,2,3\n4,5\n6,7,8\n');
  await rejectsNaming(inspect(early), early, 'line 3 has 2 fields where the header has 3');
  const late = join(root, 'late.csv');
  writeFileSync(late, `a,b,c\n${Array.from({ length: 30_000 }, (_, i) => `${i},${i},x`).join('\n')}\n1,2,3,4\n`);
  await rejectsNaming(profile(late), late, 'line 30002 has 4 fields where the header has 3');
  await rejectsNaming(preview(early, 0, 10), early, 'line 3');
});

test('quoted fields with line breaks, delimiters and quotes read as one value', async () => {
  const root = tempDir();
  const path = join(root, 'notes.csv');
  writeFileSync(path, 'id,note\n1,"first line\nsecond line"\n2,"a, b and ""c"""\n3,plain\n');
  const summary = await inspect(path);
  assert.equal(summary.rows, 3);
  assert.deepEqual((await preview(path, 0, 10)).rows, [
    [1, 'first line\nsecond line'],
    [2, 'a, b and "c"'],
    [3, 'plain'],
  ]);
  assert.equal(column((await profile(path)).columns, 'note').distinct, 3);
});

test('Latin-1 and UTF-16 files read; UTF-16 big-endian and mixed encodings are named', async () => {
  const root = tempDir();
  const latin = join(root, 'latin.csv');
  writeFileSync(latin, Buffer.from('name,city\nJosé,Zürich\nAnaïs,Besançon\n', 'latin1'));
  assert.deepEqual((await preview(latin, 0, 10)).rows, [
    ['José', 'Zürich'],
    ['Anaïs', 'Besançon'],
  ]);
  const utf16 = join(root, 'utf16.csv');
  writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,city\nJosé,Zürich\n', 'utf16le')]));
  assert.deepEqual((await preview(utf16, 0, 10)).rows, [['José', 'Zürich']]);
  const bigEndian = join(root, 'utf16be.csv');
  writeFileSync(bigEndian, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('name\nJosé\n', 'utf16le').swap16()]));
  await rejectsNaming(inspect(bigEndian), bigEndian, 'UTF-16 big-endian');
  // UTF-8 for 100,000 bytes, then one Latin-1 line.
  const mixed = join(root, 'mixed.csv');
  const body = Array.from({ length: 20_000 }, (_, i) => `${i},ok`).join('\n');
  writeFileSync(mixed, Buffer.concat([Buffer.from(`id,city\n${body}\n`), Buffer.from('20000,Zürich\n', 'latin1')]));
  await rejectsNaming(profile(mixed), mixed, 'line 20002 is not valid UTF-8');
});

test('a column whose values change type after the first rows is read as text, losing nothing', async () => {
  const root = tempDir();
  const path = join(root, 'codes.csv');
  writeFileSync(path, `code,n\n${Array.from({ length: 30_000 }, (_, i) => `${i},${i}`).join('\n')}\nA-17,30000\n`);
  const result = await profile(path);
  const code = column(result.columns, 'code');
  assert.equal(code.type, 'VARCHAR');
  assert.equal(result.rows, 30_001);
  assert.equal(code.nulls, 0);
  assert.equal(code.max, 'A-17');
  assert.equal(column(result.columns, 'n').type, 'BIGINT');
  assert.deepEqual((await preview(path, 30_000, 1)).rows, [['A-17', 30000]]);

  const jsonl = join(root, 'mixed.jsonl');
  writeFileSync(jsonl, `${Array.from({ length: 30_000 }, (_, i) => `{"v":${i}}`).join('\n')}\n{"v":"text"}\n`);
  const jsonProfile = await profile(jsonl);
  assert.equal(jsonProfile.rows, 30_001);
  assert.equal(column(jsonProfile.columns, 'v').type, 'JSON');
});

test('empty files, corrupt Parquet and malformed JSON are reported with the file', async () => {
  const root = tempDir();
  write(root, {
    'empty.csv': '',
    'blank.csv': '\n\n  \n',
    'empty.parquet': '',
    'garbage.parquet': 'PAR1 this is not parquet PAR1',
    'broken.json': '[{"a": 1}, {"a": 2,]',
    'broken.jsonl': '{"a": 1}\n{"a": 2}\nnot json\n',
    'header-only.csv': 'a,b,c\n',
  });
  await rejectsNaming(inspect(join(root, 'empty.csv')), join(root, 'empty.csv'), 'is empty');
  await rejectsNaming(profile(join(root, 'blank.csv')), join(root, 'blank.csv'), 'only blank lines');
  await rejectsNaming(inspect(join(root, 'empty.parquet')), 'is empty');
  await rejectsNaming(
    inspect(join(root, 'garbage.parquet')),
    join(root, 'garbage.parquet'),
    'not a readable Parquet file',
  );
  await rejectsNaming(preview(join(root, 'broken.json'), 0, 10), join(root, 'broken.json'), 'malformed JSON');
  await rejectsNaming(inspect(join(root, 'broken.jsonl')), join(root, 'broken.jsonl'), 'line 3: malformed JSON');
  await rejectsNaming(inspect(join(root, 'missing.csv')), 'does not exist');

  const truncated = join(root, 'truncated.parquet');
  await copyToFile('SELECT range AS id FROM range(100000)', truncated, 'parquet');
  truncateSync(truncated, 5000);
  await rejectsNaming(profile(truncated), truncated, 'not a readable Parquet file');

  const headerOnly = await inspect(join(root, 'header-only.csv'));
  assert.equal(headerOnly.rows, 0);
  assert.deepEqual(
    headerOnly.columns.map((c) => c.name),
    ['a', 'b', 'c'],
  );
});

test('a cancelled profile stops with a clear error', async () => {
  const root = tempDir();
  const path = join(root, 'numbers.csv');
  await copyToFile('SELECT range AS n FROM range(1000)', path, 'csv');
  await assert.rejects(profile(path, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('mlops datasets and mlops profile print JSON', async () => {
  const root = tempDir();
  write(root, {
    'ok.csv': 'id,name\n1,a\n2,b\n',
    'sub/bad.csv': 'a,b\n1\n2,3,4\n',
    'sub/hashes.csv': 'tag,n\n#data,1\n#ml,2\n',
  });
  const out: string[] = [];
  const io = { stdout: (text: string) => out.push(text), stderr: (text: string) => out.push(text) };
  const program = { name: 'mlops', version: '0.0.0', commands: [datasetsCommand, profileCommand] };

  assert.equal(await runCli(program, ['datasets', '--root', root, '--json'], io), 0);
  const listed = JSON.parse(out.join('')) as { path: string; rows: number; columns: unknown[]; problem?: string }[];
  assert.deepEqual(listed[0], {
    path: join(root, 'ok.csv'),
    format: 'csv',
    rows: 2,
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'VARCHAR' },
    ],
    bytes: 16,
  });
  assert.equal(listed[1].path, join(root, 'sub', 'bad.csv'));
  assert.equal(listed[1].problem, `${join(root, 'sub', 'bad.csv')} line 2 has 1 field where the header has 2.`);
  assert.equal(listed[2].rows, 2, "rows starting with '#' are rows, not comments");

  out.length = 0;
  assert.equal(await runCli(program, ['profile', join(root, 'ok.csv'), '--json'], io), 0);
  const profiled = JSON.parse(out.join('')) as {
    rows: number;
    columns: { name: string; distinct: number; topValues?: unknown[]; histogram?: unknown[] }[];
  };
  assert.equal(profiled.rows, 2);
  assert.deepEqual(
    profiled.columns.map((c) => [c.name, c.distinct, Boolean(c.histogram), Boolean(c.topValues)]),
    [
      ['id', 2, true, false],
      ['name', 2, false, true],
    ],
  );

  out.length = 0;
  assert.equal(await runCli(program, ['profile', join(root, 'sub', 'bad.csv'), '--json'], io), 1);
  assert.match(JSON.parse(out.join('')).error, /bad\.csv line 2 has 1 field/);
  out.length = 0;
  assert.equal(await runCli(program, ['profile'], io), 2);
});
