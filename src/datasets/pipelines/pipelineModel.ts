// A pipeline as read from `mlops.pipeline.yaml` (or `pipelines/*.yaml`), and the records of its runs.

/** 1-based, as editors show them. */
export interface SourcePosition {
  line: number;
  col: number;
}

interface StepBase {
  name: string;
  /** Steps named in `needs:`, on top of the dependencies implied by table names. */
  needs: string[];
  description?: string;
  /** Where the step's name is written in the file. */
  position: SourcePosition;
  /** Where each field is written (`output`, `needs.0`, ...), so later checks can point at it. */
  fieldPositions: Record<string, SourcePosition>;
}

export interface IngestStep extends StepBase {
  kind: 'ingest';
  /** Files or globs, relative to the workspace root. */
  from: string[];
  output: string;
  allowSchemaChange: boolean;
}

export interface SqlStep extends StepBase {
  kind: 'sql';
  sql: string;
  /** Declared input tables; when absent they are inferred from the table names in the SQL. */
  inputs?: string[];
  output: string;
  allowSchemaChange: boolean;
}

export type ExchangeFormat = 'parquet' | 'csv';

export interface PythonStep extends StepBase {
  kind: 'python';
  /** The script, relative to the workspace root. */
  script: string;
  inputs: string[];
  output: string;
  /** How input tables are handed to the script and how it writes its output. */
  format: ExchangeFormat;
  /** Extra arguments after `--output`. */
  args: string[];
  allowSchemaChange: boolean;
}

export type ExpectationValue = string | number | boolean;

export type Expectation =
  | { rule: 'notNull'; columns: string[] }
  /** One column, or several that together form a key. */
  | { rule: 'unique'; columns: string[] }
  | { rule: 'range'; column: string; min?: number | string; max?: number | string }
  | { rule: 'allowedValues'; column: string; values: ExpectationValue[] }
  | { rule: 'rowCount'; min?: number; max?: number };

export interface ValidateStep extends StepBase {
  kind: 'validate';
  table: string;
  expect: Expectation[];
}

export type PipelineStep = IngestStep | SqlStep | PythonStep | ValidateStep;

export interface Pipeline {
  file: string;
  /** The file relative to the workspace root: the key of its state and runs. */
  relativeFile: string;
  /** In file order. */
  steps: PipelineStep[];
  /** Step name to the steps it depends on (explicit `needs` and table names). */
  dependencies: Record<string, string[]>;
  /** A topological order, ties broken by file order. */
  order: string[];
}

export type StepStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface TableRef {
  table: string;
  version: number;
}

export interface StepRun {
  step: string;
  kind: PipelineStep['kind'];
  status: StepStatus;
  startedAt: string;
  durationMs: number;
  /** Why it failed or was skipped, or what it produced. */
  message?: string;
  /** What to do about a failure. */
  remedy?: string;
  /** Progress lines, validation results, and a Python script's stdout and stderr. */
  logs: string[];
  fingerprint?: string;
  output?: TableRef;
}

export interface PipelineRun {
  runId: string;
  pipeline: string;
  /** Set when the run was asked for one step (`--step`). */
  requestedStep?: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  steps: StepRun[];
}

/** The last successful run of a step: what makes the next run skip it. */
export interface StepState {
  fingerprint: string;
  finishedAt: string;
  runId: string;
  output?: TableRef;
}

export interface PipelineState {
  /** Pipeline file (relative to the workspace root) to step name to its state. */
  pipelines: Record<string, Record<string, StepState>>;
}

export type PipelineProgress =
  | { event: 'started'; step: string; fraction: number }
  | { event: 'finished'; step: string; status: StepStatus; message?: string; remedy?: string; fraction: number }
  | { event: 'skipped'; step: string; message: string; fraction: number };

/** The tables a step writes: ingest and transforms have one output, validations none. */
export function stepOutput(step: PipelineStep): string | undefined {
  return step.kind === 'validate' ? undefined : step.output;
}
