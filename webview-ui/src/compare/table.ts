// The comparison table, one row per run and one column per attribute, param and metric
// statistic: which columns differ across runs, sorting by any column, and its CSV.
import { csvLine } from '../../../src/shared/csv';
import type { CompareRun, MetricSummary } from '../../../src/experiments/contract';
import { formatDateTime, formatNumber } from '../shared/format';

/** undefined: the run has no such value; null: a number that was not finite (JSON turns NaN into null). */
export type CellValue = string | number | null | undefined;

export interface Column {
  id: string;
  /** The header above the column's own: "Run", "Parameters" or the metric key. */
  group: string;
  label: string;
  csvName: string;
  kind: 'text' | 'number' | 'time';
  /** Run columns stay in place whatever differs. */
  fixed: boolean;
  value(run: CompareRun): CellValue;
}

const STATISTICS: (keyof MetricSummary)[] = ['last', 'min', 'max'];

export function compareColumns(runs: readonly CompareRun[]): Column[] {
  const params = unionOfKeys(runs.map((run) => run.params));
  const metrics = unionOfKeys(runs.map((run) => run.metrics));
  return [
    {
      id: 'run',
      group: 'Run',
      label: 'Name',
      csvName: 'run_name',
      kind: 'text',
      fixed: true,
      value: (run) => run.runName,
    },
    {
      id: 'status',
      group: 'Run',
      label: 'Status',
      csvName: 'status',
      kind: 'text',
      fixed: true,
      value: (run) => run.status,
    },
    {
      id: 'start',
      group: 'Run',
      label: 'Started',
      csvName: 'start_time',
      kind: 'time',
      fixed: true,
      value: (run) => run.startTime ?? undefined,
    },
    ...params.map((key): Column => ({
      id: `param:${key}`,
      group: 'Parameters',
      label: key,
      csvName: `params.${key}`,
      kind: 'text',
      fixed: false,
      value: (run) => run.params[key],
    })),
    ...metrics.flatMap((key) =>
      STATISTICS.map((statistic): Column => ({
        id: `metric:${key}:${statistic}`,
        group: key,
        label: statistic,
        csvName: `metrics.${key}.${statistic}`,
        kind: 'number',
        fixed: false,
        value: (run) => run.metrics[key]?.[statistic],
      })),
    ),
  ];
}

function unionOfKeys(records: readonly object[]): string[] {
  return [...new Set(records.flatMap((record) => Object.keys(record)))].sort((a, b) => a.localeCompare(b));
}

/** Whether the runs do not all have the same value in this column. */
export function columnDiffers(column: Column, runs: readonly CompareRun[]): boolean {
  const seen = new Set(runs.map((run) => identity(column.value(run))));
  return seen.size > 1;
}

function identity(value: CellValue): string {
  return value === undefined ? 'missing' : `${typeof value}:${value}`;
}

/** A text as a number, when it is one ("0.01", "1e-3"); params are texts that often hold numbers. */
export function asNumber(text: string): number | undefined {
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : undefined;
}

/** The runs sorted by a column; runs without a value come last in either direction. */
export function sortRuns(runs: readonly CompareRun[], column: Column, direction: 'asc' | 'desc'): CompareRun[] {
  const sign = direction === 'asc' ? 1 : -1;
  return runs
    .map((run) => ({ run, value: column.value(run) }))
    .sort((a, b) => {
      const aMissing = a.value === undefined || a.value === null;
      const bMissing = b.value === undefined || b.value === null;
      if (aMissing || bMissing) return Number(aMissing) - Number(bMissing);
      return sign * compareValues(a.value as string | number, b.value as string | number);
    })
    .map(({ run }) => run);
}

function compareValues(a: string | number, b: string | number): number {
  const x = typeof a === 'number' ? a : asNumber(a);
  const y = typeof b === 'number' ? b : asNumber(b);
  if (x !== undefined && y !== undefined) return x - y;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function cellText(column: Column, run: CompareRun): string {
  const value = column.value(run);
  if (value === undefined) return '';
  if (column.kind === 'time') return formatDateTime(value as number);
  return column.kind === 'number' ? formatNumber(value as number | null) : String(value);
}

/** The table as shown (these columns, these runs, this order) with full-precision values. */
export function tableCsv(columns: readonly Column[], runs: readonly CompareRun[]): string {
  const header = csvLine(['run_id', ...columns.map((column) => column.csvName)]);
  const rows = runs.map((run) =>
    csvLine([
      run.runId,
      ...columns.map((column) => {
        const value = column.value(run);
        if (value === null) return 'NaN';
        return column.kind === 'time' && typeof value === 'number' ? new Date(value).toISOString() : value;
      }),
    ]),
  );
  return header + rows.join('');
}
