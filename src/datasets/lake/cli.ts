// `mlops lake ingest|tables|versions|query`: the lake from the command line.
import { resolve } from 'node:path';
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import type { Lake, QueryResult } from '../model';
import { defaultLakeRoot, openLake } from './duckdbLake';
import { describeChange } from './schemaChanges';

const USAGE = [
  'lake ingest FILE_OR_GLOB... --table NAME [--allow-schema-change] [--lake DIR] [--json]',
  '       lake tables [--lake DIR] [--json]',
  '       lake versions TABLE [--lake DIR] [--json]',
  '       lake query "SQL" [--at TABLE=N ...] [--limit N] [--lake DIR] [--json]',
  '',
  'The lake is .mlops/lake under the current folder unless --lake says otherwise.',
  'query reads the latest version of each table; --at TABLE=N reads version N instead (time travel).',
].join('\n');

/** JSON that keeps non-finite numbers readable, as the experiments commands write them. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

function pins(values: CliContext['values'][string]): Record<string, number> {
  const pinned: Record<string, number> = {};
  for (const value of [values ?? []].flat()) {
    const match = /^([^=]+)=([1-9][0-9]*)$/.exec(String(value));
    if (!match) throw new UsageError(`--at takes TABLE=N (for example sales=3), not '${value}'`);
    pinned[match[1]] = Number(match[2]);
  }
  return pinned;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function printTable(context: CliContext, result: QueryResult): void {
  context.io.stdout(`${result.columns.map((c) => c.name).join('\t')}\n`);
  for (const row of result.rows) context.io.stdout(`${row.map(cell).join('\t')}\n`);
  if (result.truncated) context.io.stderr(`(cut at ${result.rows.length} rows: raise --limit to see more)\n`);
}

async function ingest(lake: Lake, context: CliContext): Promise<void> {
  const table = context.values.table;
  const sources = context.positionals.slice(1);
  if (typeof table !== 'string' || sources.length === 0)
    throw new UsageError('lake ingest needs FILE_OR_GLOB... and --table NAME');
  // Ctrl-C stops the write and leaves the lake as it was.
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let phase = '';
  try {
    const version = await lake.ingest(table, sources, {
      allowSchemaChange: context.values['allow-schema-change'] === true,
      signal: controller.signal,
      onProgress: (message) => {
        if (!context.json && message !== phase) context.io.stderr(`${message}\n`);
        phase = message;
      },
    });
    if (context.json) return context.io.stdout(`${toJson(version)}\n`);
    context.io.stdout(
      `${version.table} version ${version.version}: ${version.rows} rows, ${version.schema.length} columns, from ${version.sources.length} file(s)\n`,
    );
    for (const change of version.schemaChanges) context.io.stdout(`  schema: ${describeChange(change)}\n`);
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}

async function tables(lake: Lake, context: CliContext): Promise<void> {
  const list = await lake.tables();
  if (context.json) return context.io.stdout(`${toJson(list)}\n`);
  if (list.length === 0) return context.io.stdout(`No tables in ${lake.root} yet.\n`);
  for (const t of list)
    context.io.stdout(
      `${t.name}\tv${t.latest.version}\t${t.latest.rows} rows\t${t.versions} version(s)\t${t.latest.createdAt}\n`,
    );
}

async function versions(lake: Lake, context: CliContext): Promise<void> {
  const table = context.positionals[1];
  if (!table) throw new UsageError('lake versions needs a TABLE');
  const list = await lake.versions(table);
  if (context.json) return context.io.stdout(`${toJson(list)}\n`);
  for (const v of list) {
    const origin = v.producedBy ?? v.sources.map((s) => s.path).join(', ');
    const changes = v.schemaChanges.length ? `\t${v.schemaChanges.map(describeChange).join('; ')}` : '';
    context.io.stdout(`v${v.version}\t${v.createdAt}\t${v.rows} rows\t${origin}${changes}\n`);
  }
}

async function query(lake: Lake, context: CliContext): Promise<void> {
  const sql = context.positionals[1];
  if (!sql || context.positionals.length > 2) throw new UsageError('lake query needs one SQL argument (quote it)');
  const limitText = context.values.limit;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`--limit takes a whole number above 0, not '${limitText}'`);
  const result = await lake.query(sql, { versions: pins(context.values.at), limit });
  if (context.json) context.io.stdout(`${toJson(result)}\n`);
  else printTable(context, result);
}

const VERBS: Record<string, (lake: Lake, context: CliContext) => Promise<void>> = { ingest, tables, versions, query };

export const lakeCommand: CliCommand = {
  name: 'lake',
  summary:
    'Ingest files into versioned lake tables, list them, and query them with SQL (time travel with --at TABLE=N).',
  usage: USAGE,
  options: {
    lake: { type: 'string' },
    table: { type: 'string' },
    'allow-schema-change': { type: 'boolean' },
    // Not --version: the program takes that for its own version.
    at: { type: 'string', multiple: true },
    limit: { type: 'string' },
  },
  async run(context) {
    const verb = context.positionals[0];
    const action = verb === undefined ? undefined : VERBS[verb];
    if (!action)
      throw new UsageError(
        verb
          ? `unknown lake command '${verb}': use ingest, tables, versions or query`
          : 'lake needs a command: ingest, tables, versions or query',
      );
    const root =
      typeof context.values.lake === 'string' ? resolve(context.values.lake) : defaultLakeRoot(process.cwd());
    const lake = openLake(root);
    try {
      await action(lake, context);
    } finally {
      await lake.close();
    }
  },
};
