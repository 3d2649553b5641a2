// The messages between the dataset panels (Preview, Profile, Query) and their webviews: one union
// per direction and panel. The host validates every incoming message and ignores anything else.
import * as v from 'valibot';
import { ReadyMessage, type ErrorUpdate } from '../shared/webviewMessages';
import type { Column as DatasetColumn, DatasetProfile } from './model';

export type { ColumnProfile, DatasetProfile, Column as DatasetColumn } from './model';

/**
 * A table cell as it crosses into a webview. JSON carries no bigint, date, NaN or nested value, so
 * the host turns those into their text (numbers that JSON keeps exactly stay numbers).
 */
export type GridCell = string | number | boolean | null;

/** The dataset file a panel shows. */
export interface DatasetFile {
  path: string;
  name: string;
  /** Unknown when the file could not be stat'ed. */
  bytes?: number;
}

export const PREVIEW_PAGE_SIZE = 100;

const nonNegativeInteger = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Preview panel: webview -> host. The host reads PREVIEW_PAGE_SIZE rows from `offset`. */
export const PreviewRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('page'), offset: nonNegativeInteger }),
]);
export type PreviewRequest = v.InferOutput<typeof PreviewRequest>;

/** Preview panel: host -> webview. `open` names the file and the row the webview should ask for. */
export type PreviewUpdate =
  | { type: 'open'; file: DatasetFile; offset: number }
  | {
      type: 'page';
      file: DatasetFile;
      columns: DatasetColumn[];
      rows: GridCell[][];
      offset: number;
      totalRows?: number;
    }
  | { type: 'error'; file: DatasetFile; message: string };

/** Profile panel: webview -> host. */
export const ProfileRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('cancel') }),
  v.object({ type: v.literal('rerun') }),
  v.object({ type: v.literal('export'), format: v.picklist(['json', 'csv']) }),
]);
export type ProfileRequest = v.InferOutput<typeof ProfileRequest>;

/** Profile panel: host -> webview. NaN statistics arrive as null (JSON has no NaN). */
export type ProfileUpdate =
  | { type: 'profiling'; file: DatasetFile; elapsedMs: number; step?: string }
  | { type: 'profile'; file: DatasetFile; profile: DatasetProfile; elapsedMs: number }
  | { type: 'cancelled'; file: DatasetFile }
  | { type: 'error'; file: DatasetFile; message: string };

export const QUERY_ROW_LIMIT = 10_000;

export interface QueryTableVersion {
  version: number;
  createdAt: string;
  rows: number;
  producedBy?: string;
}

export interface QueryTable {
  name: string;
  /** The columns of the latest version. */
  columns: DatasetColumn[];
  /** Newest first. */
  versions: QueryTableVersion[];
}

const tableName = v.pipe(v.string(), v.maxLength(256));

/** Query panel: webview -> host. `versions` pins tables to a version; tables left out read their latest. */
export const QueryRequest = v.variant('type', [
  ReadyMessage,
  v.object({ type: v.literal('refreshTables') }),
  v.object({
    type: v.literal('run'),
    sql: v.pipe(v.string(), v.nonEmpty(), v.maxLength(100_000)),
    versions: v.pipe(
      v.record(tableName, nonNegativeInteger),
      v.check((versions) => Object.keys(versions).length <= 1000, 'at most 1000 pinned tables'),
    ),
  }),
  v.object({ type: v.literal('export'), format: v.picklist(['csv', 'parquet']) }),
]);
export type QueryRequest = v.InferOutput<typeof QueryRequest>;

export interface QueryResultView {
  columns: DatasetColumn[];
  rows: GridCell[][];
  /** True when the result was cut at QUERY_ROW_LIMIT rows. */
  truncated: boolean;
  elapsedMs: number;
}

/** Query panel: host -> webview. `setQuery` fills the editor: the last query when the webview reloads, or one given by a command. */
export type QueryUpdate =
  | { type: 'tables'; tables: QueryTable[] }
  | { type: 'setQuery'; sql: string; versions: Record<string, number> }
  | { type: 'result'; result: QueryResultView }
  | { type: 'queryError'; message: string }
  | { type: 'exported'; format: 'csv' | 'parquet'; path: string }
  | ErrorUpdate;
