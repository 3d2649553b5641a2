// One look at a deployment: scrape every instance, record the counters, compute the window's
// numbers per version, bring the request log into the lake and measure input drift against the
// training data, then check the thresholds. The CLI's `mlops monitor`, the monitor panel and
// the alert watcher all call this.
import type { DeployTarget, ResourceUse } from '../deploy/targets/deployTarget';
import type { Lake } from '../datasets/model';
import type { BadLineReporter } from '../shared/badLines';
import { describeError } from '../shared/errors';
import { evaluateThresholds } from './alerts';
import { countsOf, type CountsRecord } from './counts';
import { appendCounts, countsAtOrBefore, monitoringDir, readCounts } from './countsLog';
import type { DriftRow, MonitorSeries, MonitorSummary, OutputDrift, Thresholds, VersionHealth } from './model';
import { redactedUrl, type PrometheusConnection } from './prometheusApi';
import { prometheusSeries, prometheusTotals } from './prometheusWindow';
import { deploymentSource, type MonitorSource } from './sources';
import { windowSeries, windowTotals } from './window';

/** Where drift reads its two sides: the lake's `requests` table and the training data. */
export interface DriftSetup {
  lake: Lake;
  baseline?: { table?: string; file?: string };
}

export interface ObserveRequest {
  /** The workspace folder: `.mlops/monitoring/` and the lake live there. */
  workspace: string;
  /** Names the target in files and the `requests` table ("swarm", "kubernetes/mlops-test/default"). */
  targetId: string;
  target: DeployTarget;
  name: string;
  sinceMs: number;
  /** The window as the user wrote it ("15m"). */
  sinceText: string;
  thresholds: Thresholds;
  source?: MonitorSource;
  /** Read the numbers from this Prometheus rather than scraping (the request log is still read for drift). */
  prometheus?: PrometheusConnection;
  drift?: DriftSetup;
  /** Also compute the chart series. */
  series?: boolean;
  signal?: AbortSignal;
  onProgress?(message: string): void;
  /** Told of each damaged line of the recorded counts (they are skipped). */
  onBadLine?: BadLineReporter;
}

export interface Observation {
  summary: MonitorSummary;
  series: MonitorSeries[];
  record: CountsRecord;
}

const PAGE_LINES = 10_000;
const MAX_PAGES = 50;

export async function observe(request: ObserveRequest): Promise<Observation> {
  const { target, name, signal } = request;
  const dir = monitoringDir(request.workspace, request.targetId, name);
  const source = request.source ?? (await deploymentSource(target, name));
  let record: CountsRecord;
  let totals: { from: number; versions: VersionHealth[]; overall: VersionHealth };
  let series: MonitorSeries[] = [];
  if (request.prometheus) {
    request.onProgress?.(`Querying Prometheus at ${redactedUrl(request.prometheus.url)}`);
    record = { at: Date.now(), instances: [], unreachable: [] };
    const [window, charts] = await Promise.all([
      prometheusTotals(request.prometheus, name, record.at, request.sinceMs / 1000, signal),
      request.series
        ? prometheusSeries(request.prometheus, name, record.at - request.sinceMs, record.at, signal)
        : Promise.resolve([]),
    ]);
    totals = { from: record.at - request.sinceMs, ...window };
    series = charts;
  } else {
    request.onProgress?.(`Scraping ${source.description}`);
    const scrape = await source.scrape(signal);
    record = { at: scrape.at, instances: countsOf(scrape.samples), unreachable: scrape.unreachable };
    appendCounts(dir, record);
    const reading = request.onBadLine ? { onBadLine: request.onBadLine } : {};
    const found = countsAtOrBefore(dir, record.at - request.sinceMs, reading);
    const start = found && found.at < record.at ? found : undefined;
    const recorded = readCounts(dir, start?.at ?? record.at - request.sinceMs, record.at, reading);
    totals = windowTotals(start, record, recorded);
    if (request.series) series = windowSeries(recorded.filter((r) => r.at >= record.at - request.sinceMs));
  }
  const from = Math.max(totals.from, record.at - request.sinceMs);

  let drift: DriftRow[] = [];
  let driftNote: string | undefined;
  let answers: OutputDrift[] = [];
  if (request.drift) {
    try {
      ({ rows: drift, note: driftNote } = await measureDrift(request, source, request.drift, from, record.at));
      const { outputDrift } = await import('./outputDrift');
      answers = await outputDrift(request.drift.lake, {
        target: request.targetId,
        deployment: name,
        from,
        to: record.at,
      });
    } catch (error) {
      driftNote = `Drift was not measured: ${describeError(error)}`;
    }
  }
  let resources: ResourceUse[] = [];
  let resourcesNote: string | undefined;
  if (target.resources) {
    try {
      resources = await target.resources(name);
    } catch (error) {
      resourcesNote = describeError(error);
    }
  } else resourcesNote = `${target.kind} does not report CPU and memory.`;
  const alerts = evaluateThresholds(name, totals.versions, drift, request.thresholds);
  const summary: MonitorSummary = {
    target: request.targetId,
    deployment: name,
    since: request.sinceText,
    from: new Date(from).toISOString(),
    to: new Date(record.at).toISOString(),
    source: request.prometheus ? 'prometheus' : 'scrape',
    requests: totals.overall.requests,
    errors: totals.overall.errors,
    errorRate: totals.overall.errorRate,
    latencyMs: totals.overall.latencyMs,
    predictions: totals.overall.predictions,
    versions: totals.versions,
    drift,
    ...(driftNote ? { driftNote } : {}),
    outputDrift: answers,
    resources,
    ...(resourcesNote ? { resourcesNote } : {}),
    alerts,
  };
  return { summary, series, record };
}

/** Brings the request log into the lake, from where its `requests` table ends. */
export async function pullRequestLog(
  lake: Lake,
  source: MonitorSource,
  at: { targetId: string; name: string; signal?: AbortSignal; onProgress?(message: string): void },
): Promise<void> {
  const { ingestRequestLines, requestsCursor } = await import('./requestsTable');
  let since: string | null = (await requestsCursor(lake, at.targetId, at.name)) ?? null;
  for (let page = 0; page < MAX_PAGES; page++) {
    at.onProgress?.('Reading the request log');
    const { lines, more } = await source.requestLines(since, PAGE_LINES, at.signal);
    if (!lines.length) break;
    await ingestRequestLines(lake, lines, { target: at.targetId, deployment: at.name, signal: at.signal });
    since = /"ts":"([^"]*)"/.exec(lines.at(-1)!)?.[1] ?? since;
    if (!more) break;
  }
}

/** Reads the request log into the lake, then measures drift. */
async function measureDrift(
  request: ObserveRequest,
  source: MonitorSource,
  setup: DriftSetup,
  from: number,
  to: number,
): Promise<{ rows: DriftRow[]; note?: string }> {
  await pullRequestLog(setup.lake, source, request);
  if (!setup.baseline?.file && !setup.baseline?.table)
    return {
      rows: [],
      note: 'No training data is known for this deployment: set a baseline (a lake table or a dataset file) in its monitoring settings.',
    };
  request.onProgress?.('Measuring input drift');
  const { requestDrift } = await import('./requestsTable');
  const result = await requestDrift(setup.lake, {
    target: request.targetId,
    deployment: request.name,
    from: new Date(from),
    to: new Date(to),
    baseline: setup.baseline,
  });
  return { rows: result.rows, ...(result.note ? { note: result.note } : {}) };
}
