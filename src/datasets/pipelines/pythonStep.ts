// A Python transform. The contract with the script:
//
//   <python> <script> --input <dir>/<table>.<ext> [--input ...] --output <dir>/output.<ext> [args...]
//
// run in the workspace root. There is one `--input` per table of `inputs:`, in that order, each
// file named after its table; `<ext>` is the step's `format:` (parquet by default, or csv with a
// header row, which the standard library's csv module reads). The same paths are in the
// environment: MLOPS_INPUTS (JSON, table name to path), MLOPS_OUTPUT and MLOPS_FORMAT. The
// script writes its result to the output path in the same format and exits with 0; that file
// becomes the next version of the step's output table. Its stdout and stderr go to the step's log.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MlopsError } from '../../shared/errors';
import { sqlIdentifier, sqlString } from '../sql';
import type { Lake, LakeTableVersion } from '../model';
import type { PythonStep, TableRef } from './pipelineModel';

export interface PythonStepContext {
  root: string;
  lake: Lake;
  python: string;
  /** The input tables, in the order of the step's inputs, at the versions fingerprinted. */
  inputs: TableRef[];
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function runPythonStep(step: PythonStep, context: PythonStepContext): Promise<LakeTableVersion> {
  const folder = await mkdtemp(join(tmpdir(), 'mlops-step-'));
  try {
    const inputs = Object.fromEntries(
      context.inputs.map(({ table }) => [table, join(folder, `${table}.${step.format}`)]),
    );
    for (const input of context.inputs) await exportTable(context.lake, input, inputs[input.table], step.format);
    const output = join(folder, `output.${step.format}`);
    const args = [
      step.script,
      ...Object.values(inputs).flatMap((path) => ['--input', path]),
      '--output',
      output,
      ...step.args,
    ];
    context.log(`$ ${context.python} ${args.join(' ')}`);
    const env = {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      MLOPS_INPUTS: JSON.stringify(inputs),
      MLOPS_OUTPUT: output,
      MLOPS_FORMAT: step.format,
    };
    const { code, lastError } = await runLogged(context.python, args, {
      cwd: context.root,
      env,
      signal: context.signal,
      log: context.log,
    });
    if (code !== 0) {
      throw new MlopsError(
        `${step.script} exited with code ${code}${lastError ? `: ${lastError}` : ''}.`,
        "The step's log holds the script's full output.",
      );
    }
    if (!existsSync(output)) {
      throw new MlopsError(
        `${step.script} finished without writing its output file.`,
        `Write the result to the path after --output (${step.format}); see the Python step contract in the pipeline schema.`,
      );
    }
    return await context.lake.ingest(step.output, [output], {
      allowSchemaChange: step.allowSchemaChange,
      signal: context.signal,
    });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** DuckDB writes the file, so types survive in Parquet and CSV comes out as DuckDB reads it back. */
async function exportTable(
  lake: Lake,
  { table, version }: TableRef,
  path: string,
  format: PythonStep['format'],
): Promise<void> {
  const options = format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet';
  await lake.query(`COPY (SELECT * FROM ${sqlIdentifier(table)}) TO ${sqlString(path)} (${options})`, {
    versions: { [table]: version },
  });
}

/** Runs a program with an argument array, each line of its output logged as it comes. */
function runLogged(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal; log: (line: string) => void },
): Promise<{ code: number; lastError?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      signal: options.signal,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastError: string | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => options.log(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      options.log(`[stderr] ${line}`);
      if (line.trim()) lastError = line.trim();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(
          new MlopsError(
            `The Python interpreter '${command}' was not found.`,
            'Install Python 3, or set mlops.pythonPath (--python on the command line).',
          ),
        );
      else reject(error);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), lastError }));
  });
}
