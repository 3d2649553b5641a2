// Schema drift between two versions of a table, and the error that refuses it.
import { MlopsError } from '../../shared/errors';
import type { Column, SchemaChange } from '../model';

export function schemaChanges(before: Column[] | undefined, after: Column[]): SchemaChange[] {
  if (!before) return [];
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  const changes: SchemaChange[] = [];
  for (const { name, type } of after) {
    const was = old.get(name);
    if (was === undefined) changes.push({ kind: 'added', column: name, to: type });
    else if (was !== type) changes.push({ kind: 'retyped', column: name, from: was, to: type });
  }
  for (const { name, type } of before) if (!now.has(name)) changes.push({ kind: 'removed', column: name, from: type });
  return changes;
}

export function describeChange(change: SchemaChange): string {
  if (change.kind === 'added') return `${change.column} added (${change.to})`;
  if (change.kind === 'removed') return `${change.column} removed (was ${change.from})`;
  return `${change.column} retyped from ${change.from} to ${change.to}`;
}

export function schemaChangeError(table: string, previous: number, changes: SchemaChange[]): MlopsError {
  return new MlopsError(
    `The schema of ${table} would change from version ${previous}: ${changes.map(describeChange).join('; ')}.`,
    'Fix the input, or accept the change with allowSchemaChange (--allow-schema-change on the command line).',
  );
}
