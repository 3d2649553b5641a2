// The lake: versioned Parquet tables (see catalog.ts for the layout and how a version is
// committed), written and queried with a fresh in-memory DuckDB per operation. Nothing is held
// open between operations, so any number of processes can read while one writes each table.
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { MlopsError } from '../../shared/errors';
import type {
  AppendOptions,
  Column,
  IngestOptions,
  Lake,
  LakeAppend,
  LakeTable,
  LakeTableVersion,
  QueryResult,
  SchemaChange,
  SourceFile,
} from '../model';
import {
  checkTableName,
  commit,
  linkPart,
  lockTable,
  makeStaging,
  MAX_PARTS,
  parquetFiles,
  publicVersion,
  readManifest,
  sweep,
  tableNames,
  versionDir,
  versionNumbers,
  type Manifest,
} from './catalog';
import { sqlIdentifier, sqlList, sqlString } from '../sql';
import { cells, columnsOf, countStatements, describe, openDuckDb, statementText, type DuckDb } from '../duckdb';
import { hashFiles, stampOf, type FileStamp } from '../../shared/fileHash';
import { formatOf, resolveSources } from './globs';
import { describeChange, schemaChangeError, schemaChanges } from './schemaChanges';
import { diagnoseCsv, explainReadError, isSnifferFailure, selectSources } from './sources';

export const DEFAULT_QUERY_LIMIT = 10_000;
const PART = 'part-0.parquet';

/**
 * A write's SQL is one query: DESCRIBE and COPY wrap it, and would run what follows a ';' as
 * statements of their own. Returns it ready to wrap; SQL that does not parse is returned as it
 * is, for running it to report the syntax error.
 */
async function singleQuery(connection: DuckDBConnection, sql: string): Promise<string> {
  const count = await countStatements(connection, sql);
  if (count === 0) throw new MlopsError('The query is empty.', 'Write a SELECT over the lake tables.');
  if (count !== undefined && count > 1) {
    throw new MlopsError(
      `The SQL holds ${count} statements, where a write takes one query; none of them was run.`,
      "Keep the query and remove what follows its first ';'.",
    );
  }
  return count === undefined ? sql : statementText(connection, sql);
}

export function defaultLakeRoot(folder: string): string {
  return join(folder, '.mlops', 'lake');
}

/** Opens the lake in `root` (created on the first write). Relative paths, the root's and the sources', resolve against `cwd`. */
export function openLake(root: string, options: { cwd?: string } = {}): Lake {
  const cwd = options.cwd ?? process.cwd();
  return new DuckDbLake(resolve(cwd, root), cwd);
}

/** What a write reads: a SELECT set up in the session, and the sources to record. */
interface WriteInput {
  prepare(connection: DuckDBConnection): Promise<string>;
  sources(signal: AbortSignal): Promise<SourceFile[]>;
  /** Turns a failure of the SELECT into the user's error. */
  explain(error: unknown, connection: DuckDBConnection): Promise<MlopsError>;
  /** Throws when the inputs changed while they were read. */
  verify(): void;
}

export class DuckDbLake implements Lake {
  private readonly sessions = new Set<DuckDb>();
  private closed = false;

  constructor(
    readonly root: string,
    private readonly cwd: string,
  ) {}

  async ingest(table: string, sources: string[], options: IngestOptions = {}): Promise<LakeTableVersion> {
    checkTableName(table);
    const files = (await resolveSources(sources, this.cwd)).map((path) => ({ path, format: formatOf(path) }));
    const stamps = new Map<string, FileStamp>(files.map(({ path }) => [path, stampOf(path)]));
    for (const [path, stamp] of stamps)
      if (stamp.bytes === 0)
        throw new MlopsError(
          `Cannot ingest ${path}: the file is empty.`,
          'Remove it from the sources; the lake was not changed.',
        );
    const paths = files.map((f) => f.path);
    let delimiter = ',';
    return this.write(table, options, {
      async prepare(connection) {
        const read = await selectSources(connection, files);
        delimiter = read.csvDelimiter;
        return read.select;
      },
      sources: (signal) => hashFiles(paths, { signal }),
      async explain(error, connection) {
        return (
          (isSnifferFailure(error) && (await diagnoseCsv(connection, files, delimiter))) ||
          explainReadError(error, files)
        );
      },
      verify() {
        for (const [path, stamp] of stamps) {
          const now = stampOf(path);
          if (now.bytes !== stamp.bytes || now.mtimeMs !== stamp.mtimeMs) {
            throw new MlopsError(
              `${path} changed while it was being ingested.`,
              'Ingest it again once it is no longer being written.',
            );
          }
        }
      },
    });
  }

  async writeQuery(table: string, sql: string, options: IngestOptions = {}): Promise<LakeTableVersion> {
    checkTableName(table);
    return this.write(table, options, {
      prepare: async (connection) => {
        const select = await singleQuery(connection, sql);
        await this.createViews(connection, select, {});
        return select;
      },
      sources: async () => [],
      explain: async (error) => this.sqlError(error),
      verify() {},
    });
  }

  async append(table: string, sql: string, options: AppendOptions = {}): Promise<LakeAppend> {
    checkTableName(table);
    const { signal, onProgress } = options;
    return this.locked(
      table,
      'Appending to',
      signal,
      async ({ previous, previousNumber, version, staging, cancelled, commit }) => {
        const compacted = previous !== undefined && previous.files.length + 1 > MAX_PARTS;
        // The previous parts first, so that a version never lists a part it does not hold.
        const kept = previous && !compacted ? previous.files : [];
        for (const file of kept)
          linkPart(join(versionDir(this.root, table, previousNumber!), file.name), join(staging, file.name));
        const partName = compacted || !previous ? PART : nextPart(previous.files);
        const part = join(staging, partName);
        const previousFiles = previous ? parquetFiles(this.root, table, previousNumber!) : [];
        const written = await this.withSession(join(staging, 'tmp'), (session) =>
          this.writeAppend(session, {
            table,
            version,
            sql,
            part,
            previous,
            previousFiles,
            compacted,
            key: options.key ?? [],
            signal,
            onProgress,
            cancelled,
          }),
        );
        if (signal?.aborted) throw cancelled();
        rmSync(join(staging, 'tmp'), { recursive: true, force: true });
        if (previous && written.appended === 0)
          return { version: publicVersion(previous), appended: 0, skipped: written.skipped, compacted: false };
        onProgress?.(`Committing ${table} version ${version}`);
        const manifest: Manifest = {
          format: 1,
          table,
          version,
          createdAt: new Date().toISOString(),
          sources: [],
          ...(options.producedBy ? { producedBy: options.producedBy } : {}),
          rows: (compacted ? 0 : (previous?.rows ?? 0)) + written.rows,
          schema: written.schema,
          schemaChanges: [],
          files: [...kept, { name: partName, bytes: statSync(part).size }],
        };
        commit(manifest);
        return { version: publicVersion(manifest), appended: written.appended, skipped: written.skipped, compacted };
      },
    );
  }

  async tables(): Promise<LakeTable[]> {
    return tableNames(this.root).map((name) => {
      const versions = versionNumbers(this.root, name);
      return {
        name,
        latest: publicVersion(readManifest(this.root, name, versions.at(-1)!)),
        versions: versions.length,
      };
    });
  }

  async versions(table: string): Promise<LakeTableVersion[]> {
    checkTableName(table);
    const numbers = versionNumbers(this.root, table);
    if (numbers.length === 0) throw this.noTable(table);
    return numbers.map((version) => publicVersion(readManifest(this.root, table, version)));
  }

  async query(sql: string, options: { versions?: Record<string, number>; limit?: number } = {}): Promise<QueryResult> {
    const limit = options.limit ?? DEFAULT_QUERY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1)
      throw new MlopsError(`The row limit must be a whole number above 0, not ${limit}.`);
    return this.withSession(join(tmpdir(), `mlops-lake-${process.pid}`), async ({ connection }) => {
      await this.createViews(connection, sql, options.versions ?? {});
      try {
        const statements = await connection.extractStatements(sql);
        if (statements.count === 0) throw new MlopsError('The query is empty.', 'Write a SELECT over the lake tables.');
        for (let i = 0; i < statements.count - 1; i++) await (await statements.prepare(i)).run();
        const reader = await (await statements.prepare(statements.count - 1)).streamAndReadUntil(limit + 1);
        const rows = cells(reader);
        return { columns: columnsOf(reader), rows: rows.slice(0, limit), truncated: rows.length > limit };
      } catch (error) {
        throw error instanceof MlopsError ? error : this.sqlError(error);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const session of this.sessions) session.connection.interrupt();
  }

  private async withSession<T>(tempDirectory: string, use: (session: DuckDb) => Promise<T>): Promise<T> {
    if (this.closed) throw new MlopsError(`The lake ${this.root} is closed.`);
    const session = await openDuckDb({ tempDirectory, reportProgress: true });
    this.sessions.add(session);
    try {
      return await use(session);
    } finally {
      this.sessions.delete(session);
      session.close();
    }
  }

  private checkClash(table: string): void {
    const clash = tableNames(this.root).find((name) => name !== table && name.toLowerCase() === table.toLowerCase());
    if (clash)
      throw new MlopsError(
        `Table ${table} would clash with table ${clash}: SQL does not tell names apart by case.`,
        `Write to ${clash}, or choose another name.`,
      );
  }

  /**
   * Writes the rows an append adds as one Parquet part (with the previous parts when compacting),
   * after checking their schema. `rows` is what the part holds.
   */
  private async writeAppend(
    { connection }: DuckDb,
    job: {
      table: string;
      version: number;
      sql: string;
      part: string;
      previous?: Manifest;
      previousFiles: string[];
      compacted: boolean;
      key: string[];
      signal?: AbortSignal;
      onProgress?: AppendOptions['onProgress'];
      cancelled: () => MlopsError;
    },
  ): Promise<{ rows: number; appended: number; skipped: number; schema: Column[] }> {
    const { table, previous, signal, onProgress, cancelled } = job;
    const statements = interruptible(connection, {
      signal,
      stopped: () => this.closed,
      cancelled,
      explain: (error) => this.sqlError(error),
    });
    const duck = statements.run;
    const count = async (sql: string) => Number((await duck(() => connection.runAndReadAll(sql))).getRows()[0][0]);
    try {
      const select = await duck(() => singleQuery(connection, job.sql));
      await duck(() => this.createViews(connection, select, {}));
      onProgress?.('Reading the schema');
      const schema = await duck(() => describe(connection, select));
      if (previous) {
        const changes = schemaChanges(previous.schema, schema);
        if (changes.length) {
          throw new MlopsError(
            `Cannot append to ${table}: the rows do not have the columns of version ${previous.version}: ${changes.map(describeChange).join('; ')}.`,
            'Select the same columns with the same types (CAST them in the query), or write the whole table as a new version with ingest or writeQuery.',
          );
        }
      }
      const names = (previous?.schema ?? schema).map((column) => column.name);
      for (const column of job.key)
        if (!names.includes(column))
          throw new MlopsError(
            `Cannot append to ${table}: the key column ${column} is not one of its columns (${names.join(', ')}).`,
          );
      const columns = names.map(sqlIdentifier).join(', ');
      const key = job.key.map(sqlIdentifier);
      // With a key, the rows are materialised once: counted, then filtered, without running the query twice.
      let offered: number | undefined;
      if (key.length) {
        await duck(() => connection.run(`CREATE TEMP TABLE incoming AS SELECT ${columns} FROM (${select})`));
        offered = await count('SELECT count(*) FROM incoming');
      }
      const incoming = key.length ? 'incoming' : `(${select}) AS incoming`;
      const known =
        key.length && job.previousFiles.length
          ? ` WHERE NOT EXISTS (SELECT 1 FROM read_parquet(${sqlList(job.previousFiles)}) AS p WHERE ${key.map((k) => `p.${k} IS NOT DISTINCT FROM incoming.${k}`).join(' AND ')})`
          : '';
      const once = key.length ? ` QUALIFY row_number() OVER (PARTITION BY ${key.join(', ')}) = 1` : '';
      const fresh = `SELECT ${columns} FROM ${incoming}${known}${once}`;
      const rows = job.compacted
        ? `SELECT ${columns} FROM read_parquet(${sqlList(job.previousFiles)}) UNION ALL (${fresh})`
        : fresh;
      const writing = `Writing Parquet for ${table} version ${job.version}${job.compacted ? ' (compacting its parts into one)' : ''}`;
      // zstd's fastest level: appends are frequent (request logs), and compaction rewrites them anyway.
      const written = await statements.reporting(writing, onProgress, () =>
        count(`COPY (${rows}) TO ${sqlString(job.part)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`),
      );
      const appended = job.compacted ? written - previous!.rows : written;
      // A first version's schema is what its Parquet reads back as, as for other writes.
      const stored =
        previous?.schema ??
        (await duck(() => describe(connection, `SELECT * FROM read_parquet(${sqlString(job.part)})`)));
      return { rows: written, appended, skipped: (offered ?? appended) - appended, schema: stored };
    } finally {
      statements.dispose();
    }
  }

  private noTable(table: string): MlopsError {
    const names = tableNames(this.root);
    return new MlopsError(
      `The lake ${this.root} has no table ${table}.`,
      names.length
        ? `Its tables: ${names.join(', ')}.`
        : 'It has no tables yet: ingest files first (mlops lake ingest FILE --table NAME).',
    );
  }

  /**
   * One view per lake table that the SQL may mention, over the pinned or the latest version.
   * Views over tables the SQL cannot mention are skipped: each one reads its Parquet footers.
   */
  private async createViews(connection: DuckDBConnection, sql: string, pins: Record<string, number>): Promise<void> {
    const names = tableNames(this.root);
    for (const [table, version] of Object.entries(pins)) {
      if (!names.includes(table)) throw this.noTable(table);
      const versions = versionNumbers(this.root, table);
      if (!versions.includes(version))
        throw new MlopsError(`Table ${table} has no version ${version}.`, `Its versions: ${versions.join(', ')}.`);
    }
    const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
    for (const table of names.filter((name) => words.has(name.toLowerCase()))) {
      const version = pins[table] ?? versionNumbers(this.root, table).at(-1)!;
      const files = parquetFiles(this.root, table, version);
      try {
        await connection.run(`CREATE VIEW ${sqlIdentifier(table)} AS SELECT * FROM read_parquet(${sqlList(files)})`);
      } catch (error) {
        throw new MlopsError(
          `Table ${table} version ${version} cannot be read: ${(error as Error).message.split('\n')[0]}`,
          'Its files were changed or damaged outside the lake; pin another version, or write a new one.',
          { cause: error },
        );
      }
    }
  }

  private sqlError(error: unknown): MlopsError {
    const message = (error as Error)?.message ?? String(error);
    const missingTable = /Table with name (\S+) does not exist/.exec(message)?.[1];
    const names = tableNames(this.root);
    const remedy = missingTable
      ? names.length
        ? `The lake tables are: ${names.join(', ')}.`
        : `The lake ${this.root} has no tables yet.`
      : undefined;
    const cleaned = message.replace(/^Failed to extract statements: /, '').replace(/\nDid you mean "[^"]*"\?/, '');
    return new MlopsError(`SQL error: ${cleaned}`, remedy, { cause: error });
  }

  private async write(table: string, options: IngestOptions, input: WriteInput): Promise<LakeTableVersion> {
    const { signal, onProgress } = options;
    return this.locked(
      table,
      'Writing',
      signal,
      async ({ previous, previousNumber, version, staging, cancelled, commit }) => {
        const check = (schema: Column[]) => {
          const changes = schemaChanges(previous?.schema, schema);
          if (changes.length && !options.allowSchemaChange) throw schemaChangeError(table, previousNumber!, changes);
          return changes;
        };
        const part = join(staging, PART);
        const written = await this.withSession(join(staging, 'tmp'), (session) =>
          this.writeParquet(session, { table, version, part, input, check, signal, onProgress, cancelled }),
        );
        input.verify();
        if (signal?.aborted) throw cancelled();
        onProgress?.(`Committing ${table} version ${version}`);
        rmSync(join(staging, 'tmp'), { recursive: true, force: true });
        const manifest: Manifest = {
          format: 1,
          table,
          version,
          createdAt: new Date().toISOString(),
          sources: written.sources,
          ...(options.producedBy ? { producedBy: options.producedBy } : {}),
          rows: written.rows,
          schema: written.schema,
          schemaChanges: written.schemaChanges,
          files: [{ name: PART, bytes: statSync(part).size }],
        };
        commit(manifest);
        return publicVersion(manifest);
      },
    );
  }

  /**
   * The frame of every write: the table's writer lock, an interrupted write swept, the previous
   * version read, and a staging folder that is removed unless `body` commits it.
   */
  private async locked<T>(
    table: string,
    verb: string,
    signal: AbortSignal | undefined,
    body: (frame: {
      previous: Manifest | undefined;
      previousNumber: number | undefined;
      version: number;
      staging: string;
      cancelled: () => MlopsError;
      commit(manifest: Manifest): void;
    }) => Promise<T>,
  ): Promise<T> {
    const cancelled = () => new MlopsError(`${verb} ${table} was cancelled; the lake was not changed.`);
    if (signal?.aborted) throw cancelled();
    if (this.closed) throw new MlopsError(`The lake ${this.root} is closed.`);
    const release = lockTable(this.root, table);
    let staging: string | undefined;
    try {
      sweep(this.root, table);
      this.checkClash(table);
      const previousNumber = versionNumbers(this.root, table).at(-1);
      const previous = previousNumber === undefined ? undefined : readManifest(this.root, table, previousNumber);
      const folder = makeStaging(this.root, table);
      staging = folder;
      return await body({
        previous,
        previousNumber,
        version: (previousNumber ?? 0) + 1,
        staging: folder,
        cancelled,
        commit: (manifest) => {
          commit(this.root, folder, manifest);
          staging = undefined;
        },
      });
    } finally {
      if (staging) rmSync(staging, { recursive: true, force: true });
      release();
    }
  }

  /** Checks the schema, then writes the Parquet file while the sources are hashed alongside. */
  private async writeParquet(
    { connection }: DuckDb,
    job: {
      table: string;
      version: number;
      part: string;
      input: WriteInput;
      check: (schema: Column[]) => SchemaChange[];
      signal?: AbortSignal;
      onProgress?: IngestOptions['onProgress'];
      cancelled: () => MlopsError;
    },
  ): Promise<{ rows: number; sources: SourceFile[]; schema: Column[]; schemaChanges: SchemaChange[] }> {
    const { input, signal, onProgress, cancelled } = job;
    const hashStop = new AbortController();
    const statements = interruptible(connection, {
      signal,
      stopped: () => this.closed,
      cancelled,
      explain: (error) => input.explain(error, connection),
      onAbort: () => hashStop.abort(),
    });
    const duck = statements.run;
    try {
      const select = await duck(() => input.prepare(connection));
      onProgress?.('Reading the schema');
      job.check(await duck(() => describe(connection, select)));
      let hashFailure: unknown;
      const hashing = input.sources(hashStop.signal).catch((error: unknown) => {
        if (hashStop.signal.aborted) return [];
        hashFailure = error;
        statements.interrupt();
        return [];
      });
      const writing = `Writing Parquet for ${job.table} version ${job.version}`;
      let rows: number;
      try {
        const result = await statements.reporting(writing, onProgress, () =>
          duck(() =>
            connection.runAndReadAll(`COPY (${select}) TO ${sqlString(job.part)} (FORMAT parquet, COMPRESSION zstd)`),
          ),
        );
        rows = Number(result.getRows()[0][0]);
      } catch (error) {
        hashStop.abort();
        await hashing;
        throw hashFailure && !signal?.aborted ? sourceError(hashFailure) : error;
      }
      onProgress?.('Hashing the sources');
      const sources = await hashing;
      if (signal?.aborted) throw cancelled();
      if (hashFailure) throw sourceError(hashFailure);
      const schema = await describe(connection, `SELECT * FROM read_parquet(${sqlString(job.part)})`);
      return { rows, sources, schema, schemaChanges: job.check(schema) };
    } finally {
      statements.dispose();
    }
  }
}

/** The name of the part an append adds: one past the highest part number. */
function nextPart(files: { name: string }[]): string {
  const numbers = files.map((file) => Number(/^part-(\d+)\.parquet$/.exec(file.name)?.[1] ?? -1));
  return `part-${Math.max(files.length - 1, ...numbers) + 1}.parquet`;
}

function sourceError(error: unknown): MlopsError {
  return new MlopsError(
    `Cannot read a source file: ${(error as Error)?.message ?? String(error)}.`,
    'Check that the file is readable; the lake was not changed.',
    { cause: error },
  );
}

/**
 * Runs the DuckDB statements of one write. DuckDB's interrupt applies to the statement running,
 * so the signal (or `interrupt()`) interrupts only while one of ours runs; a failure once
 * cancelled is the cancellation, any other failure is explained.
 */
function interruptible(
  connection: DuckDBConnection,
  options: {
    signal?: AbortSignal;
    stopped(): boolean;
    cancelled(): MlopsError;
    explain(error: unknown): MlopsError | Promise<MlopsError>;
    onAbort?(): void;
  },
) {
  const { signal } = options;
  let running = false;
  const interrupt = () => {
    if (running) connection.interrupt();
  };
  const onAbort = () => {
    options.onAbort?.();
    interrupt();
  };
  signal?.addEventListener('abort', onAbort);
  return {
    interrupt,
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (signal?.aborted || options.stopped()) throw options.cancelled();
      running = true;
      try {
        return await work();
      } catch (error) {
        running = false;
        if (signal?.aborted || options.stopped()) throw options.cancelled();
        throw error instanceof MlopsError ? error : await options.explain(error);
      } finally {
        running = false;
      }
    },
    /** Runs a long statement, reporting DuckDB's progress; an abort is sent again and again, since one sent as the statement starts can be lost. */
    async reporting<T>(
      message: string,
      onProgress: ((message: string, fraction?: number) => void) | undefined,
      work: () => Promise<T>,
    ): Promise<T> {
      onProgress?.(message, 0);
      const timer = setInterval(() => {
        if (signal?.aborted) connection.interrupt();
        const { percentage } = connection.progress;
        if (percentage >= 0) onProgress?.(message, percentage / 100);
      }, 250);
      try {
        return await work();
      } finally {
        clearInterval(timer);
      }
    },
    dispose: () => signal?.removeEventListener('abort', onAbort),
  };
}
