// A SQL transform step is one query: the lake runs it inside DESCRIBE and COPY, where what
// follows a ';' would run as statements of their own. DuckDB's parser counts the statements, so
// a ';' in a string or a comment breaks none.
import { countStatements, withDuckDb } from '../duckdb';
import type { PipelineProblem } from './pipelineError';
import type { PipelineStep, SqlStep } from './pipelineModel';

/** A problem at the `sql` field of each SQL step that is not exactly one statement. */
export async function sqlStatementProblems(steps: PipelineStep[]): Promise<PipelineProblem[]> {
  const sqlSteps = steps.filter((step): step is SqlStep => step.kind === 'sql');
  if (sqlSteps.length === 0) return [];
  return withDuckDb({}, async ({ connection }) => {
    const problems: PipelineProblem[] = [];
    for (const step of sqlSteps) {
      const count = await countStatements(connection, step.sql);
      if (count === undefined || count === 1) continue;
      const found = count === 0 ? 'holds no statement' : `holds ${count} statements`;
      problems.push({
        ...(step.fieldPositions.sql ?? step.position),
        message: `the sql of step '${step.name}' ${found}; a transform step is one query, so nothing after its first ';' may follow`,
      });
    }
    return problems;
  });
}
