// Input drift over a million logged requests (four numeric features, one categorical) against a
// baseline of a million training rows: `mlops drift` (DuckDB) beside pandas, numpy and scipy
// computing the same PSI and KS, each reading the same two Parquet files, in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMlflow } from '../scripts/lib/mlflow.mjs';
import { cacheDir, say } from '../scripts/lib/setup.mjs';
import { driftBetweenFiles } from '../src/monitor/driftCommand';
import { median, type BenchSuite } from './suite';

const ROWS = 1_000_000;
const RUNS = 3;

const GENERATE = String.raw`
import sys
import numpy as np, pandas as pd
rng = np.random.default_rng(1)
n, out = int(sys.argv[1]), sys.argv[2]
def frame(shift):
    return pd.DataFrame({
        "tenure_months": np.round(rng.gamma(2 + shift, 12, n)),
        "monthly_charges": np.round(rng.normal(70 + 8 * shift, 20, n), 2),
        "support_calls": rng.poisson(1.5 + shift, n).astype(float),
        "latency_ms": rng.lognormal(3 + 0.2 * shift, 0.4, n),
        "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5 - 0.2 * shift, 0.3, 0.2 + 0.2 * shift]),
    })
frame(0).to_parquet(f"{out}/baseline.parquet", index=False)
frame(1).to_parquet(f"{out}/current.parquet", index=False)
`;

export const driftSuite: BenchSuite = {
  name: 'drift',
  async run() {
    const mlflow = ensureMlflow();
    if (!mlflow.ok) throw new Error(`pandas, numpy and scipy come with the MLflow virtualenv: ${mlflow.reason}`);
    const dir = join(cacheDir(), `bench-drift-${ROWS}`);
    if (!existsSync(join(dir, 'current.parquet'))) {
      say(`drift: generating two Parquet files of ${ROWS.toLocaleString('en')} rows in ${dir}`);
      mkdirSync(dir, { recursive: true });
      execFileSync(mlflow.python, ['-c', GENERATE, String(ROWS), dir], { stdio: 'inherit' });
    }
    const baseline = join(dir, 'baseline.parquet');
    const current = join(dir, 'current.parquet');
    const ours: number[] = [];
    const theirs: number[] = [];
    let agree = true;
    for (let run = 1; run <= RUNS; run++) {
      say(`drift: run ${run} of ${RUNS}`);
      const started = performance.now();
      const results = await driftBetweenFiles(baseline, current);
      ours.push((performance.now() - started) / 1000);
      const peer = JSON.parse(execFileSync(mlflow.python, [join(import.meta.dirname, 'pandas', 'drift_peer.py'), baseline, current], { encoding: 'utf8' }).trim().split('\n').at(-1)!) as {
        seconds: number;
        features: Record<string, { psi: number; ks: number | null }>;
      };
      theirs.push(peer.seconds);
      for (const result of results) {
        const expected = peer.features[result.feature];
        agree &&= Boolean(expected) && Math.abs(result.psi - expected!.psi) < 1e-9 && (expected!.ks === null ? result.ks === null : Math.abs((result.ks ?? NaN) - expected!.ks) < 1e-12);
      }
    }
    const [o, t] = [median(ours), median(theirs)];
    return [
      '## Input drift',
      '',
      `PSI (baseline deciles, or categories) and the KS statistic for 4 numeric and 1 categorical feature, between a baseline and a current Parquet file of ${ROWS.toLocaleString('en')} rows each (the current one shifted). Ours: \`mlops drift\`'s \`driftBetweenFiles\`, which loads both files into DuckDB and computes every statistic in SQL. The peer: pandas \`read_parquet\`, then numpy (quantiles, searchsorted, bincount) and \`scipy.stats.ks_2samp\`, in one Python process (imports not timed). Both include reading the files. Medians of ${RUNS} runs.`,
      '',
      '| | ours | pandas + scipy | ratio (ours / peer) |',
      '| --- | --- | --- | --- |',
      `| drift of 5 features over 2 × ${ROWS.toLocaleString('en')} rows | ${o.toFixed(2)} s | ${t.toFixed(2)} s | ${(o / t).toFixed(2)} |`,
      '',
      agree ? 'Every PSI agrees with the peer within 1e-9 and every KS statistic within 1e-12.' : '**The results disagree with the peer** (beyond 1e-9 for PSI or 1e-12 for KS).',
      '',
    ].join('\n');
  },
};
