// The Query panel: SQL over the lake's tables, each pinned to a version or read at its latest,
// with the result in a grid and exported as CSV or, by DuckDB, as Parquet.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { askSaveLocation, saveWithDialog, type SaveRequest } from '../host/saveFile';
import { showPanelSession, type OpenPanel } from '../host/webviewPanel';
import { describeError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import { QUERY_ROW_LIMIT, QueryRequest, type QueryResultView, type QueryTable, type QueryUpdate } from './contract';
import { rowsCsv, toGridRows } from './gridCells';
import type { Lake, QueryResult } from './model';

export type QuerySource = Pick<Lake, 'tables' | 'versions' | 'query'>;

export type ExportFormat = 'csv' | 'parquet';

/** Runs `sql` over the lake again, without a row limit, and writes its whole result to `targetPath`. */
export type ExportResult = (
  format: ExportFormat,
  sql: string,
  versions: Record<string, number>,
  targetPath: string,
) => Promise<void>;

/** Opens the panel on `lake`, or shows the panel already open; `sql`, when given, replaces the query in the editor. */
export function showQueryPanel(
  context: vscode.ExtensionContext,
  log: Logger,
  lake: QuerySource,
  exportResult: ExportResult,
  sql?: string,
): void {
  showPanelSession<QueryRequest, QueryUpdate, QuerySession>(
    context,
    log,
    { viewType: 'mlops.query', title: 'MLOps: Query', bundle: 'query', incoming: QueryRequest },
    {
      create: (panel) => new QuerySession(log, lake, exportResult, sql ?? '', panel),
      reuse: (session) => session.show(lake, exportResult, sql),
    },
  );
}

interface QueryRun {
  sql: string;
  versions: Record<string, number>;
}

class QuerySession {
  /** The last query run (or given), put back in the editor when the webview reloads. */
  private query: QueryRun;
  /** The last successful run and its result, which exports write. */
  private shown: (QueryRun & { result: QueryResult; view: QueryResultView }) | undefined;
  /** Bumped by every run, so that a slower, older result never replaces a newer one. */
  private runs = 0;

  constructor(
    private readonly log: Logger,
    private lake: QuerySource,
    private exportResult: ExportResult,
    sql: string,
    private readonly panel: OpenPanel<QueryUpdate>,
  ) {
    this.query = { sql, versions: {} };
  }

  show(lake: QuerySource, exportResult: ExportResult, sql: string | undefined): void {
    this.lake = lake;
    this.exportResult = exportResult;
    void this.guard(() => this.sendTables());
    if (sql === undefined) return;
    this.query = { sql, versions: {} };
    void this.panel.post({ type: 'setQuery', ...this.query });
  }

  handle(message: QueryRequest): Promise<void> {
    return this.guard(async () => {
      switch (message.type) {
        case 'ready':
          await this.panel.post({ type: 'setQuery', ...this.query });
          if (this.shown) await this.panel.post({ type: 'result', result: this.shown.view });
          return this.sendTables();
        case 'refreshTables':
          return this.sendTables();
        case 'run':
          return this.run({ sql: message.sql, versions: message.versions });
        case 'export':
          return this.export(message.format);
      }
    });
  }

  private async sendTables(): Promise<void> {
    const tables = await this.lake.tables();
    const listed = await Promise.all(
      tables.map(async (table): Promise<QueryTable> => {
        const versions = await this.lake.versions(table.name);
        return {
          name: table.name,
          columns: table.latest.schema,
          versions: versions
            .map(({ version, createdAt, rows, producedBy }) => ({ version, createdAt, rows, producedBy }))
            .sort((a, b) => b.version - a.version),
        };
      }),
    );
    await this.panel.post({ type: 'tables', tables: listed.sort((a, b) => a.name.localeCompare(b.name)) });
  }

  private async run(query: QueryRun): Promise<void> {
    const run = ++this.runs;
    this.query = query;
    const started = performance.now();
    try {
      const result = await this.lake.query(query.sql, { versions: query.versions, limit: QUERY_ROW_LIMIT });
      if (run !== this.runs) return;
      const view = {
        columns: result.columns,
        rows: toGridRows(result.rows),
        truncated: result.truncated,
        elapsedMs: Math.round(performance.now() - started),
      };
      this.shown = { ...query, result, view };
      this.log.info(`query: ${result.rows.length}${result.truncated ? '+' : ''} rows in ${view.elapsedMs} ms`);
      await this.panel.post({ type: 'result', result: view });
    } catch (error) {
      if (run !== this.runs) return;
      this.shown = undefined;
      await this.panel.post({ type: 'queryError', message: describeError(error) });
    }
  }

  /**
   * A complete result is written from the rows in hand; a truncated one, and any Parquet file,
   * by DuckDB running the query again, so that the file holds every row.
   */
  private async export(format: ExportFormat): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    const label = format === 'csv' ? 'CSV' : 'Parquet';
    const request: SaveRequest = {
      title: `Export the query result as ${label}`,
      fileName: `query.${format}`,
      filters: { [label]: [format] },
    };
    let target: vscode.Uri | undefined;
    if (format === 'csv' && !shown.result.truncated) {
      target = await saveWithDialog(request, () =>
        Buffer.from(rowsCsv(shown.result.columns, shown.result.rows), 'utf8'),
      );
    } else {
      target = await askSaveLocation(request);
      if (!target) return;
      const path = target.fsPath;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Exporting the query result to ${basename(path)}` },
        () => this.exportResult(format, shown.sql, shown.versions, path),
      );
    }
    if (!target) return;
    this.log.info(`query: exported the result as ${format} to ${target.fsPath}`);
    await this.panel.post({ type: 'exported', format, path: target.fsPath });
  }

  /** Runs `work`; a failure is logged and shown in the panel, never thrown. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const message = describeError(error);
      this.log.error(`query: ${message}`);
      await this.panel.post({ type: 'error', message });
    }
  }
}
