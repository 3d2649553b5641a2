// The steps of a pipeline as a DAG. A step depends on the steps it `needs`, on the step whose
// output it reads, and on the validations of the tables it reads (a failed check stops the
// steps that would consume bad data).
import { stepOutput, type PipelineStep, type SourcePosition } from './pipelineModel';
import { tablesNamedInSql } from './sqlTables';

export interface DagProblem {
  position: SourcePosition;
  message: string;
}

export interface Dag {
  dependencies: Record<string, string[]>;
  order: string[];
  problems: DagProblem[];
}

/** The tables a step reads. SQL without `inputs` reads the known tables it names, never its own output. */
export function stepReads(step: PipelineStep, knownTables: readonly string[]): string[] {
  switch (step.kind) {
    case 'ingest':
      return [];
    case 'sql':
      return (
        step.inputs ??
        tablesNamedInSql(
          step.sql,
          knownTables.filter((table) => !sameTable(table, step.output)),
        )
      );
    case 'python':
      return step.inputs;
    case 'validate':
      return [step.table];
  }
}

export function sameTable(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function analyzeDag(steps: readonly PipelineStep[]): Dag {
  const problems: DagProblem[] = [];
  const byName = new Map(steps.map((step) => [step.name, step]));
  const producers = new Map<string, PipelineStep>();
  const validations = new Map<string, PipelineStep[]>();
  for (const step of steps) {
    const output = stepOutput(step);
    if (output !== undefined) {
      const earlier = producers.get(output.toLowerCase());
      if (earlier)
        problems.push({
          position: at(step, 'output'),
          message: `steps '${earlier.name}' and '${step.name}' both write table '${output}'; give each step its own output table`,
        });
      else producers.set(output.toLowerCase(), step);
    }
    if (step.kind === 'validate')
      validations.set(step.table.toLowerCase(), [...(validations.get(step.table.toLowerCase()) ?? []), step]);
  }

  const outputs = steps.map(stepOutput).filter((table): table is string => table !== undefined);
  const dependencies: Record<string, string[]> = {};
  for (const step of steps) {
    const found = new Set<string>();
    step.needs.forEach((need, index) => {
      if (need === step.name)
        problems.push({ position: at(step, `needs.${index}`), message: `step '${step.name}' needs itself` });
      else if (!byName.has(need))
        problems.push({
          position: at(step, `needs.${index}`),
          message: `step '${step.name}' needs '${need}', which is not a step of this pipeline (steps: ${[...byName.keys()].join(', ')})`,
        });
      else found.add(need);
    });
    for (const table of stepReads(step, outputs)) {
      const producer = producers.get(table.toLowerCase());
      if (producer) found.add(producer.name);
      if (step.kind !== 'validate')
        for (const validation of validations.get(table.toLowerCase()) ?? []) found.add(validation.name);
    }
    dependencies[step.name] = [...found];
  }

  const cycle = problems.length ? undefined : findCycle(steps, dependencies);
  if (cycle)
    problems.push({ position: byName.get(cycle[0])!.position, message: `steps form a cycle: ${cycle.join(' → ')}` });
  return { dependencies, order: problems.length ? [] : topologicalOrder(steps, dependencies), problems };
}

function at(step: PipelineStep, field: string): SourcePosition {
  return step.fieldPositions[field] ?? step.position;
}

/** A dependency cycle as a path that ends where it starts, or undefined. */
function findCycle(steps: readonly PipelineStep[], dependencies: Record<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const open = path.indexOf(name);
    if (open >= 0) return [...path.slice(open), name];
    if (done.has(name)) return undefined;
    path.push(name);
    for (const dependency of dependencies[name] ?? []) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.name);
    // Found by walking dependencies, so reverse it to read in the direction data flows.
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** Kahn's algorithm; among ready steps the one written first in the file goes first. */
function topologicalOrder(steps: readonly PipelineStep[], dependencies: Record<string, string[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < steps.length) {
    const next = steps.find((step) => !placed.has(step.name) && dependencies[step.name]!.every((d) => placed.has(d)));
    if (!next) break;
    order.push(next.name);
    placed.add(next.name);
  }
  return order;
}

/** A step and every step it depends on, directly or not. */
export function withUpstream(dependencies: Record<string, string[]>, name: string): Set<string> {
  const selected = new Set<string>();
  const add = (step: string) => {
    if (selected.has(step)) return;
    selected.add(step);
    for (const dependency of dependencies[step] ?? []) add(dependency);
  };
  add(name);
  return selected;
}
