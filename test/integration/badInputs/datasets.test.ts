// The bad-input catalogue of the datasets area: a folder named like a dataset, a range rule on a
// text column, a SQL step that holds a second statement, Latin-1 and malformed JSONL files
// ingested, and a pipeline step that fails. Each refusal names the file, the step, the field or
// the line at fault, exits 1 and changes neither the data nor the lake; a pipeline's failed steps
// are written to stderr.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openLake } from '../../../src/datasets/lake/duckdbLake';
import { loadPipeline } from '../../../src/datasets/pipelines/loadPipeline';
import { listRuns } from '../../../src/datasets/pipelines/runHistory';
import { runPipeline } from '../../../src/datasets/pipelines/runPipeline';
import { expectRefused, runCli } from '../../support/badInput';

const CUSTOMERS = 'id,email,age,plan\n1,ada@example.org,36,pro\n2,,45,free\n3,cy@example.org,29,free\n';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-bad-datasets-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A workspace with data/customers.csv and the given pipeline file. */
function workspace(name: string, pipeline: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data', 'customers.csv'), CUSTOMERS);
  writeFileSync(join(root, 'mlops.pipeline.yaml'), pipeline);
  return root;
}

/** Setup, not a case: a lake with `table` at version 1, ingested from `file` in this process. */
async function lakeWith(root: string, table: string, file: string): Promise<string> {
  const lake = openLake(root);
  try {
    assert.equal((await lake.ingest(table, [file])).version, 1);
  } finally {
    await lake.close();
  }
  return root;
}

/** Setup, not a case: runs the pipeline's ingest step `raw` in this process, so that the CLI finds it up to date. */
async function ingested(root: string): Promise<void> {
  const lake = openLake(join(root, '.mlops', 'lake'), { cwd: root });
  try {
    const run = await runPipeline(await loadPipeline(join(root, 'mlops.pipeline.yaml'), root), {
      root,
      lake,
      step: 'raw',
    });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps));
  } finally {
    await lake.close();
  }
}

const RAW = 'steps:\n  raw:\n    type: ingest\n    from: data/customers.csv\n    output: customers\n';

test('a folder named like a dataset (x.csv/): profile and lake ingest say it is a folder; the datasets listing leaves it out', async () => {
  const root = join(dir, 'folder');
  mkdirSync(join(root, 'x.csv'), { recursive: true });
  writeFileSync(join(root, 'x.csv', 'part.csv'), 'a\n1\n');
  const folder = join(root, 'x.csv');
  await expectRefused({
    args: ['profile', folder],
    message: /x\.csv is a folder, not a dataset file, though its name ends in \.csv\.\nChoose one of the files in it\./,
    unchanged: [root],
  });
  await expectRefused({
    args: ['lake', 'ingest', folder, '--table', 't', '--lake', join(root, 'lake')],
    message: /x\.csv is a folder, not a file/,
    unchanged: [root],
  });
  const listed = await runCli(['datasets', '--root', root, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    (JSON.parse(listed.stdout) as { path: string }[]).map((d) => d.path),
    [join(folder, 'part.csv')],
  );
});

test('a range expectation on a text column: the rule, the column and its type are named, and the other rules still report', async () => {
  const root = workspace(
    'range-on-text',
    `${RAW}  check:\n    type: validate\n    table: customers\n    expect:\n      - notNull: [email]\n      - range: { column: plan, min: 0, max: 10 }\n      - range: { column: age, min: 0, max: 120 }\n`,
  );
  await ingested(root);
  await expectRefused({
    args: ['pipeline', 'run'],
    cwd: root,
    message: [
      /^✗ mlops\.pipeline\.yaml, step check: Validation of customers version 1 failed:/m,
      /- notNull on column 'email': 1 row null/,
      /- range on column 'plan': the column is VARCHAR, and range compares numbers, dates and times only/,
      /Fix the data or the step that writes the table/,
    ],
    unchanged: [join(root, 'data'), join(root, '.mlops', 'lake')],
  });
  const [run] = await listRuns(root);
  assert.ok(
    run!.steps
      .find((s) => s.step === 'check')!
      .logs.includes("passed range on column 'age': all within min 0, max 120"),
    'the range on a number column still ran and passed',
  );
});

test('a SQL step holding a second statement (SELECT ...; DROP TABLE customers): refused with the file, line and step before anything runs', async () => {
  const root = workspace(
    'two-statements',
    `${RAW}  clean:\n    type: transform\n    sql: SELECT * FROM customers; DROP TABLE customers\n    output: clean\n`,
  );
  await lakeWith(join(root, '.mlops', 'lake'), 'customers', join(root, 'data', 'customers.csv'));
  await expectRefused({
    args: ['pipeline', 'run', '--force'],
    cwd: root,
    message:
      /^mlops: mlops\.pipeline\.yaml:8:5: the sql of step 'clean' holds 2 statements; a transform step is one query, so nothing after its first ';' may follow\nFix the pipeline file/,
    unchanged: [join(root, 'data'), join(root, '.mlops')],
  });
});

test('a Latin-1 CSV ingested: the line at fault is named and quoted, not the header', async () => {
  const root = join(dir, 'latin1');
  mkdirSync(root);
  const file = join(root, 'cities.csv');
  writeFileSync(file, Buffer.from('name,city\nAnn,Paris\nBob,Oslo\nJos\xe9,M\xfcnchen\n', 'latin1'));
  writeFileSync(join(root, 'good.csv'), 'name,city\nAnn,Paris\n');
  const lake = await lakeWith(join(root, 'lake'), 'cities', join(root, 'good.csv'));
  const result = await expectRefused({
    args: ['lake', 'ingest', file, '--table', 'cities', '--lake', lake],
    message: [
      /Cannot ingest .*cities\.csv, line 4: this file is not utf-8 encoded \(the line reads: Jos\uFFFD,M\uFFFDnchen\)/,
      /Save the file as UTF-8/,
    ],
    unchanged: [root],
  });
  assert.doesNotMatch(result.stderr, /name,city|Bob,Oslo/);
});

test('a JSONL file with a malformed line 3001 ingested: line 3001 is named', async () => {
  const root = join(dir, 'jsonl');
  mkdirSync(root);
  const file = join(root, 'events.jsonl');
  const good = Array.from({ length: 3000 }, (_, i) => `{"id": ${i}, "kind": "click"}\n`).join('');
  writeFileSync(file, `${good}{"id": 3000, "kind": "cli\tck}\n{"id": 3001, "kind": "click"}\n`);
  writeFileSync(join(root, 'good.jsonl'), good);
  const lake = await lakeWith(join(root, 'lake'), 'events', join(root, 'good.jsonl'));
  await expectRefused({
    args: ['lake', 'ingest', file, '--table', 'events', '--lake', lake],
    message: /Cannot ingest .*events\.jsonl, line 3001: malformed JSON \(/,
    unchanged: [root],
  });
});

test('a pipeline step that fails (a SQL step reading a table that does not exist): its failure goes to stderr, the run report to stdout', async () => {
  const root = workspace(
    'failed-step',
    `${RAW}  clean:\n    type: transform\n    sql: SELECT * FROM customers JOIN nowhere USING (id)\n    output: clean\n`,
  );
  await ingested(root);
  const result = await expectRefused({
    args: ['pipeline', 'run'],
    cwd: root,
    message: [
      /^✗ mlops\.pipeline\.yaml, step clean: SQL error: .*nowhere does not exist/m,
      /The lake tables are: customers\./,
    ],
    unchanged: [join(root, 'data'), join(root, '.mlops', 'lake')],
  });
  assert.match(result.stdout, /^– raw: up to date/m);
  assert.match(result.stdout, /^Run \S+ failed in /m);
  assert.doesNotMatch(result.stdout, /✗|nowhere/);
});
