// The significance tests against SciPy on random samples: Welch's t-test against
// scipy.stats.ttest_ind(equal_var=False) and its confidence_interval, the two-proportion z-test
// against the textbook formulas evaluated with scipy.stats.norm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ensureMlflow } from '../../scripts/lib/mlflow.mjs';
import { twoProportionTest, welchTest } from '../../src/release/stats';
import { needService } from '../support/services';

const SCIPY = `
import json, sys
import numpy as np
from scipy import stats
cases = json.load(sys.stdin)
out = {"welch": [], "proportions": []}
for a, b in cases["welch"]:
    r = stats.ttest_ind(b, a, equal_var=False)
    ci = r.confidence_interval(0.95)
    out["welch"].append({"statistic": float(r.statistic), "pValue": float(r.pvalue), "df": float(r.df),
                         "ciLow": float(ci.low), "ciHigh": float(ci.high), "estimate": float(np.mean(b) - np.mean(a))})
for xa, na, xb, nb in cases["proportions"]:
    pa, pb = xa / na, xb / nb
    pooled = (xa + xb) / (na + nb)
    z = (pb - pa) / np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    q = stats.norm.ppf(0.975)
    out["proportions"].append({"statistic": float(z), "pValue": float(2 * stats.norm.sf(abs(z))),
                               "ciLow": float(pb - pa - q * se), "ciHigh": float(pb - pa + q * se), "estimate": float(pb - pa)})
json.dump(out, sys.stdout)
`;

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('Welch and the two-proportion test equal SciPy to 1e-9 on random samples', { timeout: 600_000 }, (t) => {
  const mlflow = ensureMlflow();
  if (
    !needService(
      t,
      mlflow.ok,
      mlflow.ok ? '' : `the MLflow virtualenv (with SciPy) cannot be installed: ${mlflow.reason}`,
    )
  )
    return;
  const next = random(20261207);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const sample = (n: number, mean: number, sd: number) => Array.from({ length: n }, () => mean + sd * normal());
  const welch: [number[], number[]][] = [
    [sample(5, 10, 1), sample(7, 11, 3)],
    [sample(30, 120, 15), sample(45, 112, 40)],
    [sample(2, 0, 1), sample(3, 0.5, 1)],
    [sample(500, 3.2, 0.4), sample(800, 3.25, 0.45)],
    [sample(12, 1e6, 0.01), sample(9, 1e6 + 0.02, 0.03)],
    [sample(40, 0, 1), sample(40, 5, 1)],
  ];
  const proportions: [number, number, number, number][] = [
    [40, 200, 55, 210],
    [3, 17, 9, 15],
    [990, 1000, 975, 1000],
    [1, 5000, 12, 5100],
  ];
  for (let i = 0; i < 6; i++) {
    const na = 20 + Math.floor(next() * 2000);
    const nb = 20 + Math.floor(next() * 2000);
    proportions.push([Math.floor(next() * (na + 1)), na, Math.floor(next() * (nb + 1)), nb]);
  }
  const result = spawnSync(mlflow.ok ? mlflow.python : '', ['-c', SCIPY], {
    input: JSON.stringify({ welch, proportions }),
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const expected = JSON.parse(result.stdout) as {
    welch: Record<string, number>[];
    proportions: Record<string, number>[];
  };
  const compare = (actual: object, wanted: Record<string, number>, label: string) => {
    for (const [field, value] of Object.entries(wanted)) {
      const got = (actual as Record<string, number>)[field];
      // 1e-9 absolute, or relative for large statistics and degrees of freedom.
      assert.ok(
        Math.abs(got - value) <= 1e-9 * Math.max(1, Math.abs(value)),
        `${label} ${field}: ${got}, SciPy ${value}`,
      );
    }
  };
  welch.forEach(([a, b], i) => compare(welchTest(a, b), expected.welch[i], `welch case ${i}`));
  proportions.forEach(([xa, na, xb, nb], i) =>
    compare(twoProportionTest(xa, na, xb, nb), expected.proportions[i], `proportions case ${i}`),
  );
  assert.ok(
    expected.welch.some((r) => r.pValue < 1e-9),
    'one case is far in the tail',
  );
});
