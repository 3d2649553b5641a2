// The bad-input catalogue: ragged, mis-encoded, binary, empty and truncated data files, through
// `mlops profile` and `mlops lake ingest`, and a lake whose own files were damaged. Each refusal
// names the file (and the line where there is one), exits 1 and changes neither the file nor the
// lake; the inputs that only look bad (latin-1, UTF-16, a header alone, twice the same column
// name) are read as users mean them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDuckDb } from '../../../src/datasets/duckdb';
import { openLake } from '../../../src/datasets/lake/duckdbLake';
import { sqlString } from '../../../src/datasets/sql';
import { expectAccepted, expectRefused } from '../../support/badInput';

let dir = '';
/** A lake with table `t` at version 1, which every refused ingest into `t` must leave as it is. */
let lake = '';
const file = (name: string) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-files-'));
  lake = join(dir, 'lake');
  writeFileSync(file('good.csv'), 'a,b,c\n1,2,3\n4,5,6\n');
  writeFileSync(file('ragged.csv'), 'a,b,c\n1,2,3\n4,5\n6,7,8\n');
  writeFileSync(file('latin1.csv'), Buffer.from('name,city\nJos\xe9,M\xfcnchen\nAnn,Paris\n', 'latin1'));
  writeFileSync(
    file('utf16.csv'),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,city\nJosé,Paris\n', 'utf16le')]),
  );
  // Bytes of every value, NUL included, as an image or an archive saved under the wrong name.
  writeFileSync(file('binary.csv'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  writeFileSync(file('empty.csv'), '');
  writeFileSync(file('header.csv'), 'a,b,c\n');
  writeFileSync(file('duplicate.csv'), 'a,b,a\n1,2,3\n');
  writeFileSync(file('text.parquet'), 'a,b,c\n1,2,3\n');

  const session = await openDuckDb();
  try {
    await session.connection.run(
      `COPY (SELECT range AS id, range * 0.5 AS x FROM range(10000)) TO ${sqlString(file('good.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    session.close();
  }
  const parquet = readFileSync(file('good.parquet'));
  // Cut short, as a copy or a download that stopped: the footer, and its magic, are gone.
  writeFileSync(file('truncated.parquet'), parquet.subarray(0, Math.floor(parquet.length / 3)));
  // Whole, but its closing magic (PAR1) is not Parquet's.
  writeFileSync(
    file('wrong-magic.parquet'),
    Buffer.concat([parquet.subarray(0, parquet.length - 4), Buffer.from('NOPE')]),
  );

  await lakeWithVersions(lake, 1);
});

/** Setup, not a case: ingests good.csv into table `t` of the lake `versions` times, in this process. */
async function lakeWithVersions(root: string, versions: number): Promise<void> {
  const opened = openLake(root);
  try {
    for (let version = 1; version <= versions; version++)
      assert.equal((await opened.ingest('t', [file('good.csv')])).version, version);
  } finally {
    await opened.close();
  }
}

after(() => rmSync(dir, { recursive: true, force: true }));

const refusedIngest = (name: string, message: RegExp | RegExp[]) =>
  expectRefused({
    args: ['lake', 'ingest', file(name), '--table', 't', '--lake', lake],
    message,
    unchanged: [file(name), lake],
  });

test('a ragged CSV (line 3 has 2 of 3 fields): profile names the line', async () => {
  await expectRefused({
    args: ['profile', file('ragged.csv')],
    message: [/ragged\.csv line 3 has 2 fields where the header has 3/, /quote fields that contain the delimiter/],
    unchanged: [file('ragged.csv')],
  });
});

test('a ragged CSV (line 3 has 2 of 3 fields): lake ingest names the line and leaves the lake as it was', async () => {
  await refusedIngest('ragged.csv', [
    /Cannot ingest .*ragged\.csv, line 3: Expected Number of Columns: 3 Found: 2 \(the line reads: 4,5\)/,
    /the lake was not changed/,
  ]);
});

test('a ragged CSV: the datasets listing names the line and still lists the other files', async () => {
  const result = await expectAccepted({
    args: ['datasets', '--root', dir],
    output: [/ragged\.csv\tcsv\t.*line 3 has 2 fields where the header has 3/, /good\.csv\tcsv\t.*2 rows\t3 columns/],
    unchanged: [file('ragged.csv')],
  });
  assert.match(result.stdout, /good\.parquet\tparquet\t.*10,000 rows\t2 columns/);
});

test('a latin-1 CSV (José, München): profile reads it as latin-1', async () => {
  await expectAccepted({
    args: ['profile', file('latin1.csv')],
    output: [/latin1\.csv: 2 rows, 2 columns/, /max José/, /min München/],
    unchanged: [file('latin1.csv')],
  });
});

test('a UTF-16 CSV with a byte-order mark: profile reads it', async () => {
  await expectAccepted({
    args: ['profile', file('utf16.csv')],
    output: [/utf16\.csv: 1 rows, 2 columns/, /name \(VARCHAR\).*min José/],
    unchanged: [file('utf16.csv')],
  });
});

test('a UTF-16 CSV: lake ingest refuses it as not UTF-8 and leaves the lake as it was', async () => {
  await refusedIngest('utf16.csv', [
    /Cannot ingest .*utf16\.csv, line 1: .*not utf-8 encoded/,
    /the lake was not changed/,
  ]);
});

test('a binary file named .csv: profile refuses it, naming the file', async () => {
  await expectRefused({
    args: ['profile', file('binary.csv')],
    message: /binary\.csv could not be read/,
    unchanged: [file('binary.csv')],
  });
});

test('a binary file named .csv: lake ingest refuses it and leaves the lake as it was', async () => {
  await refusedIngest('binary.csv', [
    /Cannot ingest .*binary\.csv, line 1: .*not utf-8 encoded/,
    /the lake was not changed/,
  ]);
});

test('an empty CSV (0 bytes): profile says it is empty', async () => {
  await expectRefused({
    args: ['profile', file('empty.csv')],
    message: /empty\.csv is empty\./,
    unchanged: [file('empty.csv')],
  });
});

test('an empty CSV (0 bytes): lake ingest says it is empty and leaves the lake as it was', async () => {
  await refusedIngest('empty.csv', [/Cannot ingest .*empty\.csv: the file is empty\./, /the lake was not changed/]);
});

test('a header-only CSV: profile reads 0 rows with its 3 columns', async () => {
  await expectAccepted({
    args: ['profile', file('header.csv')],
    output: /header\.csv: 0 rows, 3 columns/,
    unchanged: [file('header.csv')],
  });
});

test('a header-only CSV: lake ingest makes a version of 0 rows', async () => {
  const other = join(dir, 'lake-header');
  await expectAccepted({
    args: ['lake', 'ingest', file('header.csv'), '--table', 'h', '--lake', other],
    output: /h version 1: 0 rows, 3 columns/,
    unchanged: [file('header.csv')],
  });
  await expectAccepted({ args: ['lake', 'query', 'SELECT count(*) AS n FROM h', '--lake', other], output: /^n\n0\n$/ });
});

test('a CSV with a duplicate column name (a,b,a): profile keeps both, the second as a_1', async () => {
  await expectAccepted({
    args: ['profile', file('duplicate.csv')],
    output: [/duplicate\.csv: 1 rows, 3 columns/, /^ {2}a \(BIGINT\).*min 1 /m, /^ {2}a_1 \(BIGINT\).*min 3 /m],
    unchanged: [file('duplicate.csv')],
  });
});

test('a CSV with a duplicate column name (a,b,a): lake ingest keeps both columns', async () => {
  const other = join(dir, 'lake-duplicate');
  await expectAccepted({
    args: ['lake', 'ingest', file('duplicate.csv'), '--table', 'd', '--lake', other],
    output: /d version 1: 1 rows, 3 columns/,
    unchanged: [file('duplicate.csv')],
  });
  await expectAccepted({
    args: ['lake', 'query', 'SELECT * FROM d', '--lake', other],
    output: /^a\tb\ta_1\n1\t2\t3\n$/,
  });
});

test('a truncated Parquet file: profile says it is not readable and why it happens', async () => {
  await expectRefused({
    args: ['profile', file('truncated.parquet')],
    message: [
      /truncated\.parquet is not a readable Parquet file: No magic bytes found at end of file/,
      /a Parquet file cut short loses its footer/,
    ],
    unchanged: [file('truncated.parquet')],
  });
});

test('a truncated Parquet file: lake ingest refuses it and leaves the lake as it was', async () => {
  await refusedIngest('truncated.parquet', [
    /Cannot ingest .*truncated\.parquet: No magic bytes found at end of file/,
    /the lake was not changed/,
  ]);
});

test('a Parquet file with a wrong magic (NOPE for PAR1): profile refuses it', async () => {
  await expectRefused({
    args: ['profile', file('wrong-magic.parquet')],
    message: /wrong-magic\.parquet is not a readable Parquet file: No magic bytes/,
    unchanged: [file('wrong-magic.parquet')],
  });
});

test('a Parquet file with a wrong magic (NOPE for PAR1): lake ingest refuses it and leaves the lake as it was', async () => {
  await refusedIngest('wrong-magic.parquet', [
    /Cannot ingest .*wrong-magic\.parquet: No magic bytes found/,
    /the lake was not changed/,
  ]);
});

test('a CSV named .parquet: profile refuses it as not Parquet', async () => {
  await expectRefused({
    args: ['profile', file('text.parquet')],
    message: /text\.parquet is not a readable Parquet file/,
    unchanged: [file('text.parquet')],
  });
});

test('a missing file: profile and lake ingest name it', async () => {
  await expectRefused({
    args: ['profile', file('absent.csv')],
    message: /absent\.csv cannot be read: it does not exist/,
    unchanged: [file('absent.csv')],
  });
  await refusedIngest('absent.csv', /absent\.csv does not exist/);
});

test('a lake version whose Parquet was cut short: query names the version and the file; the version before still reads', async () => {
  const damaged = join(dir, 'lake-damaged');
  await lakeWithVersions(damaged, 2);
  const part = join(damaged, 'tables', 't', 'v2', 'part-0.parquet');
  truncateSync(part, 100);
  await expectRefused({
    args: ['lake', 'query', 'SELECT * FROM t', '--lake', damaged],
    message: [
      /Table t version 2 cannot be read: .*No magic bytes found at end of file .*v2\/part-0\.parquet/,
      /pin another version, or write a new one/,
    ],
    unchanged: [damaged],
  });
  await expectAccepted({
    args: ['lake', 'query', 'SELECT sum(a) AS s FROM t', '--at', 't=1', '--lake', damaged],
    output: /^s\n5\n$/,
    unchanged: [damaged],
  });
});

test('a lake version whose manifest is garbled: every lake command names the manifest and the remedy', async () => {
  const damaged = join(dir, 'lake-manifest');
  await lakeWithVersions(damaged, 2);
  const manifest = join(damaged, 'tables', 't', 'v2', '_manifest.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').slice(0, 40));
  const message = [
    /v2\/_manifest\.json cannot be read: .*JSON/,
    /Restore the file, or delete its version folder to drop the version/,
  ];
  for (const args of [['tables'], ['versions', 't'], ['query', 'SELECT * FROM t']])
    await expectRefused({ args: ['lake', ...args, '--lake', damaged], message, unchanged: [damaged] });
  await expectRefused({
    args: ['lake', 'ingest', file('good.csv'), '--table', 't', '--lake', damaged],
    message,
    unchanged: [damaged, file('good.csv')],
  });
});

test('several bad files in one ingest: the first bad one is named and nothing is written', async () => {
  copyFileSync(file('good.csv'), file('good-copy.csv'));
  await expectRefused({
    args: [
      'lake',
      'ingest',
      file('good.csv'),
      file('ragged.csv'),
      file('good-copy.csv'),
      '--table',
      't',
      '--lake',
      lake,
    ],
    message: [/ragged\.csv, line 3/, /the lake was not changed/],
    unchanged: [lake, file('good.csv'), file('ragged.csv')],
  });
});
