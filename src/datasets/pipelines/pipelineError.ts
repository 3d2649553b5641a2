// Mistakes in a pipeline file, each pointing at its line and column.
import { MlopsError } from '../../shared/errors';
import type { SourcePosition } from './pipelineModel';

export interface PipelineProblem extends SourcePosition {
  message: string;
}

export class PipelineFileError extends MlopsError {
  constructor(
    /** The file as the user knows it (relative to the workspace root). */
    readonly file: string,
    readonly problems: PipelineProblem[],
  ) {
    super(
      [...problems]
        .sort((a, b) => a.line - b.line || a.col - b.col)
        .map((p) => `${file}:${p.line}:${p.col}: ${p.message}`)
        .join('\n'),
      'Fix the pipeline file and run again; schemas/mlops-pipeline.schema.json describes every field.',
    );
  }
}
