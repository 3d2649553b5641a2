// Pipelines against the real lake (DuckDB + Parquet) and python3 from the PATH: a run end to end,
// incremental re-runs, failed validations, file errors with their line and column, cancellation,
// the run history and the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli } from '../../src/shared/cliFramework';
import { openLake } from '../../src/datasets/lake/duckdbLake';
import type { Lake } from '../../src/datasets/model';
import { findPipelines } from '../../src/datasets/pipelines/findPipelines';
import { loadPipeline } from '../../src/datasets/pipelines/loadPipeline';
import { pipelineCommand } from '../../src/datasets/pipelines/cli';
import type { PipelineProgress, PipelineRun, StepStatus } from '../../src/datasets/pipelines/pipelineModel';
import { readState } from '../../src/datasets/pipelines/pipelineState';
import { listRuns } from '../../src/datasets/pipelines/runHistory';
import { runPipeline, type RunPipelineOptions } from '../../src/datasets/pipelines/runPipeline';
import { needService } from '../support/services';

const python = spawnSync('python3', ['--version']).status === 0;
const noPython = 'python3 is not on the PATH';

const CUSTOMERS =
  'id,email,age,plan\n1,Ada@Example.org,36,pro\n2,bob@example.org,45,free\n3,,29,free\n4,cy@example.org,51,pro\n';

// Only the standard library: the step's format is csv.
const FEATURES_SCRIPT = `import argparse, csv, sys
parser = argparse.ArgumentParser()
parser.add_argument('--input', action='append', required=True)
parser.add_argument('--output', required=True)
parser.add_argument('--bonus', type=int, default=0)
args = parser.parse_args()
with open(args.input[0], newline='') as f:
    rows = list(csv.DictReader(f))
with open(args.output, 'w', newline='') as f:
    out = csv.writer(f)
    out.writerow(['id', 'age_next_year'])
    for row in rows:
        out.writerow([row['id'], int(row['age']) + 1 + args.bonus])
print(f'features for {len(rows)} customers')
print('a note on stderr', file=sys.stderr)
`;

const PIPELINE = `# ingest csv -> SQL transform -> validate -> python transform, and an independent ingest
steps:
  raw:
    type: ingest
    from: data/customers*.csv
    output: customers_raw
  clean:
    type: transform
    sql: SELECT id, lower(email) AS email, age, plan FROM customers_raw WHERE email IS NOT NULL
    output: customers
  check:
    type: validate
    table: customers
    expect:
      - notNull: [id, email]
      - unique: id
      - range: { column: age, min: 0, max: 120 }
      - allowedValues: { column: plan, values: [free, pro] }
      - rowCount: { min: 1 }
  features:
    type: transform
    python: scripts/features.py
    inputs: [customers]
    output: features
    format: csv
    args: [--bonus, 0]
  regions:
    type: ingest
    from: data/regions.csv
    output: regions
`;

function workspace(t: TestContext, pipeline = PIPELINE): string {
  const root = mkdtempSync(join(tmpdir(), 'mlops-pipelines-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'data'));
  mkdirSync(join(root, 'scripts'));
  writeFileSync(join(root, 'data', 'customers.csv'), CUSTOMERS);
  writeFileSync(join(root, 'data', 'regions.csv'), 'region,name\n1,north\n2,south\n');
  writeFileSync(join(root, 'scripts', 'features.py'), FEATURES_SCRIPT);
  writeFileSync(join(root, 'mlops.pipeline.yaml'), pipeline);
  return root;
}

async function run(root: string, lake: Lake, options: Partial<RunPipelineOptions> = {}): Promise<PipelineRun> {
  const pipeline = await loadPipeline(join(root, 'mlops.pipeline.yaml'), root);
  return runPipeline(pipeline, { root, lake, python: 'python3', ...options });
}

const statuses = (run: PipelineRun): Record<string, StepStatus> =>
  Object.fromEntries(run.steps.map((s) => [s.step, s.status]));
const stepOf = (run: PipelineRun, name: string) => run.steps.find((s) => s.step === name)!;

async function withLake(
  t: TestContext,
  use: (root: string, lake: Lake) => Promise<void>,
  pipeline?: string,
): Promise<void> {
  if (!needService(t, python, noPython)) return;
  const root = workspace(t, pipeline);
  const lake = openLake(join(root, '.mlops', 'lake'), { cwd: root });
  try {
    await use(root, lake);
  } finally {
    await lake.close();
  }
}

test('a pipeline runs end to end, then skips every step that is up to date', (t) =>
  withLake(t, async (root, lake) => {
    const progress: PipelineProgress[] = [];
    const first = await run(root, lake, { onProgress: (p) => progress.push(p) });
    assert.equal(first.status, 'succeeded', JSON.stringify(first.steps.map((s) => s.message)));
    assert.deepEqual(statuses(first), {
      raw: 'succeeded',
      regions: 'succeeded',
      clean: 'succeeded',
      check: 'succeeded',
      features: 'succeeded',
    });
    assert.deepEqual(
      progress.map((p) => `${p.event} ${p.step} ${p.fraction}`),
      [
        'started raw 0',
        'finished raw 0.2',
        'started clean 0.2',
        'finished clean 0.4',
        'started check 0.4',
        'finished check 0.6',
        'started features 0.6',
        'finished features 0.8',
        'started regions 0.8',
        'finished regions 1',
      ],
    );
    const features = await lake.query('SELECT id, age_next_year FROM features ORDER BY id');
    assert.deepEqual(features.rows, [
      [1, 37],
      [2, 46],
      [4, 52],
    ]);
    const customers = await lake.versions('customers');
    assert.equal(customers[0]!.producedBy, 'pipeline mlops.pipeline.yaml, step clean');
    assert.equal(stepOf(first, 'check').message, '6 checks passed on customers version 1');

    const second = await run(root, lake);
    assert.equal(second.status, 'succeeded');
    assert.deepEqual(new Set(Object.values(statuses(second))), new Set(['skipped']));
    assert.match(stepOf(second, 'features').message!, /^up to date \(last run /);
    assert.equal((await lake.versions('features')).length, 1);
  }));

test('a changed source re-runs its ingest and what is downstream of it, and nothing else', (t) =>
  withLake(t, async (root, lake) => {
    await run(root, lake);
    appendFileSync(join(root, 'data', 'customers.csv'), '5,dee@example.org,23,free\n');
    const after = await run(root, lake);
    assert.deepEqual(statuses(after), {
      raw: 'succeeded',
      clean: 'succeeded',
      check: 'succeeded',
      features: 'succeeded',
      regions: 'skipped',
    });
    assert.deepEqual((await lake.query('SELECT count(*) AS n FROM features')).rows, [[4]]);

    writeFileSync(join(root, 'scripts', 'features.py'), `${FEATURES_SCRIPT}# edited\n`);
    const scriptEdited = await run(root, lake);
    assert.deepEqual(statuses(scriptEdited), {
      raw: 'skipped',
      clean: 'skipped',
      check: 'skipped',
      features: 'succeeded',
      regions: 'skipped',
    });

    // A new file matching the glob is a new input too.
    writeFileSync(join(root, 'data', 'customers_2.csv'), 'id,email,age,plan\n6,eve@example.org,40,pro\n');
    assert.equal(statuses(await run(root, lake)).raw, 'succeeded');
  }));

test('--step runs that step even when up to date, with only the stale steps it depends on', (t) =>
  withLake(t, async (root, lake) => {
    const alone = await run(root, lake, { step: 'clean' });
    assert.equal(alone.requestedStep, 'clean');
    assert.deepEqual(statuses(alone), { raw: 'succeeded', clean: 'succeeded' });
    const again = await run(root, lake, { step: 'clean' });
    assert.deepEqual(statuses(again), { raw: 'skipped', clean: 'succeeded' });
    await assert.rejects(run(root, lake, { step: 'nope' }), /No step 'nope' in mlops\.pipeline\.yaml/);
  }));

test('a failed validation names the rule, the column and at most five offending rows, and stops what reads the table', (t) =>
  withLake(t, async (root, lake) => {
    const rows = [
      '1,a@x.org,36,pro',
      '1,b@x.org,150,pro',
      ...[2, 3, 4, 5, 6, 7, 8].map((id) => `${id},u${id}@x.org,30,gold`),
    ];
    writeFileSync(join(root, 'data', 'customers.csv'), `id,email,age,plan\n${rows.join('\n')}\n`);
    const result = await run(root, lake);
    assert.equal(result.status, 'failed');
    assert.deepEqual(statuses(result), {
      raw: 'succeeded',
      clean: 'succeeded',
      check: 'failed',
      features: 'skipped',
      regions: 'succeeded',
    });
    const message = stepOf(result, 'check').message!;
    assert.match(message, /^Validation of customers version 1 failed:\n/);
    assert.match(message, /- unique on column 'id': 1 value occurs more than once, e\.g\. \{"id":1,"rows":2\}/);
    assert.match(
      message,
      /- range on column 'age': 1 row outside min 0, max 120, e\.g\. \{"id":1,"email":"b@x\.org","age":150,"plan":"pro"\}/,
    );
    const allowed = /- allowedValues on column 'plan': 7 rows with a value not in \[free, pro\], e\.g\. (.*)/.exec(
      message,
    );
    assert.ok(allowed, message);
    assert.equal(allowed[1]!.split('; ').length, 5);
    assert.doesNotMatch(message, /notNull|rowCount/);
    assert.ok(stepOf(result, 'check').logs.includes("passed notNull on column 'email': no nulls"));
    assert.equal(stepOf(result, 'features').message, "not run: step 'check' did not succeed");
    assert.equal((await readState(root)).pipelines['mlops.pipeline.yaml']!.check, undefined);
  }));

test('a YAML syntax error and a schema error name the file, line and column', async (t) => {
  const root = workspace(t, 'steps:\n  raw:\n    type: ingest\n    from: [data/a.csv\n    output: t\n');
  await assert.rejects(loadPipeline(join(root, 'mlops.pipeline.yaml'), root), (error: Error) => {
    assert.match(error.message, /^mlops\.pipeline\.yaml:\d+:\d+: YAML syntax: Flow sequence/);
    return true;
  });
  writeFileSync(
    join(root, 'mlops.pipeline.yaml'),
    PIPELINE.replace('type: validate', 'type: check').replace('    output: regions\n', '    outptu: regions\n'),
  );
  await assert.rejects(loadPipeline(join(root, 'mlops.pipeline.yaml'), root), {
    message: [
      "mlops.pipeline.yaml:12:11: unknown step type 'check' in step 'check' (expected ingest, transform or validate)",
      "mlops.pipeline.yaml:27:3: ingest step 'regions' needs 'output'",
      "mlops.pipeline.yaml:30:5: unknown field 'outptu' in ingest step 'regions' (expected description, needs, from, output, allowSchemaChange)",
    ].join('\n'),
  });
});

test("a SQL step is one statement: what follows a ';' is refused before anything runs, a ';' in a string is text", async (t) => {
  const root = workspace(
    t,
    PIPELINE.replace('WHERE email IS NOT NULL', 'WHERE email IS NOT NULL; DROP TABLE customers_raw'),
  );
  await assert.rejects(loadPipeline(join(root, 'mlops.pipeline.yaml'), root), {
    message:
      "mlops.pipeline.yaml:9:5: the sql of step 'clean' holds 2 statements; a transform step is one query, so nothing after its first ';' may follow",
  });

  const lake = openLake(join(root, '.mlops', 'lake'), { cwd: root });
  t.after(() => lake.close());
  await lake.ingest('customers_raw', ['data/customers.csv']);
  const before = await lake.tables();
  const copied = join(root, 'copied.csv');
  for (const write of [
    () => lake.writeQuery('customers', 'SELECT * FROM customers_raw; DROP TABLE customers_raw'),
    () => lake.writeQuery('customers', `SELECT * FROM customers_raw; COPY (SELECT 42) TO '${copied}'`),
    () => lake.append('customers', `SELECT * FROM customers_raw; COPY (SELECT 42) TO '${copied}'`),
  ]) {
    await assert.rejects(write(), {
      message: 'The SQL holds 2 statements, where a write takes one query; none of them was run.',
    });
  }
  assert.equal(existsSync(copied), false, 'the COPY after the ; did not run');
  assert.deepEqual(await lake.tables(), before, 'no table dropped or written');
  assert.equal((await lake.query('SELECT count(*) AS n FROM customers_raw')).rows[0][0], 4);

  writeFileSync(
    join(root, 'mlops.pipeline.yaml'),
    `steps:\n  notes:\n    type: transform\n    sql: "SELECT id, 'a;b' AS note FROM customers_raw; -- and a comment; with semicolons"\n    output: notes\n`,
  );
  const pipeline = await loadPipeline(join(root, 'mlops.pipeline.yaml'), root);
  const result = await runPipeline(pipeline, { root, lake });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.steps));
  assert.deepEqual((await lake.query('SELECT DISTINCT note FROM notes')).rows, [['a;b']]);
});

test('pipeline files are mlops.pipeline.yaml at the root, then the YAML files of pipelines/', async (t) => {
  const root = workspace(t);
  mkdirSync(join(root, 'pipelines'));
  for (const name of ['training.yaml', 'features.yml', 'notes.txt'])
    writeFileSync(join(root, 'pipelines', name), 'steps: {}\n');
  assert.deepEqual(await findPipelines(root), [
    join(root, 'mlops.pipeline.yaml'),
    join(root, 'pipelines', 'features.yml'),
    join(root, 'pipelines', 'training.yaml'),
  ]);
});

test('a cycle between steps is reported', async (t) => {
  const root = workspace(t, PIPELINE.replace('FROM customers_raw', 'FROM customers_raw JOIN features USING (id)'));
  await assert.rejects(loadPipeline(join(root, 'mlops.pipeline.yaml'), root), {
    message: 'mlops.pipeline.yaml:7:3: steps form a cycle: clean → features → clean',
  });
});

test('cancelling stops between steps and records the rest as cancelled', (t) =>
  withLake(t, async (root, lake) => {
    const controller = new AbortController();
    const result = await run(root, lake, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.event === 'finished' && p.step === 'clean') controller.abort();
      },
    });
    assert.equal(result.status, 'cancelled');
    assert.deepEqual(statuses(result), {
      raw: 'succeeded',
      clean: 'succeeded',
      check: 'cancelled',
      features: 'cancelled',
      regions: 'cancelled',
    });
    assert.deepEqual(Object.keys((await readState(root)).pipelines['mlops.pipeline.yaml']!).sort(), ['clean', 'raw']);
    assert.equal((await listRuns(root))[0]!.status, 'cancelled');
    const resumed = await run(root, lake);
    assert.deepEqual(statuses(resumed), {
      raw: 'skipped',
      clean: 'skipped',
      check: 'succeeded',
      features: 'succeeded',
      regions: 'succeeded',
    });
  }));

test('cancelling stops a running Python script', (t) =>
  withLake(
    t,
    async (root, lake) => {
      writeFileSync(
        join(root, 'scripts', 'slow.py'),
        'import time\nprint("sleeping", flush=True)\nopen("sleeping.flag", "w").close()\ntime.sleep(60)\n',
      );
      const controller = new AbortController();
      const abortOnceSleeping = () =>
        existsSync(join(root, 'sleeping.flag')) ? controller.abort() : setTimeout(abortOnceSleeping, 50);
      const started = Date.now();
      const result = await run(root, lake, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.event === 'started' && p.step === 'slow') abortOnceSleeping();
        },
      });
      assert.ok(Date.now() - started < 30_000);
      assert.deepEqual(statuses(result), { raw: 'succeeded', slow: 'cancelled' });
      assert.ok(stepOf(result, 'slow').logs.includes('sleeping'), JSON.stringify(stepOf(result, 'slow').logs));
    },
    'steps:\n  raw:\n    type: ingest\n    from: data/customers.csv\n    output: customers_raw\n  slow:\n    type: transform\n    python: scripts/slow.py\n    inputs: [customers_raw]\n    output: slow\n',
  ));

test('the default Parquet exchange keeps column types both ways', (t) =>
  withLake(
    t,
    async (root, lake) => {
      // Copying the input to the output is the one thing the standard library can do with Parquet.
      writeFileSync(
        join(root, 'scripts', 'copy.py'),
        'import shutil, sys\nshutil.copyfile(sys.argv[sys.argv.index("--input") + 1], sys.argv[sys.argv.index("--output") + 1])\n',
      );
      const result = await run(root, lake);
      assert.equal(result.status, 'succeeded', JSON.stringify(result.steps.map((s) => s.message)));
      const [raw, copied] = await Promise.all([lake.versions('customers_raw'), lake.versions('copied')]);
      assert.deepEqual(copied[0]!.schema, raw[0]!.schema);
      assert.ok(copied[0]!.schema.some((c) => c.name === 'age' && c.type === 'BIGINT'));
      assert.deepEqual(
        await lake.query('SELECT * FROM copied ORDER BY id'),
        await lake.query('SELECT * FROM customers_raw ORDER BY id'),
      );
    },
    'steps:\n  raw:\n    type: ingest\n    from: data/customers.csv\n    output: customers_raw\n  copy:\n    type: transform\n    python: scripts/copy.py\n    inputs: [customers_raw]\n    output: copied\n',
  ));

test('the run history keeps each step with its logs, Python output included, newest first', (t) =>
  withLake(t, async (root, lake) => {
    const first = await run(root, lake);
    writeFileSync(
      join(root, 'scripts', 'features.py'),
      'import sys\nprint("about to fail")\nsys.exit("no model for you")\n',
    );
    const second = await run(root, lake);
    assert.equal(second.status, 'failed');
    assert.equal(stepOf(second, 'features').message, 'scripts/features.py exited with code 1: no model for you.');
    assert.equal(stepOf(second, 'features').remedy, "The step's log holds the script's full output.");

    const runs = await listRuns(root);
    assert.deepEqual(
      runs.map((r) => r.runId),
      [second.runId, first.runId],
    );
    assert.ok(existsSync(join(root, '.mlops', 'pipelines', 'runs', `${first.runId}.json`)));
    const features = stepOf(runs[1]!, 'features');
    assert.match(
      features.logs[0]!,
      /^\$ python3 scripts\/features\.py --input \S+\/customers\.csv --output \S+\/output\.csv --bonus 0$/,
    );
    assert.ok(features.logs.includes('features for 3 customers'));
    assert.ok(features.logs.includes('[stderr] a note on stderr'));
    assert.deepEqual(features.output, { table: 'features', version: 1 });
    assert.deepEqual(stepOf(runs[0]!, 'features').logs.slice(1), ['about to fail', '[stderr] no model for you']);
    assert.deepEqual((await listRuns(root, { pipeline: 'pipelines/other.yaml' })).length, 0);
  }));

test('mlops pipeline run and history, with JSON output and exit codes', (t) => {
  if (!needService(t, python, noPython)) return;
  const cwd = process.cwd();
  t.after(() => process.chdir(cwd));
  const root = workspace(t);
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: { stdout: (text: string) => (out.stdout += text), stderr: (text: string) => (out.stderr += text) },
    };
  };
  const program = { name: 'mlops', version: '0', commands: [pipelineCommand] };
  process.chdir(root);
  return (async () => {
    const text = io();
    assert.equal(await runCli(program, ['pipeline', 'run', '--step', 'check'], text.io), 0, text.out.stderr);
    assert.match(
      text.out.stdout,
      /^✓ raw: wrote customers_raw version 1: 4 rows\n✓ clean: wrote customers version 1: 3 rows\n✓ check: 6 checks passed on customers version 1\nRun \S+ succeeded in /,
    );

    const json = io();
    assert.equal(
      await runCli(program, ['pipeline', 'run', 'mlops.pipeline.yaml', '--json'], json.io),
      0,
      json.out.stderr,
    );
    const result = JSON.parse(json.out.stdout) as PipelineRun;
    assert.deepEqual(statuses(result), {
      raw: 'skipped',
      clean: 'skipped',
      check: 'skipped',
      features: 'succeeded',
      regions: 'succeeded',
    });

    const history = io();
    assert.equal(await runCli(program, ['pipeline', 'history', '--json', '--limit', '1'], history.io), 0);
    assert.deepEqual(
      (JSON.parse(history.out.stdout) as PipelineRun[]).map((r) => r.runId),
      [result.runId],
    );

    writeFileSync(join(root, 'mlops.pipeline.yaml'), 'steps:\n  a:\n    type: nope\n');
    const broken = io();
    assert.equal(await runCli(program, ['pipeline', 'run', '--json'], broken.io), 1);
    assert.match(
      (JSON.parse(broken.out.stderr) as { error: string }).error,
      /^mlops\.pipeline\.yaml:3:11: unknown step type 'nope'/,
    );
    assert.equal(await runCli(program, ['pipeline', 'rerun'], io().io), 2);
    assert.ok(readFileSync(join(root, '.mlops', 'pipelines', 'state.json'), 'utf8').includes('"features"'));
  })();
});
