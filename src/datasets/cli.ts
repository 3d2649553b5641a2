// `mlops datasets` and `mlops profile`: the datasets of a folder and the profile of one file.
import { resolve } from 'node:path';
import type { CliCommand } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { discoverDatasets } from './findDatasets';
import { formatBytes } from '../shared/formatBytes';
import { summarize } from './inspect';
import type { ColumnProfile, DatasetProfile, DatasetSummary } from './model';
import { profile } from './profile';

/** JSON that keeps NaN and infinities, written as strings. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

export const datasetsCommand: CliCommand = {
  name: 'datasets',
  summary: 'List the CSV, TSV, Parquet, JSON and JSONL files of a folder with their rows and columns.',
  usage: 'datasets [--root DIR] [--json]',
  options: { root: { type: 'string' } },
  async run(context) {
    const root = resolve(typeof context.values.root === 'string' ? context.values.root : process.cwd());
    const { datasets, stoppedAt } = await discoverDatasets(root);
    const summaries: DatasetSummary[] = [];
    for (const dataset of datasets) summaries.push(await summarize(dataset));
    if (stoppedAt) {
      context.io.stderr(
        `Stopped after ${datasets.length} datasets (${stoppedAt === 'limit' ? 'the dataset limit' : 'the limit on files and folders looked at'}): ${root} has more.\n`,
      );
    }
    if (context.json) {
      context.io.stdout(
        `${toJson(summaries.map(({ path, format, rows, columns, bytes, problem }) => ({ path, format, rows, columns, bytes, ...(problem ? { problem } : {}) })))}\n`,
      );
      return;
    }
    for (const s of summaries) {
      const shape = s.problem ? s.problem : `${s.rows.toLocaleString('en')} rows\t${s.columns.length} columns`;
      context.io.stdout(`${s.path}\t${s.format}\t${formatBytes(s.bytes)}\t${shape}\n`);
    }
  },
};

export const profileCommand: CliCommand = {
  name: 'profile',
  summary:
    'Profile a dataset file: per column, its type, nulls, distinct values, range, mean, std, quantiles, and a histogram or top values.',
  usage: 'profile FILE [--json]',
  options: {},
  async run(context) {
    const [file, ...extra] = context.positionals;
    if (!file || extra.length > 0) throw new UsageError('profile needs one FILE');
    const result = await profile(resolve(file));
    if (context.json) context.io.stdout(`${toJson(result)}\n`);
    else context.io.stdout(profileText(file, result));
  },
};

function profileText(file: string, result: DatasetProfile): string {
  const sampled = result.sampledRows
    ? ` (quantiles, histograms and top values from a sample of ${result.sampledRows.toLocaleString('en')} rows)`
    : '';
  return [
    `${file}: ${result.rows.toLocaleString('en')} rows, ${result.columns.length} columns${sampled}`,
    ...result.columns.map(columnText),
    '',
  ].join('\n');
}

function columnText(column: ColumnProfile): string {
  const parts = [
    `${column.name} (${column.type})`,
    `nulls ${column.nulls.toLocaleString('en')}`,
    `distinct ${column.distinct.toLocaleString('en')}`,
  ];
  if (column.min !== undefined) parts.push(`min ${column.min}`, `max ${column.max}`);
  if (column.mean !== undefined) parts.push(`mean ${round(column.mean)}`);
  if (column.std !== undefined) parts.push(`std ${round(column.std)}`);
  if (column.quantiles)
    parts.push(
      `quartiles ${[column.quantiles.q25, column.quantiles.q50, column.quantiles.q75].map(round).join(' / ')}`,
    );
  if (column.topValues?.length)
    parts.push(`top ${column.topValues.map((t) => `${t.value} (${t.count.toLocaleString('en')})`).join(', ')}`);
  return `  ${parts.join('  ')}`;
}

function round(value: number): string {
  return String(Number(value.toPrecision(6)));
}
