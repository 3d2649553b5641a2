// Back-test reports on disk: the extension keeps each run's report in .mlops/backtests/ of the
// workspace, and opens any report that `mlops backtest --out` wrote.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlopsError } from '../../shared/errors';
import { checkedJson } from '../../shared/checked';
import type { BacktestReport } from './model';
import { BacktestReportSchema } from './reportSchema';

const REMEDY = 'Open a report that mlops backtest --out or MLOps: Back-test a Candidate Image… wrote.';

export function backtestsDir(workspace: string): string {
  return join(workspace, '.mlops', 'backtests');
}

/** Writes the report as `<time>-<candidate>.json` and returns the file. */
export function saveReport(workspace: string, report: BacktestReport): string {
  const dir = backtestsDir(workspace);
  mkdirSync(dir, { recursive: true });
  const stamp = report.createdAt.replace(/[:.]/g, '-');
  const image = report.candidate.image.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-60);
  const file = join(dir, `${stamp}-${image}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** The report in `file`; a file that is not one gives an MlopsError naming the file and the field. */
export function readReport(file: string): BacktestReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MlopsError(`${file} cannot be read as a back-test report: ${(error as Error).message}.`, undefined, {
      cause: error,
    });
  }
  return checkedJson(BacktestReportSchema, text, file, 'a back-test report (kind "mlops.backtest")', REMEDY);
}
