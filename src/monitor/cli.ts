// The monitor area's subcommands:
// - `mlops monitor --target T --name NAME [--since 15m] --json`: a deployment's requests, error
//   rate, latency percentiles, predictions, input drift and alerts over a window, for a terminal
//   or a CI job. Each call records the counters it scrapes (.mlops/monitoring/), so the next call's
//   window reaches back to it; `--fail-on-alert` turns it into a gate.
// - `mlops drift BASELINE CURRENT`: input drift between two dataset files, per feature, with PSI
//   and KS; `--fail-on` makes it a CI gate.
import { badLineStderr } from '../shared/badLines';
import type { CliCommand } from '../shared/cliFramework';
import { UsageError } from '../shared/cliFramework';
import { openTarget, requiredName, TARGET_OPTIONS, TARGET_USAGE } from '../deploy/cli';
import { monitoringDir } from './countsLog';
import type { MonitorSummary, Thresholds } from './model';
import { baselineFor } from './baseline';
import { baselineOf, monitoringFor } from './monitoringConfig';
import { observe } from './observe';
import { respondToAlerts } from './respond';
import { serverSource } from './sources';
import { targetKey } from './targetKey';
import { driftBetweenFiles } from './driftFiles';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `15m`, `6h`, `7d` in ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) throw new UsageError(`'${text}' is not a duration: write 30s, 15m, 6h or 7d`);
  return Number(match[1]) * UNITS[match[2]];
}

function numberOption(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0)
    throw new UsageError(`${flag} takes a number, 0 or more, not '${String(value)}'`);
  return number;
}

function dataTokenFromEnv(): (() => Promise<string>) | undefined {
  const token = process.env.MLOPS_DATA_TOKEN;
  return token ? async () => token : undefined;
}

const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)} ms`);

function printSummary(summary: MonitorSummary, write: (text: string) => void): void {
  const rate = summary.errorRate === null ? '-' : `${(summary.errorRate * 100).toFixed(2)} %`;
  write(
    `${summary.deployment} since ${summary.from}: ${summary.requests} requests, ${summary.errors} errors (${rate}), latency p50 ${ms(summary.latencyMs.p50)} p95 ${ms(summary.latencyMs.p95)} p99 ${ms(summary.latencyMs.p99)}\n`,
  );
  for (const v of summary.versions)
    write(`  ${v.version}: ${v.requests} requests, ${v.errors} errors, p95 ${ms(v.latencyMs.p95)}\n`);
  for (const d of summary.drift)
    write(
      `  drift ${d.feature}: PSI ${d.psi.toFixed(3)}${d.ks === null ? '' : ` KS ${d.ks.toFixed(3)}`} (${d.severity})\n`,
    );
  if (summary.driftNote) write(`  ${summary.driftNote}\n`);
  for (const a of summary.alerts) write(`ALERT ${a.message}\n`);
}

export const monitorCommand: CliCommand = {
  name: 'monitor',
  summary: 'Requests, errors, latency, predictions, input drift and alerts of a deployment over a window',
  usage: `monitor ${TARGET_USAGE} --name NAME [--since 15m] [--url URL] [--prometheus URL] [--baseline FILE|TABLE] [--no-drift] [--max-error-rate R] [--max-p95-ms MS] [--max-psi X] [--auto-revert] [--fail-on-alert] [--json]`,
  options: {
    ...TARGET_OPTIONS,
    since: { type: 'string' },
    url: { type: 'string' },
    prometheus: { type: 'string' },
    baseline: { type: 'string' },
    'no-drift': { type: 'boolean' },
    'max-error-rate': { type: 'string' },
    'max-p95-ms': { type: 'string' },
    'max-psi': { type: 'string' },
    'auto-revert': { type: 'boolean' },
    'fail-on-alert': { type: 'boolean' },
  },
  async run(context) {
    const { values } = context;
    const name = requiredName(context);
    const sinceText = typeof values.since === 'string' ? values.since : '15m';
    const sinceMs = parseDuration(sinceText);
    const workspace = process.cwd();
    const configured = monitoringFor(name, workspace);
    const flags: Thresholds = {};
    const errorRate = numberOption(values['max-error-rate'], '--max-error-rate');
    if (errorRate !== undefined) flags.errorRate = errorRate;
    const p95 = numberOption(values['max-p95-ms'], '--max-p95-ms');
    if (p95 !== undefined) flags.p95LatencyMs = p95;
    const psi = numberOption(values['max-psi'], '--max-psi');
    if (psi !== undefined) flags.psi = psi;
    if (values['auto-revert'] === true) flags.autoRevert = true;
    const thresholds = { ...configured.thresholds, ...flags };
    const target = await openTarget(context);
    const given = typeof values.baseline === 'string' ? baselineOf(values.baseline, workspace) : configured.baseline;
    const baseline = await baselineFor(
      target,
      name,
      workspace,
      given,
      typeof values['docker-host'] === 'string' ? values['docker-host'] : undefined,
    );
    const targetId = targetKey(target);
    const { openLake, defaultLakeRoot } = await import('../datasets/lake/duckdbLake');
    const lake = values['no-drift'] === true ? undefined : openLake(defaultLakeRoot(workspace));
    try {
      const { summary } = await observe({
        workspace,
        targetId,
        target,
        name,
        sinceMs,
        sinceText,
        thresholds,
        // A lone server's data token comes from the environment, as the Prometheus token does.
        ...(typeof values.url === 'string' ? { source: serverSource(values.url, dataTokenFromEnv()) } : {}),
        // The token comes from the environment, never a flag that shell history would keep.
        ...(typeof values.prometheus === 'string'
          ? {
              prometheus: {
                url: values.prometheus,
                ...(process.env.PROMETHEUS_TOKEN ? { token: process.env.PROMETHEUS_TOKEN } : {}),
              },
            }
          : {}),
        ...(lake ? { drift: { lake, ...(baseline ? { baseline } : {}) } } : {}),
        onProgress: (message) => !context.json && context.io.stderr(`${message}\n`),
        onBadLine: badLineStderr(context.io),
      });
      const response = await respondToAlerts({
        dir: monitoringDir(workspace, targetId, name),
        target,
        targetId,
        name,
        alerts: summary.alerts,
        thresholds,
        by: 'cli',
      });
      const reverts = response.entries.filter((e) => e.kind !== 'alert');
      if (context.json) context.io.stdout(`${JSON.stringify({ ...summary, actions: reverts }, null, 2)}\n`);
      else {
        printSummary(summary, context.io.stdout);
        for (const entry of reverts) context.io.stdout(`${entry.message}\n`);
      }
      return values['fail-on-alert'] === true && summary.alerts.length ? 3 : 0;
    } finally {
      await lake?.close();
    }
  },
};

const LEVELS = ['moderate', 'major'] as const;

export const driftCommand: CliCommand = {
  name: 'drift',
  summary: 'Input drift between two dataset files, per feature: PSI (deciles or categories) and the KS statistic',
  usage: 'drift BASELINE CURRENT [--features a,b] [--fail-on moderate|major] [--json]',
  options: { features: { type: 'string' }, 'fail-on': { type: 'string' } },
  async run(context) {
    const [baseline, current, ...extra] = context.positionals;
    if (!baseline || !current || extra.length) throw new UsageError('drift needs a BASELINE and a CURRENT file');
    const failOn = context.values['fail-on'] as string | undefined;
    if (failOn !== undefined && !LEVELS.includes(failOn as (typeof LEVELS)[number]))
      throw new UsageError(`--fail-on takes moderate or major, not '${failOn}'`);
    const features =
      typeof context.values.features === 'string'
        ? context.values.features
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : undefined;
    const results = await driftBetweenFiles(baseline, current, features);
    if (context.json) context.io.stdout(`${JSON.stringify({ baseline, current, features: results }, null, 2)}\n`);
    else {
      const width = Math.max(7, ...results.map((r) => r.feature.length));
      context.io.stdout(`${'feature'.padEnd(width)}  kind         PSI      KS  drift\n`);
      for (const r of results) {
        context.io.stdout(
          `${r.feature.padEnd(width)}  ${r.kind.padEnd(11)}  ${r.psi.toFixed(4).padStart(6)}  ${r.ks === null ? '     -' : r.ks.toFixed(4)}  ${r.severity}\n`,
        );
      }
    }
    const failing = failOn
      ? results.filter((r) => r.severity === 'major' || (failOn === 'moderate' && r.severity === 'moderate'))
      : [];
    if (failing.length && !context.json)
      context.io.stderr(`drift at or above ${failOn} in: ${failing.map((r) => r.feature).join(', ')}\n`);
    return failing.length ? 1 : 0;
  },
};
