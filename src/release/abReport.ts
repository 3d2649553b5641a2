// The figures of an A/B test, per variant, from the lake: traffic, errors and latency from the
// `requests` table, outcomes (labels and rewards sent to POST /feedback) from the `feedback` table,
// and each variant compared with production: a two-proportion z-test for rates (errors, accuracy)
// and Welch's t-test for means (reward, latency). A shadow variant's answers are judged against
// the same labels, so it is compared too, although it served nobody.
import { openDuckDb, type DuckDb } from '../datasets/duckdb';
import { parquetFiles, versionNumbers } from '../datasets/lake/catalog';
import type { Lake } from '../datasets/model';
import { sqlList, sqlString } from '../datasets/sql';
import { PRODUCTION_VARIANT } from '../deploy/targets/deployTarget';
import { FEEDBACK_TABLE, REQUESTS_TABLE } from '../monitor/requestsTable';
import type { AbReport, AbSeriesPoint, AbVerdict, VariantComparison, VariantFigures } from './model';
import { twoProportionTest, welchTest } from './stats';

export interface AbReportRequest {
  target: string;
  deployment: string;
  from: number;
  to: number;
  /** Chart buckets over the window (60). */
  buckets?: number;
}

const ALPHA = 0.05;
const sqlTimestamp = (at: number) =>
  `TIMESTAMP ${sqlString(new Date(at).toISOString().replace('T', ' ').replace('Z', ''))}`;
const latest = (lake: Lake, table: string) => {
  const version = versionNumbers(lake.root, table).at(-1);
  return version === undefined ? undefined : `read_parquet(${sqlList(parquetFiles(lake.root, table, version))})`;
};
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export async function abReport(lake: Lake, request: AbReportRequest): Promise<AbReport> {
  const empty: AbReport = {
    target: request.target,
    deployment: request.deployment,
    from: new Date(request.from).toISOString(),
    to: new Date(request.to).toISOString(),
    variants: [],
    comparisons: [],
    series: { bucketMs: 0, variants: {} },
    verdict: { metric: null, leader: null, significant: false, summary: 'No requests of a split in this window yet.' },
  };
  const requests = latest(lake, REQUESTS_TABLE);
  if (!requests) return empty;
  const db = await openDuckDb({ preserveInsertionOrder: false });
  try {
    await db.query(`SET TimeZone = 'UTC'`);
    const feedback = latest(lake, FEEDBACK_TABLE);
    // The newest label and reward of each request of this deployment.
    const outcomes = feedback
      ? `SELECT request_id, arg_max(CAST(label AS VARCHAR), ts) FILTER (WHERE label IS NOT NULL) AS label, arg_max(reward, ts) FILTER (WHERE reward IS NOT NULL) AS reward
         FROM ${feedback} WHERE target = ${sqlString(request.target)} AND deployment = ${sqlString(request.deployment)} GROUP BY request_id`
      : 'SELECT NULL::VARCHAR AS request_id, NULL::VARCHAR AS label, NULL::DOUBLE AS reward WHERE false';
    await db.query(`
      CREATE TABLE answers AS
      SELECT r.ts, coalesce(r.variant, ${sqlString(PRODUCTION_VARIANT)}) AS variant, coalesce(r.shadow, false) AS shadow, r.version, r.status, r.latency_ms,
        CAST(json_extract(r.predictions, '$[0]') AS VARCHAR) AS prediction, o.label, o.reward
      FROM ${requests} AS r LEFT JOIN (${outcomes}) AS o USING (request_id)
      WHERE r.target = ${sqlString(request.target)} AND r.deployment = ${sqlString(request.deployment)}
        AND r.ts >= ${sqlTimestamp(request.from)} AND r.ts <= ${sqlTimestamp(request.to)}`);
    const variants = await figures(db);
    if (variants.length === 0) return empty;
    const comparisons = await compare(db, variants);
    return {
      ...empty,
      variants,
      comparisons,
      series: await series(db, request),
      verdict: verdict(variants, comparisons),
    };
  } finally {
    db.close();
  }
}

async function figures(db: DuckDb): Promise<VariantFigures[]> {
  // A label equals a prediction as JSON text, or as numbers (1 and 1.0).
  const correct = `coalesce(TRY_CAST(prediction AS DOUBLE) = TRY_CAST(label AS DOUBLE), prediction = label)`;
  const rows = (
    await db.query(`
      SELECT variant, bool_or(shadow), list(DISTINCT version ORDER BY version), count(*), count(*) FILTER (WHERE status >= 400),
        avg(latency_ms), quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95),
        count(*) FILTER (WHERE label IS NOT NULL AND status < 400), count(*) FILTER (WHERE label IS NOT NULL AND status < 400 AND ${correct}),
        count(reward), avg(reward)
      FROM answers GROUP BY variant ORDER BY variant <> ${sqlString(PRODUCTION_VARIANT)}, variant`)
  ).rows;
  return rows.map((row) => {
    const [variant, shadow, versions, requests, errors, mean, p50, p95, labelled, right, rewards, meanReward] = row;
    const n = Number(requests);
    return {
      variant: String(variant),
      shadow: Boolean(shadow),
      versions: (versions as unknown[]).map(String),
      requests: n,
      errors: Number(errors),
      errorRate: n ? Number(errors) / n : null,
      latencyMs: { mean: num(mean), p50: num(p50), p95: num(p95) },
      labelled: Number(labelled),
      correct: Number(right),
      accuracy: Number(labelled) ? Number(right) / Number(labelled) : null,
      rewards: Number(rewards),
      meanReward: num(meanReward),
    };
  });
}

async function compare(db: DuckDb, variants: VariantFigures[]): Promise<VariantComparison[]> {
  const production = variants.find((v) => v.variant === PRODUCTION_VARIANT);
  if (!production) return [];
  const moments = new Map(
    (
      await db.query(
        `SELECT variant, count(reward), avg(reward), var_samp(reward), count(latency_ms), avg(latency_ms), var_samp(latency_ms) FROM answers GROUP BY variant`,
      )
    ).rows.map((row) => [
      String(row[0]),
      {
        reward: { n: Number(row[1]), mean: Number(row[2]), variance: Number(row[3] ?? NaN) },
        latency: { n: Number(row[4]), mean: Number(row[5]), variance: Number(row[6] ?? NaN) },
      },
    ]),
  );
  const rates = (a: number, n: number, b: number, m: number) => (n > 0 && m > 0 ? twoProportionTest(a, n, b, m) : null);
  const means = (a: { n: number; mean: number; variance: number }, b: { n: number; mean: number; variance: number }) =>
    a.n >= 2 && b.n >= 2 ? welchTest(a, b) : null;
  const base = moments.get(PRODUCTION_VARIANT)!;
  return variants
    .filter((v) => v.variant !== PRODUCTION_VARIANT)
    .map((v) => {
      const own = moments.get(v.variant)!;
      return {
        variant: v.variant,
        errorRate: rates(production.errors, production.requests, v.errors, v.requests),
        accuracy: rates(production.correct, production.labelled, v.correct, v.labelled),
        reward: means(base.reward, own.reward),
        latency: means(base.latency, own.latency),
      };
    });
}

async function series(db: DuckDb, request: AbReportRequest): Promise<AbReport['series']> {
  const buckets = request.buckets ?? 60;
  const bucketMs = Math.max(1000, Math.ceil((request.to - request.from) / buckets / 1000) * 1000);
  const rows = (
    await db.query(`
      SELECT variant, CAST(floor((epoch_ms(ts) - ${request.from}) / ${bucketMs}) AS BIGINT) AS bucket, count(*), count(*) FILTER (WHERE status >= 400), quantile_cont(latency_ms, 0.95)
      FROM answers GROUP BY ALL ORDER BY variant, bucket`)
  ).rows;
  const variants: Record<string, AbSeriesPoint[]> = {};
  for (const [variant, bucket, requests, errors, p95] of rows) {
    (variants[String(variant)] ??= []).push({
      t: request.from + Number(bucket) * bucketMs,
      requests: Number(requests),
      errors: Number(errors),
      p95: num(p95),
    });
  }
  return { bucketMs, variants };
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const signedPoints = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
const pText = (p: number) => (Number.isNaN(p) ? 'p n/a' : p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** The decisive metric, the leader by it, and one sentence that says both. */
export function verdict(variants: VariantFigures[], comparisons: VariantComparison[]): AbVerdict {
  const production = variants.find((v) => v.variant === PRODUCTION_VARIANT);
  if (!production || comparisons.length === 0)
    return {
      metric: null,
      leader: null,
      significant: false,
      summary: 'No candidate has answered yet: only production is in the window.',
    };
  const metric: AbVerdict['metric'] = comparisons.some((c) => c.accuracy)
    ? 'accuracy'
    : comparisons.some((c) => c.reward)
      ? 'reward'
      : 'errorRate';
  const test = (c: VariantComparison) =>
    metric === 'accuracy' ? c.accuracy : metric === 'reward' ? c.reward : c.errorRate;
  // Higher accuracy and reward are better; a lower error rate is.
  const gain = (c: VariantComparison) =>
    metric === 'errorRate' ? -(test(c)?.estimate ?? 0) : (test(c)?.estimate ?? -Infinity);
  const best = [...comparisons].filter((c) => test(c)).sort((a, b) => gain(b) - gain(a))[0];
  if (!best)
    return {
      metric,
      leader: null,
      significant: false,
      summary: `Not enough ${metric === 'accuracy' ? 'labelled answers' : 'data'} to compare yet.`,
    };
  const result = test(best)!;
  const significant = result.pValue < ALPHA;
  const leader = gain(best) > 0 ? best.variant : PRODUCTION_VARIANT;
  const name = metric === 'accuracy' ? 'accuracy' : metric === 'reward' ? 'mean reward' : 'error rate';
  const figure =
    result.test === 'welch t'
      ? `${result.meanB.toFixed(3)} vs ${result.meanA.toFixed(3)} (${result.estimate >= 0 ? '+' : ''}${result.estimate.toFixed(3)}, 95% CI ${result.ciLow.toFixed(3)} to ${result.ciHigh.toFixed(3)}, ${pText(result.pValue)})`
      : `${percent(result.rateB)} vs ${percent(result.rateA)} (${signedPoints(result.estimate)} points, 95% CI ${signedPoints(result.ciLow)} to ${signedPoints(result.ciHigh)}, ${pText(result.pValue)})`;
  const outcome = significant
    ? leader === PRODUCTION_VARIANT
      ? 'production is significantly better'
      : `${leader} is significantly better`
    : 'no significant difference yet';
  return { metric, leader, significant, summary: `${best.variant}'s ${name} ${figure}: ${outcome}.` };
}
