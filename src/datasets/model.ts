// What the datasets core returns: files found in the workspace, their schema and profile, and
// the versioned tables of the lake.

export type DatasetFormat = 'csv' | 'tsv' | 'parquet' | 'json' | 'jsonl';

export interface Column {
  name: string;
  /** DuckDB's type name: BIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP, BOOLEAN, ... */
  type: string;
}

export interface DatasetSummary {
  /** Absolute path. */
  path: string;
  format: DatasetFormat;
  rows: number;
  columns: Column[];
  bytes: number;
  /** Set when the file could not be read; names the file and, where known, the line or column. */
  problem?: string;
}

export interface ColumnProfile extends Column {
  nulls: number;
  distinct: number;
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
  /** 25th, 50th and 75th percentiles, for numeric columns. */
  quantiles?: { q25: number; q50: number; q75: number };
  /** Numeric columns: equal-width bins. */
  histogram?: { start: number; end: number; count: number }[];
  /** Other columns: the most frequent values. */
  topValues?: { value: string; count: number }[];
}

export interface DatasetProfile {
  rows: number;
  columns: ColumnProfile[];
  /**
   * Set when the file is bigger than the profile's sample (about 50 MB of text, or 5 million
   * Parquet values): quantiles, histograms and top values then come from a uniform random sample
   * of about this many rows, their counts scaled to the whole file, and a distinct count is
   * DuckDB's HyperLogLog estimate unless the sample saw every value. Everything else is exact.
   */
  sampledRows?: number;
}

/** One page of rows, read without reading the rest of the file. */
export interface PreviewPage {
  columns: Column[];
  rows: unknown[][];
  offset: number;
  /** Known when cheap to know (Parquet metadata), otherwise undefined. */
  totalRows?: number;
}

export interface SourceFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface SchemaChange {
  kind: 'added' | 'removed' | 'retyped';
  column: string;
  from?: string;
  to?: string;
}

export interface LakeTableVersion {
  table: string;
  version: number;
  createdAt: string;
  /** Files ingested, or the pipeline step that wrote it. */
  sources: SourceFile[];
  producedBy?: string;
  rows: number;
  schema: Column[];
  /** Against the previous version. */
  schemaChanges: SchemaChange[];
}

export interface LakeTable {
  name: string;
  latest: LakeTableVersion;
  versions: number;
}

export interface QueryResult {
  columns: Column[];
  rows: unknown[][];
  /** True when the result was cut at the row limit. */
  truncated: boolean;
}

export interface IngestOptions {
  /** Accept added, removed or retyped columns; otherwise a schema change is rejected. */
  allowSchemaChange?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string, fraction?: number) => void;
  /** Recorded in the version: the pipeline step that wrote it (a Python step ingests its output file). */
  producedBy?: string;
}

export interface AppendOptions {
  /**
   * Columns that identify a row: a row whose key is already in the table, or earlier in the same
   * append, is skipped, so appending the same rows twice adds them once. Nulls match nulls.
   */
  key?: string[];
  signal?: AbortSignal;
  onProgress?: (message: string, fraction?: number) => void;
  producedBy?: string;
}

export interface LakeAppend {
  /** The version committed; the previous one, unchanged, when there was no row to add. */
  version: LakeTableVersion;
  /** Rows added. */
  appended: number;
  /** Rows skipped because their key was already there (see `key`). */
  skipped: number;
  /** True when the table reached its part limit and the version was rewritten as one part. */
  compacted: boolean;
}

/**
 * A data lake of versioned Parquet tables under one folder (`.mlops/lake/` by default), with a
 * DuckDB catalog. Every write is a new version; a failed or interrupted write leaves the previous
 * version intact and queryable.
 */
export interface Lake {
  readonly root: string;
  /** Ingests files or globs into a new version of `table`. */
  ingest(table: string, sources: string[], options?: IngestOptions): Promise<LakeTableVersion>;
  /** Writes the result of a SQL query (one statement) over lake tables as a new version of `table` (pipeline outputs). */
  writeQuery(table: string, sql: string, options?: IngestOptions & { producedBy?: string }): Promise<LakeTableVersion>;
  /**
   * Appends the rows of a SQL query (over lake tables and files) to `table` as a new version: the
   * previous version's Parquet parts, hard-linked, plus one new part. The rows must have the
   * previous version's columns and types, or the append is refused. An append that would make
   * more than 32 parts rewrites the table as one part instead. Creates the table when it has none.
   */
  append(table: string, sql: string, options?: AppendOptions): Promise<LakeAppend>;
  tables(): Promise<LakeTable[]>;
  versions(table: string): Promise<LakeTableVersion[]>;
  /** SQL over tables by name; `versions` pins tables to a version (time travel), others read their latest. */
  query(sql: string, options?: { versions?: Record<string, number>; limit?: number }): Promise<QueryResult>;
  close(): Promise<void>;
}
