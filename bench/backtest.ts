// Back-test throughput: the replay of `mlops backtest` (batches of 100 rows, 4 requests in
// flight on kept-alive connections) beside a plain sequential replay in Python (urllib, one
// request at a time, the same batches), against the same model container, in the same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMlflow } from '../scripts/lib/mlflow.mjs';
import { say } from '../scripts/lib/setup.mjs';
import { connectDocker } from '../src/containerize/docker/dockerClient';
import { startModelContainer } from '../src/release/backtest/modelContainer';
import { replay, selectColumns } from '../src/release/backtest/replay';
import { modelImages } from '../test/support/modelImages';
import { median, type BenchSuite } from './suite';

const ROWS = 20_000;
const BATCH = 100;
const PARALLELISM = 4;
const RUNS = 3;

/** Rows like the churn table's features (tenure, charges, support calls), from a fixed seed. */
function churnRows(count: number): unknown[][] {
  let state = 42;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => [
    Math.round(random() * 72),
    Math.round((20 + random() * 100) * 100) / 100,
    Math.floor(random() * 8),
  ]);
}

// The same requests as ours: dataframe_split bodies of BATCH rows with X-Mlops-Scores, one at a time.
const PEER = String.raw`
import json, sys, time, urllib.request
base, path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(path))
bodies = [json.dumps({"dataframe_split": {"columns": d["columns"], "data": d["rows"][i:i + batch]}}).encode() for i in range(0, len(d["rows"]), batch)]
started = time.perf_counter()
predicted = 0
for body in bodies:
    request = urllib.request.Request(base + "/invocations", data=body, headers={"Content-Type": "application/json", "X-Mlops-Scores": "1"})
    with urllib.request.urlopen(request, timeout=120) as response:
        predicted += len(json.load(response)["predictions"])
print(json.dumps({"seconds": time.perf_counter() - started, "predicted": predicted}))
`;

export const backtestSuite: BenchSuite = {
  name: 'backtest',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(`the Python peer runs in the MLflow virtualenv: ${mlflow.reason}`);
    const images = await modelImages();
    if (!images.ok) throw new Error(images.reason);
    const docker = await connectDocker();
    const container = await startModelContainer(docker, images.v1, 'bench');
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-backtest-'));
    try {
      const columns = ['tenure_months', 'monthly_charges', 'support_calls'];
      const rows = churnRows(ROWS);
      const data = join(dir, 'rows.json');
      writeFileSync(data, JSON.stringify({ columns, rows }));
      const selection = selectColumns(columns, container.info, images.v1);
      const requests = Math.ceil(ROWS / BATCH);
      const ours: number[] = [];
      const sequential: number[] = [];
      const peer: number[] = [];
      let complete = true;
      // A warm-up, so that neither side pays for the model's first calls.
      await replay(container.base, selection, rows.slice(0, 1000), { batchSize: BATCH, parallelism: PARALLELISM });
      for (let run = 1; run <= RUNS; run++) {
        say(`backtest: run ${run} of ${RUNS}`);
        const result = await replay(container.base, selection, rows, { batchSize: BATCH, parallelism: PARALLELISM });
        complete &&= result.failedRequests === 0 && result.predictions.every((p) => p !== null);
        ours.push(result.seconds);
        sequential.push((await replay(container.base, selection, rows, { batchSize: BATCH, parallelism: 1 })).seconds);
        const answer = JSON.parse(
          execFileSync(mlflow.python, ['-c', PEER, container.base, data, String(BATCH)], { encoding: 'utf8' }).trim(),
        ) as { seconds: number; predicted: number };
        complete &&= answer.predicted === ROWS;
        peer.push(answer.seconds);
      }
      const [o, s, p] = [median(ours), median(sequential), median(peer)];
      const line = (name: string, seconds: number) =>
        `| ${name} | ${seconds.toFixed(2)} s | ${Math.round(ROWS / seconds).toLocaleString('en')} | ${(requests / seconds).toFixed(1)} | ${(seconds / p).toFixed(2)} |`;
      return [
        '## Back-test throughput',
        '',
        `${ROWS.toLocaleString('en')} rows of the churn model's three features replayed against one local container of the churn image (${requests} requests of ${BATCH} rows as \`dataframe_split\`, with \`X-Mlops-Scores: 1\`, so each answer also holds the class probabilities). Ours: the replay of \`mlops backtest\` (\`replay\` in src/release/backtest/replay.ts: ${PARALLELISM} requests in flight on kept-alive connections, answers parsed and stored per row), and the same with one request in flight. The peer: a plain sequential replay in Python (urllib, one request at a time, each on a new connection as \`urlopen\` makes it, the same bodies built before the clock starts), in the same run against the same container. Medians of ${RUNS} runs after a warm-up; the client and the container share the machine's cores.`,
        '',
        '| | time | rows/s | requests/s | ratio (time / peer) |',
        '| --- | --- | --- | --- | --- |',
        line(`ours, ${PARALLELISM} in flight`, o),
        line('ours, 1 in flight', s),
        line('Python urllib, sequential', p),
        '',
        complete
          ? `Every request of every run was answered with ${ROWS.toLocaleString('en')} predictions.`
          : '**Some requests failed**: the numbers above are not comparable.',
        '',
      ].join('\n');
    } finally {
      await container.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
