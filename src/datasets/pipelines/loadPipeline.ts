// Reads a pipeline file: YAML syntax, then the fields of each step, then the DAG, then that each
// SQL step is one statement. Every problem found points at the line and column of the node at
// fault, and all of them are reported at once.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { MlopsError } from '../../shared/errors';
import { analyzeDag } from './dag';
import { PipelineFileError } from './pipelineError';
import type { ExchangeFormat, Pipeline, PipelineStep } from './pipelineModel';
import { readExpectations } from './readExpectations';
import { sqlStatementProblems } from './sqlStatements';
import { NodeReader } from './yamlNodeReader';

/** The fields each step type accepts; the JSON schema in schemas/ lists the same ones. */
export const STEP_FIELDS = {
  ingest: ['type', 'description', 'needs', 'from', 'output', 'allowSchemaChange'],
  transform: [
    'type',
    'description',
    'needs',
    'sql',
    'python',
    'inputs',
    'output',
    'format',
    'args',
    'allowSchemaChange',
  ],
  validate: ['type', 'description', 'needs', 'table', 'expect'],
} as const;

const STEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export async function loadPipeline(file: string, root: string): Promise<Pipeline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MlopsError(
      `Cannot read the pipeline file ${file}: ${(error as Error).message}`,
      'Create mlops.pipeline.yaml at the workspace root, or pass the file to run.',
      { cause: error },
    );
  }
  const pipeline = parsePipeline(text, file, relative(root, file) || file);
  const problems = await sqlStatementProblems(pipeline.steps);
  if (problems.length) throw new PipelineFileError(pipeline.relativeFile, problems);
  return pipeline;
}

export function parsePipeline(text: string, file: string, relativeFile: string): Pipeline {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const reader = new NodeReader(document, lines);
  if (document.errors.length) {
    throw new PipelineFileError(
      relativeFile,
      document.errors.map((error) => ({
        ...lines.linePos(error.pos[0]),
        message: `YAML syntax: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  const steps = readPipeline(reader);
  if (reader.problems.length) throw new PipelineFileError(relativeFile, reader.problems);
  const dag = analyzeDag(steps);
  if (dag.problems.length)
    throw new PipelineFileError(
      relativeFile,
      dag.problems.map((p) => ({ ...p.position, message: p.message })),
    );
  return { file, relativeFile, steps, dependencies: dag.dependencies, order: dag.order };
}

function readPipeline(reader: NodeReader): PipelineStep[] {
  const root = reader.root();
  if (!isMap(root)) {
    reader.problem(root, "a pipeline file is a mapping with 'steps:'");
    return [];
  }
  const top = reader.entries(root);
  for (const [name, { key }] of top)
    if (name !== 'steps') reader.problem(key, `unknown field '${name}' (a pipeline file has only 'steps')`);
  const steps = top.get('steps');
  if (!steps) {
    reader.problem(root, "the pipeline has no 'steps:'");
    return [];
  }
  if (!isMap(steps.value) || steps.value.items.length === 0) {
    reader.problem(steps.value ?? steps.key, "'steps' must map step names to steps");
    return [];
  }
  const result: PipelineStep[] = [];
  for (const [name, { key, value }] of reader.entries(steps.value)) {
    const step = readStep(reader, name, key, value);
    if (step) result.push(step);
  }
  return result;
}

function readStep(reader: NodeReader, name: string, key: unknown, node: unknown): PipelineStep | undefined {
  if (!STEP_NAME.test(name))
    reader.problem(
      key,
      `step name '${name}' must start with a letter or digit and hold only letters, digits, '_', '.' and '-'`,
    );
  if (!isMap(node)) return reader.problem(node ?? key, `step '${name}' must be a mapping with a 'type'`);
  const fields = reader.entries(node);
  const type = fields.get('type');
  if (!type) return reader.problem(key, `step '${name}' has no 'type' (ingest, transform or validate)`);
  const typeName = isScalar(type.value) ? String(type.value.value) : '';
  if (!Object.hasOwn(STEP_FIELDS, typeName))
    return reader.problem(
      type.value,
      `unknown step type '${typeName}' in step '${name}' (expected ingest, transform or validate)`,
    );
  const known: readonly string[] = STEP_FIELDS[typeName as keyof typeof STEP_FIELDS];
  for (const [field, { key: fieldKey }] of fields) {
    if (!known.includes(field))
      reader.problem(
        fieldKey,
        `unknown field '${field}' in ${typeName} step '${name}' (expected ${known.filter((f) => f !== 'type').join(', ')})`,
      );
  }

  const problemsBefore = reader.problems.length;
  const required = (field: string) =>
    fields.get(field)?.value ?? reader.problem(key, `${typeName} step '${name}' needs '${field}'`);
  const optional = (field: string) => fields.get(field)?.value;
  const needsNode = optional('needs');
  const descriptionNode = optional('description');
  const base = {
    name,
    needs: needsNode === undefined ? [] : (reader.texts(needsNode, 'needs') ?? []),
    ...(descriptionNode === undefined ? {} : { description: reader.text(descriptionNode, 'description') }),
    position: reader.position(key),
    fieldPositions: reader.fieldPositions(fields),
  };
  const allowSchemaChange = () => {
    const flag = optional('allowSchemaChange');
    return flag === undefined ? false : (reader.boolean(flag, 'allowSchemaChange') ?? false);
  };

  let step: PipelineStep | undefined;
  if (typeName === 'ingest') {
    const from = reader.texts(required('from'), 'from');
    const output = reader.table(required('output'), 'output');
    if (from && output) step = { ...base, kind: 'ingest', from, output, allowSchemaChange: allowSchemaChange() };
  } else if (typeName === 'transform') {
    step = readTransform(reader, base, fields, required, optional, allowSchemaChange);
  } else {
    const table = reader.table(required('table'), 'table');
    const expect = readExpectations(reader, required('expect'));
    if (table && expect) step = { ...base, kind: 'validate', table, expect };
  }
  return reader.problems.length === problemsBefore ? step : undefined;
}

type StepBase = Pick<PipelineStep, 'name' | 'needs' | 'description' | 'position' | 'fieldPositions'>;

function readTransform(
  reader: NodeReader,
  base: StepBase,
  fields: Map<string, { key: unknown; value: unknown }>,
  required: (field: string) => unknown,
  optional: (field: string) => unknown,
  allowSchemaChange: () => boolean,
): PipelineStep | undefined {
  const sql = fields.get('sql');
  const python = fields.get('python');
  const output = reader.table(required('output'), 'output');
  const inputsNode = optional('inputs');
  const inputs = inputsNode === undefined ? undefined : reader.tables(inputsNode, 'inputs');
  if (sql && python)
    return reader.problem(
      python.key,
      `transform step '${base.name}' has both 'sql' and 'python'; split it into two steps`,
    );
  if (sql) {
    for (const field of ['format', 'args']) {
      const misplaced = fields.get(field);
      if (misplaced) reader.problem(misplaced.key, `'${field}' applies to python transforms only`);
    }
    const query = reader.text(sql.value, 'sql');
    return query && output
      ? {
          ...base,
          kind: 'sql',
          sql: query,
          ...(inputs ? { inputs } : {}),
          output,
          allowSchemaChange: allowSchemaChange(),
        }
      : undefined;
  }
  if (!python)
    return reader.problem(
      fields.get('type')!.key,
      `transform step '${base.name}' needs 'sql' (a query) or 'python' (a script)`,
    );
  const script = reader.text(python.value, 'python');
  const formatNode = optional('format');
  let format: ExchangeFormat = 'parquet';
  if (formatNode !== undefined) {
    const value = isScalar(formatNode) ? formatNode.value : undefined;
    if (value === 'parquet' || value === 'csv') format = value;
    else reader.problem(formatNode, "format must be 'parquet' or 'csv'");
  }
  const argsNode = optional('args');
  const args = argsNode === undefined ? [] : readArgs(reader, argsNode);
  return script && output && args
    ? {
        ...base,
        kind: 'python',
        script,
        inputs: inputs ?? [],
        output,
        format,
        args,
        allowSchemaChange: allowSchemaChange(),
      }
    : undefined;
}

function readArgs(reader: NodeReader, node: unknown): string[] | undefined {
  if (!isSeq(node)) return reader.problem(node, 'args must be a list');
  const args = node.items.map((item) => {
    const value = isScalar(item) ? item.value : undefined;
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : reader.problem(item, 'args must be text, numbers or booleans');
  });
  return args.every((arg): arg is string => arg !== undefined) ? args : undefined;
}
