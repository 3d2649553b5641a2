import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../scripts/lib/setup.mjs';
import { withUpstream } from '../../src/datasets/pipelines/dag';
import { canonicalJson, stepFingerprint } from '../../src/datasets/pipelines/fingerprint';
import { parsePipeline, STEP_FIELDS } from '../../src/datasets/pipelines/loadPipeline';
import { EXPECTATION_RULES } from '../../src/datasets/pipelines/readExpectations';
import { pipelineOverview } from '../../src/datasets/pipelines/pipelineOverview';
import type { PipelineRun } from '../../src/datasets/pipelines/pipelineModel';
import { tablesNamedInSql } from '../../src/datasets/pipelines/sqlTables';

const parse = (text: string) => parsePipeline(text, '/ws/mlops.pipeline.yaml', 'mlops.pipeline.yaml');

const problemsOf = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the pipeline to be rejected');
};

const FOUR_STEPS = `steps:
  raw:
    type: ingest
    from: data/*.csv
    output: customers_raw
  clean:
    type: transform
    sql: SELECT * FROM customers_raw WHERE id IS NOT NULL
    output: customers
  check:
    type: validate
    table: customers
    expect:
      - unique: id
  features:
    type: transform
    python: scripts/features.py
    inputs: [customers]
    output: features
  report:
    type: transform
    sql: SELECT count(*) AS n FROM features
    output: report
    needs: [raw]
`;

test('dependencies come from needs, from the tables read, and from the validations of those tables', () => {
  const pipeline = parse(FOUR_STEPS);
  assert.deepEqual(pipeline.dependencies, {
    raw: [],
    clean: ['raw'],
    check: ['clean'],
    features: ['clean', 'check'],
    report: ['raw', 'features'],
  });
  assert.deepEqual(pipeline.order, ['raw', 'clean', 'check', 'features', 'report']);
});

test('ties in the order follow the file', () => {
  const pipeline = parse(`steps:
  b:
    type: ingest
    from: b.csv
    output: b
  a:
    type: ingest
    from: a.csv
    output: a
  both:
    type: transform
    sql: SELECT * FROM a JOIN b USING (id)
    output: ab
`);
  assert.deepEqual(pipeline.order, ['b', 'a', 'both']);
});

test('tables named in SQL are found outside strings and comments, quoted or not, in any case', () => {
  const known = ['orders', 'customers', 'Items', 'unused'];
  const sql = `-- unused in a comment
    SELECT 'orders' AS label, /* unused */ c.id FROM CUSTOMERS c JOIN "items" i ON i.cid = c.id`;
  assert.deepEqual(tablesNamedInSql(sql, known), ['customers', 'Items']);
});

test('declared inputs replace the tables inferred from SQL', () => {
  const pipeline = parse(`steps:
  a:
    type: ingest
    from: a.csv
    output: a
  b:
    type: ingest
    from: b.csv
    output: b
  c:
    type: transform
    sql: SELECT * FROM a, b
    inputs: [a]
    output: c
`);
  assert.deepEqual(pipeline.dependencies.c, ['a']);
});

test('a cycle is reported with its path, at the line of the step that starts it', () => {
  const message = problemsOf(`steps:
  a:
    type: transform
    sql: SELECT * FROM c_out
    output: a_out
  b:
    type: transform
    sql: SELECT * FROM a_out
    output: b_out
  c:
    type: transform
    sql: SELECT * FROM b_out
    output: c_out
`);
  assert.equal(message, 'mlops.pipeline.yaml:2:3: steps form a cycle: a → b → c → a');
});

test('unknown and self dependencies point at the item of needs', () => {
  const message = problemsOf(`steps:
  a:
    type: ingest
    from: a.csv
    output: a
    needs: [a, nope]
`);
  assert.equal(
    message,
    [
      "mlops.pipeline.yaml:6:13: step 'a' needs itself",
      "mlops.pipeline.yaml:6:16: step 'a' needs 'nope', which is not a step of this pipeline (steps: a)",
    ].join('\n'),
  );
});

test('two steps writing one table are rejected at the second output', () => {
  const message = problemsOf(`steps:
  a:
    type: ingest
    from: a.csv
    output: t
  b:
    type: ingest
    from: b.csv
    output: T
`);
  assert.equal(
    message,
    "mlops.pipeline.yaml:9:5: steps 'a' and 'b' both write table 'T'; give each step its own output table",
  );
});

test('one step selects itself and everything upstream of it, nothing downstream', () => {
  const pipeline = parse(FOUR_STEPS);
  assert.deepEqual([...withUpstream(pipeline.dependencies, 'features')].sort(), ['check', 'clean', 'features', 'raw']);
  assert.deepEqual([...withUpstream(pipeline.dependencies, 'raw')], ['raw']);
});

test('the fingerprint follows the definition and the inputs, not where or how the step is described', () => {
  const [raw, clean] = parse(FOUR_STEPS).steps;
  const inputs = { tables: [{ table: 'customers_raw', version: 1, createdAt: '2025-01-01T00:00:00.000Z' }] };
  const base = stepFingerprint(clean!, inputs);
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(
    stepFingerprint(
      { ...clean!, position: { line: 40, col: 3 }, fieldPositions: {}, description: 'now described' },
      inputs,
    ),
    base,
  );
  assert.notEqual(stepFingerprint({ ...clean!, sql: 'SELECT 1' } as typeof clean, inputs), base);
  assert.notEqual(stepFingerprint(clean!, { tables: [{ ...inputs.tables[0]!, version: 2 }] }), base);
  const files = { files: [{ path: 'data/a.csv', sha256: 'a'.repeat(64) }] };
  assert.notEqual(
    stepFingerprint(raw!, files),
    stepFingerprint(raw!, { files: [{ path: 'data/a.csv', sha256: 'b'.repeat(64) }] }),
  );
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
});

test('the JSON schema and the loader accept the same fields', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'mlops-pipeline.schema.json'), 'utf8')) as {
    definitions: Record<string, { properties: Record<string, unknown> }>;
  };
  const fields = (definition: string) => Object.keys(schema.definitions[definition]!.properties).sort();
  assert.deepEqual(fields('ingestStep'), [...STEP_FIELDS.ingest].sort());
  assert.deepEqual(fields('transformStep'), [...STEP_FIELDS.transform].sort());
  assert.deepEqual(fields('validateStep'), [...STEP_FIELDS.validate].sort());
  assert.deepEqual(fields('expectation'), [...EXPECTATION_RULES].sort());
});

test('the overview gives each step its dependencies, its last run and its last success', () => {
  const pipeline = parse(FOUR_STEPS);
  const record = (step: string, status: PipelineRun['steps'][number]['status'], startedAt: string) => ({
    step,
    kind: 'ingest' as const,
    status,
    startedAt,
    durationMs: 5,
    logs: [],
  });
  const runs: PipelineRun[] = [
    {
      runId: 'r2',
      pipeline: 'mlops.pipeline.yaml',
      requestedStep: 'raw',
      status: 'failed',
      startedAt: '2025-01-02T00:00:00Z',
      finishedAt: '2025-01-02T00:00:01Z',
      durationMs: 1000,
      steps: [record('raw', 'failed', '2025-01-02T00:00:00Z')],
    },
    {
      runId: 'other',
      pipeline: 'pipelines/other.yaml',
      status: 'succeeded',
      startedAt: '2025-01-01T12:00:00Z',
      finishedAt: '2025-01-01T12:00:01Z',
      durationMs: 1000,
      steps: [record('clean', 'succeeded', '2025-01-01T12:00:00Z')],
    },
    {
      runId: 'r1',
      pipeline: 'mlops.pipeline.yaml',
      status: 'succeeded',
      startedAt: '2025-01-01T00:00:00Z',
      finishedAt: '2025-01-01T00:00:01Z',
      durationMs: 1000,
      steps: [
        record('raw', 'succeeded', '2025-01-01T00:00:00Z'),
        record('clean', 'succeeded', '2025-01-01T00:00:00.5Z'),
      ],
    },
  ];
  const state = {
    pipelines: {
      'mlops.pipeline.yaml': { raw: { fingerprint: 'f', finishedAt: '2025-01-01T00:00:00.4Z', runId: 'r1' } },
    },
  };
  const overview = pipelineOverview(pipeline, state, runs);
  assert.deepEqual(
    overview.map((s) => s.name),
    pipeline.order,
  );
  const [raw, clean, check] = overview;
  assert.deepEqual(
    { status: raw!.last?.status, runId: raw!.last?.runId, lastSucceededAt: raw!.lastSucceededAt, writes: raw!.writes },
    { status: 'failed', runId: 'r2', lastSucceededAt: '2025-01-01T00:00:00.4Z', writes: 'customers_raw' },
  );
  assert.deepEqual(
    { runId: clean!.last?.runId, dependsOn: clean!.dependsOn, reads: clean!.reads },
    { runId: 'r1', dependsOn: ['raw'], reads: ['customers_raw'] },
  );
  assert.equal(check!.last, undefined);
  assert.deepEqual(check!.reads, ['customers']);
});
