// A dataset profile saved as JSON (everything) or CSV (one line per column, without the charts' bins).
import { csvLine } from '../shared/csv';
import type { DatasetProfile } from './model';

export function profileJson(path: string, profile: DatasetProfile): string {
  return `${JSON.stringify({ path, rows: profile.rows, columns: profile.columns }, null, 2)}\n`;
}

const CSV_HEADER = ['column', 'type', 'nulls', 'distinct', 'min', 'max', 'mean', 'std', 'q25', 'q50', 'q75'];

export function profileCsv(profile: DatasetProfile): string {
  const lines = profile.columns.map((column) =>
    csvLine([
      column.name,
      column.type,
      column.nulls,
      column.distinct,
      column.min,
      column.max,
      column.mean,
      column.std,
      column.quantiles?.q25,
      column.quantiles?.q50,
      column.quantiles?.q75,
    ]),
  );
  return csvLine(CSV_HEADER) + lines.join('');
}
