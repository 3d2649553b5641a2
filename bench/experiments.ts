// Experiments at scale: listing 100,000 runs with their latest metrics, and the chart series of a
// 1,000,000-point metric, against MLflow's own client (MlflowClient.search_runs and
// get_metric_history) on the same stores, in the same run. Then the same for mlruns/ at 10,000 runs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMlflow, MLFLOW_VERSION } from '../scripts/lib/mlflow.mjs';
import { cacheDir, repoRoot, say } from '../scripts/lib/setup.mjs';
import type { BenchSuite } from './suite';

interface Manifest {
  tracking_uri: string;
  experiment_id: string;
  history_run_id: string;
  key: string;
  runs: number;
  history_points: number;
}

interface Measure {
  seconds: number;
  count: number;
  peakRssMb: number;
}

interface PeerResult {
  search_runs_seconds: number;
  runs: number;
  metric_history_seconds: number;
  points: number;
  search_runs_peak_rss_mb: number;
  metric_history_peak_rss_mb: number;
}

/** Big stores are slow to build (about a minute each): they are cached outside the repository, by MLflow version. */
function bigStore(python: string, kind: 'sqlite' | 'mlruns'): Manifest {
  const dir = join(cacheDir(), `bench-stores-mlflow-${MLFLOW_VERSION}`, kind);
  const manifest = join(dir, kind === 'sqlite' ? 'big-store.json' : 'big-mlruns.json');
  if (!existsSync(manifest)) {
    say(`building the ${kind} benchmark store in ${dir} (cached for later runs)`);
    execFileSync(
      python,
      [
        join(repoRoot, 'bench', 'mlflow', 'make_big_store.py'),
        dir,
        ...(kind === 'mlruns' ? ['--mlruns', '10000'] : []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return JSON.parse(readFileSync(manifest, 'utf8')) as Manifest;
}

const REPEATS = 3;

/** Our measurement, repeated in fresh processes: the median by time, to ride out noisy neighbours. */
function ours(what: 'search' | 'history', store: Manifest): Measure {
  const runs = Array.from({ length: REPEATS }, () => oursOnce(what, store)).sort((a, b) => a.seconds - b.seconds);
  return runs[Math.floor(REPEATS / 2)];
}

function oursOnce(what: 'search' | 'history', store: Manifest): Measure {
  const output = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench', 'experimentsProbe.ts'),
      what,
      store.tracking_uri,
      store.experiment_id,
      store.history_run_id,
      store.key,
    ],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1024 * 1024 },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measure;
}

function peer(python: string, store: Manifest): PeerResult {
  const output = execFileSync(
    python,
    [join(repoRoot, 'bench', 'mlflow', 'peer.py'), store.tracking_uri, store.history_run_id, store.key],
    {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as PeerResult;
}

function section(title: string, store: Manifest, python: string, goals: { list?: number; history?: number }): string {
  say(`${title}: our readers`);
  const search = ours('search', store);
  const history = ours('history', store);
  say(`${title}: MLflow's client (minutes)`);
  const mlflow = peer(python, store);
  if (search.count !== mlflow.runs) throw new Error(`we listed ${search.count} runs, MLflow ${mlflow.runs}`);
  if (history.count !== mlflow.points) throw new Error(`we read ${history.count} points, MLflow ${mlflow.points}`);
  const row = (what: string, ourSeconds: number, theirSeconds: number, goal: number | undefined) => {
    const speedup = theirSeconds / ourSeconds;
    const verdict = goal === undefined ? 'reported' : `≥ ${goal}× ${speedup >= goal ? '✓' : '✗'}`;
    return `| ${what} | ${ourSeconds.toFixed(2)} s | ${theirSeconds.toFixed(1)} s | ${(ourSeconds / theirSeconds).toFixed(3)} | **${speedup.toFixed(0)}×** | ${verdict} |`;
  };
  return [
    `### ${title}`,
    '',
    `${store.runs.toLocaleString('en')} runs × 10 metrics, and one run with ${store.history_points.toLocaleString('en')} points of \`${store.key}\`.`,
    '',
    '| measure | ours | MLflow | ratio (ours / MLflow) | speed-up | goal |',
    '| --- | --- | --- | --- | --- | --- |',
    row(
      `list all ${search.count.toLocaleString('en')} runs with latest metrics, params and tags`,
      search.seconds,
      mlflow.search_runs_seconds,
      goals.list,
    ),
    row(
      `chart series of ${history.count.toLocaleString('en')} points, downsampled to ≤ 2,000`,
      history.seconds,
      mlflow.metric_history_seconds,
      goals.history,
    ),
    '',
    '| peak memory (RSS) | ours | MLflow |',
    '| --- | --- | --- |',
    `| listing the runs | ${search.peakRssMb.toFixed(0)} MB | ${mlflow.search_runs_peak_rss_mb.toFixed(0)} MB |`,
    `| the 1,000,000-point metric | ${history.peakRssMb.toFixed(0)} MB | ${mlflow.metric_history_peak_rss_mb.toFixed(0)} MB |`,
    '',
  ].join('\n');
}

export const experimentsSuite: BenchSuite = {
  name: 'experiments',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(mlflow.reason);
    return [
      '## Experiments at scale',
      '',
      `Our readers (\`searchRuns\`, \`metricHistory\`) against MLflow ${MLFLOW_VERSION}'s \`MlflowClient.search_runs\` (paging by 50,000) and \`get_metric_history\` on the same store. Each measurement runs in a fresh process (ours three times, the median shown); opening the store is included in ours, importing MLflow is not included in theirs. The mlruns/ backend has no goal in the issue: its figures are reported.`,
      '',
      section('mlflow.db (SQLite)', bigStore(mlflow.python, 'sqlite'), mlflow.python, { list: 20, history: 10 }),
      section('mlruns/ (file store)', bigStore(mlflow.python, 'mlruns'), mlflow.python, {}),
    ].join('\n');
  },
};
