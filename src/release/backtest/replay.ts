// Replays rows against a model server: batches of rows as dataframe_split, a few requests in
// flight on kept-alive connections, asking for class probabilities (X-Mlops-Scores: 1; a server
// without them answers predictions only). A failed request is counted and its rows go without a
// prediction; cancellation destroys the requests in flight.
import { Agent } from 'node:http';
import * as v from 'valibot';
import { describeIssues, JsonNumber } from '../../shared/checked';
import { mapConcurrent } from '../../shared/concurrency';
import { MlopsError } from '../../shared/errors';
import { jsonRequest, type JsonAnswer } from './http';
import type { ModelInfo } from './modelContainer';

export interface ReplayResult {
  /** One per row; null where the request failed. */
  predictions: unknown[];
  /** One row of probabilities per row, in `classes` order; null when the server sent none. */
  scores: (number[] | null)[] | null;
  classes: string[] | null;
  /** Each request's latency in ms, in the order the batches were cut. */
  latencies: number[];
  failedRequests: number;
  errors: string[];
  seconds: number;
}

export interface ReplayOptions {
  batchSize: number;
  parallelism: number;
  signal?: AbortSignal;
  /** Called with the rows of each finished request. */
  onRows?: (rows: number) => void;
}

const MAX_ERRORS = 5;

/** What /invocations answers: a prediction per row; with X-Mlops-Scores, each row's probabilities and their classes. */
const PredictionAnswer = v.looseObject({
  predictions: v.array(v.unknown()),
  // A server without scores may send anything else here: it is then as if it sent none.
  scores: v.fallback(v.optional(v.array(v.fallback(v.nullable(v.array(JsonNumber)), null))), undefined),
  classes: v.fallback(v.optional(v.array(v.unknown())), undefined),
});
type PredictionAnswer = v.InferOutput<typeof PredictionAnswer>;
const ErrorAnswer = v.looseObject({ message: v.unknown() });

/**
 * Hands a 200 answer with a prediction per row to `use`; otherwise says what is wrong with it,
 * naming the endpoint and the field.
 */
function predictionsOf(
  answer: JsonAnswer,
  endpoint: string,
  rows: number,
  use: (reply: PredictionAnswer) => void,
): string | undefined {
  if (answer.status !== 200) {
    const error = v.safeParse(ErrorAnswer, answer.body);
    return `HTTP ${answer.status} ${String(error.success ? error.output.message : JSON.stringify(answer.body)).slice(0, 300)}`;
  }
  const reply = v.safeParse(PredictionAnswer, answer.body);
  if (!reply.success)
    return `the answer of ${endpoint} is not a prediction answer: ${describeIssues(reply.issues, 'the answer')}`;
  if (reply.output.predictions.length !== rows)
    return `the answer of ${endpoint} has ${reply.output.predictions.length} predictions for ${rows} rows`;
  use(reply.output);
  return undefined;
}
const positional = (columns: string[]) => columns.every((c, i) => c === String(i));

/**
 * The columns a model is sent: its features, in its order, when it names them (a server refuses
 * extra columns), otherwise every column. Rows of positional columns go as they are.
 */
export function selectColumns(
  columns: string[],
  info: ModelInfo,
  image: string,
): { columns: string[] | null; indices: number[] } {
  if (!info.features || positional(columns))
    return { columns: positional(columns) ? null : columns, indices: columns.map((_, i) => i) };
  const missing = info.features.filter((f) => !columns.includes(f));
  if (missing.length)
    throw new MlopsError(
      `The data has no column ${missing.map((m) => `'${m}'`).join(', ')}, which the model of ${image} takes.`,
      `Its features are ${info.features.join(', ')}.`,
    );
  return { columns: info.features, indices: info.features.map((f) => columns.indexOf(f)) };
}

export async function replay(
  base: string,
  selection: { columns: string[] | null; indices: number[] },
  rows: unknown[][],
  options: ReplayOptions,
): Promise<ReplayResult> {
  const batches: number[] = [];
  for (let start = 0; start < rows.length; start += options.batchSize) batches.push(start);
  const predictions: unknown[] = new Array(rows.length).fill(null);
  const scores: (number[] | null)[] = new Array(rows.length).fill(null);
  const latencies: number[] = new Array(batches.length).fill(0);
  const errors: string[] = [];
  let failedRequests = 0;
  let classes: string[] | null = null;
  let anyScores = false;
  const agent = new Agent({ keepAlive: true, maxSockets: options.parallelism });
  const started = performance.now();
  try {
    await mapConcurrent(
      batches.map((start, index) => ({ start, index })),
      options.parallelism,
      async ({ start, index }) => {
        options.signal?.throwIfAborted();
        const batch = rows.slice(start, start + options.batchSize);
        const data = batch.map((row) => selection.indices.map((i) => row[i]));
        const body = JSON.stringify({
          dataframe_split: selection.columns ? { columns: selection.columns, data } : { data },
        });
        const sent = performance.now();
        let failure: string | undefined;
        try {
          const answer = await jsonRequest('POST', `${base}/invocations`, {
            body,
            headers: { 'X-Mlops-Scores': '1' },
            agent,
            timeoutMs: 120_000,
            ...(options.signal ? { signal: options.signal } : {}),
          });
          latencies[index] = performance.now() - sent;
          failure = predictionsOf(answer, `${base}/invocations`, batch.length, (reply) => {
            reply.predictions.forEach((p, i) => (predictions[start + i] = p));
            if (reply.scores?.length === batch.length && reply.classes) {
              anyScores = true;
              classes ??= reply.classes.map(String);
              reply.scores.forEach((s, i) => (scores[start + i] = s));
            }
          });
          if (failure) failure = `rows ${start + 1}-${start + batch.length}: ${failure}`;
        } catch (error) {
          options.signal?.throwIfAborted();
          latencies[index] = performance.now() - sent;
          failure = `rows ${start + 1}-${start + batch.length}: ${(error as Error).message}`;
        }
        if (failure) {
          failedRequests++;
          if (errors.length < MAX_ERRORS) errors.push(failure);
        }
        options.onRows?.(batch.length);
      },
    );
  } finally {
    agent.destroy();
  }
  return {
    predictions,
    scores: anyScores ? scores : null,
    classes,
    latencies,
    failedRequests,
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}
