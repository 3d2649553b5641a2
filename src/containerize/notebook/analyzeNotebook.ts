// Reads a notebook with the workspace's Python (runtime/mlops_runtime/analyze.py): the script
// it becomes, the models it fits, the data it reads and the packages it imports.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { MlopsError } from '../../shared/errors';
import { runProgram } from '../../shared/process';
import { runtimeDir } from '../runtimeFiles';
import { AnalysisOutput, type NotebookAnalysis } from './notebookAnalysis';

export async function analyzeNotebook(notebook: string, python = 'python3'): Promise<NotebookAnalysis> {
  if (!existsSync(notebook)) throw new MlopsError(`${notebook} does not exist.`, 'Check the path of the notebook.');
  const script = join(runtimeDir(), 'mlops_runtime', 'analyze.py');
  let result;
  try {
    result = await runProgram(python, [script, notebook], { timeoutMs: 60_000 });
  } catch (error) {
    throw new MlopsError(
      `Python (${python}) could not read ${notebook}: ${(error as Error).message}`,
      'Install Python 3.9 or later, or set mlops.pythonPath.',
    );
  }
  if (result.code !== 0) throw new MlopsError(`Reading ${notebook} failed: ${result.stderr.trim().split('\n').pop()}`);
  const parsed = v.safeParse(AnalysisOutput, JSON.parse(result.stdout));
  if (!parsed.success)
    throw new MlopsError(
      `The notebook reader gave an unexpected answer for ${notebook}: ${v.summarize(parsed.issues)}`,
    );
  if ('error' in parsed.output) throw new MlopsError(parsed.output.error);
  return parsed.output;
}

/** The problems that stop a build before it starts, each naming the cell and line. */
export function checkAnalysis(notebook: string, analysis: NotebookAnalysis): void {
  const [syntax] = analysis.syntaxErrors;
  if (syntax) {
    throw new MlopsError(
      `${notebook}: cell ${syntax.cell}, line ${syntax.line ?? '?'}: ${syntax.message}${syntax.text ? `: ${syntax.text.trim()}` : ''}`,
      'Fix the cell and save the notebook.',
    );
  }
  const [missing] = analysis.missingDataFiles;
  if (missing) {
    throw new MlopsError(
      `${notebook}: cell ${missing.cell}, line ${missing.line} reads ${missing.path}, which does not exist (paths are relative to the notebook's folder).`,
      'Create the file or correct the path.',
    );
  }
}
