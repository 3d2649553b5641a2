// `mlops backtest --candidate IMAGE --data TABLE_OR_FILE --label COL [--baseline IMAGE_OR_DEPLOYMENT]`:
// replays labelled rows against the candidate (and the baseline) in local containers and prints
// the metrics and the gate's verdict; the exit code is 1 when the gate fails: a failed request, a
// class no label holds, a collapse to one class, or (with --max-regression) a metric worse than
// the baseline's.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliCommand, CliContext } from '../../shared/cliFramework';
import { UsageError } from '../../shared/cliFramework';
import { openTarget } from '../../deploy/cli';
import { isGateMetric } from './evaluate';
import {
  CLASSIFICATION_GATE_METRICS,
  REGRESSION_GATE_METRICS,
  type BacktestReport,
  type GateMetric,
  type GateVerdict,
  type VersionResult,
} from './model';
import { runBacktest } from './runBacktest';

function wholeNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`${flag} takes a whole number above 0, not '${String(value)}'`);
  return number;
}

function required(context: CliContext, flag: string): string {
  const value = context.values[flag];
  if (typeof value !== 'string' || !value) throw new UsageError(`--${flag} is required`);
  return value;
}

const number = (value: number | null | undefined, digits = 4) =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

/** The metric names of the task, with how to read each from a version's result. */
function metricRows(report: BacktestReport): [string, (v: VersionResult) => number | null | undefined][] {
  if (report.task === 'classification') {
    return [
      ['accuracy', (v) => v.classification?.accuracy],
      ['precision', (v) => v.classification?.precision],
      ['recall', (v) => v.classification?.recall],
      ['f1', (v) => v.classification?.f1],
      ['roc_auc', (v) => v.classification?.rocAuc],
    ];
  }
  return [
    ['mae', (v) => v.regression?.mae],
    ['rmse', (v) => v.regression?.rmse],
    ['r2', (v) => v.regression?.r2],
  ];
}

export function printReport(report: BacktestReport, write: (text: string) => void): void {
  const versions = [report.candidate, ...(report.baseline ? [report.baseline] : [])];
  const averaging =
    report.averaging === 'binary'
      ? `, positive class ${report.positiveClass}`
      : report.averaging === 'macro'
        ? ', macro averages'
        : '';
  write(
    `${report.task} on ${report.data.rows} rows of ${report.data.source}${report.data.skipped ? ` (${report.data.skippedReason})` : ''}${averaging}\n`,
  );
  write(`${''.padEnd(14)}${versions.map((v) => v.role.padStart(12)).join('')}\n`);
  for (const [name, read] of metricRows(report))
    write(`${name.padEnd(14)}${versions.map((v) => number(read(v)).padStart(12)).join('')}\n`);
  write(`${'p50 ms'.padEnd(14)}${versions.map((v) => number(v.latencyMs.p50, 1).padStart(12)).join('')}\n`);
  write(`${'p95 ms'.padEnd(14)}${versions.map((v) => number(v.latencyMs.p95, 1).padStart(12)).join('')}\n`);
  write(`${'rows/s'.padEnd(14)}${versions.map((v) => number(v.rowsPerSecond, 0).padStart(12)).join('')}\n`);
  write(`${'failed req.'.padEnd(14)}${versions.map((v) => String(v.failedRequests).padStart(12)).join('')}\n`);
  if (report.comparison)
    write(
      `disagreement: ${report.comparison.disagreements} of ${report.comparison.compared} rows (${(report.comparison.rate * 100).toFixed(2)} %)\n`,
    );
  write(`${gateLine(report.gate)}\n`);
  write(`gate ${report.gate.passed ? 'PASSED' : 'FAILED'}: ${report.gate.reason}\n`);
}

/** The gate's metric, both values, the regression and the limit, on one line. */
function gateLine(gate: GateVerdict): string {
  const relative = gate.regressionKind === 'relative';
  const regression =
    gate.regression === null ? '-' : relative ? `${(gate.regression * 100).toFixed(2)} %` : gate.regression.toFixed(4);
  const allowed =
    gate.maxRegression === null
      ? 'no limit'
      : relative
        ? `at most ${gate.maxRegression * 100} %`
        : `at most ${gate.maxRegression}`;
  return `gate metric ${gate.metric} (${relative ? 'lower' : 'higher'} is better): candidate ${number(gate.candidate)}, baseline ${number(gate.baseline)}, regression ${regression} (${allowed})`;
}

const GATE_METRICS: readonly string[] = [...CLASSIFICATION_GATE_METRICS, ...REGRESSION_GATE_METRICS];

function metricOption(value: unknown): GateMetric | undefined {
  if (value === undefined) return undefined;
  const name = String(value);
  if (!isGateMetric(name)) throw new UsageError(`--metric takes one of ${GATE_METRICS.join(', ')}, not '${name}'`);
  return name;
}

export const backtestCommand: CliCommand = {
  name: 'backtest',
  summary:
    'Replay labelled rows (a dataset, a lake table, or logged requests with feedback) against a candidate image and a baseline; a CI gate with --max-regression',
  usage:
    'backtest --candidate IMAGE --data FILE|lake:TABLE --label COL [--baseline IMAGE|DEPLOYMENT] [--target swarm|kubernetes [--context C] [--namespace N] [--kubeconfig FILE]] [--max-regression 0.01] [--metric accuracy|f1|precision|recall|roc_auc|rmse|mae|r2] [--positive-class CLASS] [--limit N] [--sample N] [--batch-size 100] [--parallelism 4] [--out report.json] [--lake DIR] [--docker-host H] [--json]',
  options: {
    candidate: { type: 'string' },
    data: { type: 'string' },
    label: { type: 'string' },
    baseline: { type: 'string' },
    target: { type: 'string' },
    'max-regression': { type: 'string' },
    metric: { type: 'string' },
    'positive-class': { type: 'string' },
    limit: { type: 'string' },
    sample: { type: 'string' },
    'batch-size': { type: 'string' },
    parallelism: { type: 'string' },
    out: { type: 'string' },
    lake: { type: 'string' },
    'docker-host': { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string' },
    kubeconfig: { type: 'string' },
  },
  async run(context) {
    const { values } = context;
    const [candidate, data, label] = [
      required(context, 'candidate'),
      required(context, 'data'),
      required(context, 'label'),
    ];
    const baseline = typeof values.baseline === 'string' && values.baseline ? values.baseline : undefined;
    let maxRegression: number | undefined;
    if (values['max-regression'] !== undefined) {
      maxRegression = Number(values['max-regression']);
      if (!Number.isFinite(maxRegression) || maxRegression < 0)
        throw new UsageError(`--max-regression takes a number, 0 or more, not '${String(values['max-regression'])}'`);
      if (!baseline)
        throw new UsageError('--max-regression compares with a baseline: give --baseline IMAGE or DEPLOYMENT');
    }
    const metric = metricOption(values.metric);
    const positiveClass = typeof values['positive-class'] === 'string' ? values['positive-class'] : undefined;
    const limit = wholeNumber(values.limit, '--limit');
    const sample = wholeNumber(values.sample, '--sample');
    const batchSize = wholeNumber(values['batch-size'], '--batch-size');
    const parallelism = wholeNumber(values.parallelism, '--parallelism');
    const workspace = process.cwd();
    const dockerHost = typeof values['docker-host'] === 'string' ? values['docker-host'] : undefined;
    // With --target, a baseline that names a deployment there stands for the image it runs.
    const resolveBaseline =
      typeof values.target === 'string'
        ? async (name: string) => {
            const target = await openTarget(context);
            return target.status(name).then(
              (status) => status.image,
              () => undefined,
            );
          }
        : undefined;
    let last = '';
    const run = await runBacktest({
      candidate,
      data,
      label,
      workspace,
      ...(baseline ? { baseline } : {}),
      ...(resolveBaseline ? { resolveBaseline } : {}),
      ...(typeof values.lake === 'string' ? { lakeRoot: resolve(workspace, values.lake) } : {}),
      ...(limit ? { limit } : {}),
      ...(sample ? { sample } : {}),
      ...(batchSize ? { batchSize } : {}),
      ...(parallelism ? { parallelism } : {}),
      ...(maxRegression !== undefined ? { maxRegression } : {}),
      ...(metric ? { metric } : {}),
      ...(positiveClass !== undefined ? { positiveClass } : {}),
      ...(dockerHost ? { dockerHost } : {}),
      onProgress: ({ message }) => {
        if (!context.json && message !== last) context.io.stderr(`${message}\n`);
        last = message;
      },
    });
    const { report } = run;
    if (typeof values.out === 'string')
      writeFileSync(resolve(workspace, values.out), `${JSON.stringify(report, null, 2)}\n`);
    if (context.json) context.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report, context.io.stdout);
    if (report.gate.passed) return 0;
    // The verdict on stderr too, where a CI log shows failures, --json or not.
    context.io.stderr(`The back-test gate failed for ${candidate}: ${report.gate.reason}.\n`);
    return 1;
  },
};
