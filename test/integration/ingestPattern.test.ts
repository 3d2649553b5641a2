// The files box of "Ingest into Lake": a path or glob checked against real files as it is typed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { checkIngestPattern, suggestTableName } from '../../src/datasets/lake/ingestPattern';

const root = mkdtempSync(join(tmpdir(), 'mlops-ingest-pattern-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const path of [
  'data/events-1.jsonl',
  'data/events-2.jsonl',
  'data/events-3.jsonl',
  'data/events-4.jsonl',
  'data/notes.txt',
  'data/2024/sales.csv',
  'train.csv',
]) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), 'a\n1\n');
}

test('a glob is counted, and the first files it matches are named', async () => {
  const check = await checkIngestPattern('data/events-*.jsonl', root);
  assert.ok('files' in check, JSON.stringify(check));
  assert.deepEqual(
    check.files,
    [1, 2, 3, 4].map((n) => join(root, `data/events-${n}.jsonl`)),
  );
  assert.equal(check.summary, '4 files: data/events-1.jsonl, data/events-2.jsonl, data/events-3.jsonl and 1 more');
  assert.deepEqual(await checkIngestPattern('  train.csv ', root), {
    files: [join(root, 'train.csv')],
    summary: '1 file: train.csv',
  });
  assert.deepEqual(await checkIngestPattern('**/*.{csv,tsv}', root), {
    files: [join(root, 'data/2024/sales.csv'), join(root, 'train.csv')],
    summary: '2 files: data/2024/sales.csv, train.csv',
  });
});

test('what the lake cannot ingest is said, not thrown', async () => {
  assert.deepEqual(await checkIngestPattern('   ', root), {
    problem: 'Enter a file or a glob, for example data/events-*.jsonl.',
  });
  assert.match(problemOf(await checkIngestPattern('data/*.parquet', root)), /^No files match data\/\*\.parquet/);
  assert.match(
    problemOf(await checkIngestPattern('data/*', root)),
    /notes\.txt is not a CSV, TSV, Parquet, JSON or JSONL file/,
  );
  assert.match(problemOf(await checkIngestPattern('data', root)), /data is a folder, not a file/);
  assert.match(problemOf(await checkIngestPattern('data/event', root)), /event does not exist/);
});

test('a walk for text typed since is stopped', async () => {
  await assert.rejects(checkIngestPattern('**/*.csv', root, AbortSignal.abort()), { name: 'AbortError' });
});

test('the table name suggested is the last part with letters once wildcards and extensions are gone', () => {
  assert.equal(suggestTableName('data/events-*.jsonl'), 'events');
  assert.equal(suggestTableName('/home/ann/work/my-data.csv'), 'my_data');
  assert.equal(suggestTableName('data/*.{csv,tsv}'), 'data');
  assert.equal(suggestTableName('raw/**/part-?.parquet'), 'part');
  assert.equal(suggestTableName('data/2024-sales.csv'), '_2024_sales');
  assert.equal(suggestTableName('*.csv'), 'dataset');
});

function problemOf(check: Awaited<ReturnType<typeof checkIngestPattern>>): string {
  assert.ok('problem' in check, JSON.stringify(check));
  return check.problem;
}
