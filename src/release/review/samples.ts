// The samples a reviewer judges: requests of a deployment's `requests` lake table answered both
// by production and by a candidate (a shadow mirror, or the same request id answered by two router
// variants), disagreements first, then the newest. Rows logged before the table had `variant` and
// `shadow` are production's answers.
import { sqlIdentifier, sqlList, sqlString } from '../../datasets/sql';
import { versionNumbers } from '../../datasets/lake/catalog';
import type { Lake } from '../../datasets/model';
import { REQUESTS_TABLE } from '../../monitor/requestsTable';
import { isJsonObject } from '../../shared/checked';
import type { ReviewSample } from './model';

export interface SampleQuery {
  target: string;
  deployment: string;
  /** Request ids already judged: left out. */
  reviewed?: Iterable<string>;
  /** Only this candidate version's answers. */
  candidateVersion?: string;
  /** 200 */
  limit?: number;
}

const TS_FORMAT = '%Y-%m-%dT%H:%M:%S.%gZ';

/** Whether the first predictions differ: as numbers when both are numbers (1 = 1.0), else as JSON text. */
const DISAGREE = `CASE
  WHEN json_type(p.first) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND json_type(c.first) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(p.first AS DOUBLE) <> CAST(c.first AS DOUBLE)
  ELSE CAST(p.first AS VARCHAR) IS DISTINCT FROM CAST(c.first AS VARCHAR) END`;

/** Names a row sent as a list by position, as the drift code does. */
function inputRow(inputs: string | null): Record<string, unknown> {
  if (!inputs) return {};
  const rows: unknown = JSON.parse(inputs);
  const row: unknown = Array.isArray(rows) ? rows[0] : undefined;
  if (Array.isArray(row)) return Object.fromEntries(row.map((value, i) => [String(i), value]));
  return isJsonObject(row) ? row : { 0: row };
}

export async function reviewSamples(lake: Lake, query: SampleQuery): Promise<ReviewSample[]> {
  const versions = versionNumbers(lake.root, REQUESTS_TABLE);
  if (versions.length === 0) return [];
  const schema = (await lake.versions(REQUESTS_TABLE)).at(-1)!.schema.map((column) => column.name);
  // Without the split columns nothing was ever mirrored or split, so there is nothing to compare.
  if (!schema.includes('variant') || !schema.includes('shadow')) return [];
  const reviewed = [...(query.reviewed ?? [])];
  const limit = query.limit ?? 200;
  const own = `target = ${sqlString(query.target)} AND deployment = ${sqlString(query.deployment)} AND status < 400 AND predictions IS NOT NULL${reviewed.length ? ` AND NOT list_contains(${sqlList(reviewed)}, request_id)` : ''}`;
  const isProduction = `coalesce(variant, 'production') = 'production' AND NOT coalesce(shadow, false)`;
  const latestPerRequest = `QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY ts DESC) = 1`;
  const result = await lake.query(
    `WITH answered AS (SELECT *, json_extract(predictions, '$[0]') AS first FROM ${sqlIdentifier(REQUESTS_TABLE)} WHERE ${own}),
    p AS (SELECT * FROM answered WHERE ${isProduction} ${latestPerRequest}),
    c AS (SELECT * FROM answered WHERE NOT (${isProduction})${query.candidateVersion ? ` AND version = ${sqlString(query.candidateVersion)}` : ''} ${latestPerRequest})
    SELECT p.request_id, strftime(p.ts, ${sqlString(TS_FORMAT)}), CAST(p.inputs AS VARCHAR), p.version, CAST(p.first AS VARCHAR), c.version, coalesce(c.variant, 'candidate'), CAST(c.first AS VARCHAR), ${DISAGREE} AS disagree
    FROM p JOIN c ON p.request_id = c.request_id AND p.version <> c.version
    ORDER BY disagree DESC, p.ts DESC, p.request_id
    LIMIT ${limit}`,
    { limit },
  );
  const json = (text: unknown) => (typeof text === 'string' ? (JSON.parse(text) as unknown) : null);
  return result.rows.map(
    ([
      requestId,
      ts,
      inputs,
      productionVersion,
      productionPrediction,
      candidateVersion,
      candidateVariant,
      candidatePrediction,
      disagree,
    ]) => ({
      requestId: String(requestId),
      ts: String(ts),
      input: inputRow(inputs as string | null),
      production: { version: String(productionVersion), variant: 'production', prediction: json(productionPrediction) },
      candidate: {
        version: String(candidateVersion),
        variant: String(candidateVariant),
        prediction: json(candidatePrediction),
      },
      disagree: disagree === true,
    }),
  );
}
