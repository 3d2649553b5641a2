// Significance tests for comparing two model versions: a two-proportion z-test for rates (errors,
// conversions, accepted answers) and Welch's t-test for means (latency, reward). Both compare B
// with A: the estimate is B's rate or mean minus A's, with a two-sided p-value and a confidence
// interval of that difference. Pure TypeScript; the special functions are the continued
// fractions of Numerical Recipes (§6.2, §6.4), accurate to about 1e-14.
// Own code, not a library: two tests need only two distributions, about 100 lines, no package to bundle.
import { MlopsError } from '../shared/errors';

export interface TestResult {
  /** B minus A: a difference of rates or of means. */
  estimate: number;
  ciLow: number;
  ciHigh: number;
  /** The confidence of [ciLow, ciHigh] (0.95). */
  confidence: number;
  /** Two-sided; NaN when the groups have no spread to judge a difference by. */
  pValue: number;
  /** z or t. */
  statistic: number;
}

export interface ProportionTest extends TestResult {
  test: 'two-proportion z';
  nA: number;
  nB: number;
  rateA: number;
  rateB: number;
}

export interface WelchTest extends TestResult {
  test: 'welch t';
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
}

/** A group of values by its size, mean and sample variance (n - 1 in the denominator). */
export interface MeanSummary {
  n: number;
  mean: number;
  variance: number;
}

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITERATIONS = 1000;

const nonZero = (value: number) => (Math.abs(value) < TINY ? TINY : value);

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function, by the modified Lentz method. */
function betaFraction(a: number, b: number, x: number): number {
  let c = 1;
  let d = 1 / nonZero(1 - ((a + b) * x) / (a + 1));
  let h = d;
  const step = (coefficient: number) => {
    d = 1 / nonZero(1 + coefficient * d);
    c = nonZero(1 + coefficient / c);
    h *= d * c;
    return d * c;
  };
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    step((m * (b - m) * x) / ((a + m2 - 1) * (a + m2)));
    if (Math.abs(step((-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))) - 1) < EPS) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast on this side of the mean; the other side by symmetry.
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** The regularized upper incomplete gamma function Q(a, x). */
function upperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n <= MAX_ITERATIONS && Math.abs(term) > Math.abs(sum) * EPS; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * front;
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / nonZero(an * d + b);
    c = nonZero(b + an / c);
    h *= d * c;
    if (Math.abs(d * c - 1) < EPS) break;
  }
  return front * h;
}

/** P(Z > z) for a standard normal Z. */
export function normalSurvival(z: number): number {
  // erfc(x) = Q(1/2, x²)
  const tail = 0.5 * upperGamma(0.5, (z * z) / 2);
  return z >= 0 ? tail : 1 - tail;
}

/** P(T > t) for Student's t with df degrees of freedom. */
export function studentSurvival(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** The x where a decreasing survival function equals p, by bisection to the last bit. */
function invertSurvival(survival: (x: number) => number, p: number): number {
  let low = 0;
  let high = 1;
  while (survival(high) > p) high *= 2;
  for (let i = 0; i < 200 && high - low > Number.EPSILON * high; i++) {
    const mid = (low + high) / 2;
    if (survival(mid) > p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

function checkConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1))
    throw new MlopsError(`The confidence level must be between 0 and 1 (0.95), not ${confidence}.`);
  return confidence;
}

function checkCount(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0)
    throw new MlopsError(`${name} must be a whole number, 0 or more, not ${value}.`);
}

/**
 * Compares the rate of successes of B with A's. The p-value comes from the pooled z statistic
 * (under the null hypothesis both groups share one rate); the interval of rateB - rateA uses the
 * unpooled standard error.
 */
export function twoProportionTest(
  successesA: number,
  nA: number,
  successesB: number,
  nB: number,
  confidence = 0.95,
): ProportionTest {
  for (const [value, name] of [
    [successesA, 'successesA'],
    [nA, 'nA'],
    [successesB, 'successesB'],
    [nB, 'nB'],
  ] as const)
    checkCount(value, name);
  if (nA === 0 || nB === 0)
    throw new MlopsError(`Both groups need at least one observation to compare rates (A has ${nA}, B has ${nB}).`);
  if (successesA > nA || successesB > nB)
    throw new MlopsError(
      `A group cannot have more successes than observations (A: ${successesA} of ${nA}, B: ${successesB} of ${nB}).`,
    );
  checkConfidence(confidence);
  const rateA = successesA / nA;
  const rateB = successesB / nB;
  const estimate = rateB - rateA;
  const pooled = (successesA + successesB) / (nA + nB);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const statistic = pooledSe === 0 ? NaN : estimate / pooledSe;
  const pValue = Number.isNaN(statistic) ? NaN : Math.min(1, 2 * normalSurvival(Math.abs(statistic)));
  const se = Math.sqrt((rateA * (1 - rateA)) / nA + (rateB * (1 - rateB)) / nB);
  const margin = invertSurvival(normalSurvival, (1 - confidence) / 2) * se;
  return {
    test: 'two-proportion z',
    estimate,
    ciLow: estimate - margin,
    ciHigh: estimate + margin,
    confidence,
    pValue,
    statistic,
    nA,
    nB,
    rateA,
    rateB,
  };
}

/** The size, mean and sample variance of values (two passes: the deviations from the mean, so large means lose no digits). */
export function summarize(values: readonly number[]): MeanSummary {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { n, mean, variance: n > 1 ? squares / (n - 1) : NaN };
}

/** Compares the mean of B with A's without assuming equal variances (Welch's t-test). */
export function welchTest(
  a: MeanSummary | readonly number[],
  b: MeanSummary | readonly number[],
  confidence = 0.95,
): WelchTest {
  const groupA = 'n' in a ? a : summarize(a);
  const groupB = 'n' in b ? b : summarize(b);
  if (groupA.n < 2 || groupB.n < 2)
    throw new MlopsError(
      `Welch's t-test needs at least 2 values in each group (A has ${groupA.n}, B has ${groupB.n}).`,
    );
  checkConfidence(confidence);
  const va = groupA.variance / groupA.n;
  const vb = groupB.variance / groupB.n;
  const se = Math.sqrt(va + vb);
  const estimate = groupB.mean - groupA.mean;
  const df = (va + vb) ** 2 / (va ** 2 / (groupA.n - 1) + vb ** 2 / (groupB.n - 1));
  const base = {
    test: 'welch t' as const,
    estimate,
    confidence,
    nA: groupA.n,
    nB: groupB.n,
    meanA: groupA.mean,
    meanB: groupB.mean,
  };
  if (se === 0) return { ...base, ciLow: estimate, ciHigh: estimate, pValue: NaN, statistic: NaN, df: NaN };
  const statistic = estimate / se;
  const pValue = Math.min(1, 2 * studentSurvival(Math.abs(statistic), df));
  const margin = invertSurvival((t) => studentSurvival(t, df), (1 - confidence) / 2) * se;
  return { ...base, ciLow: estimate - margin, ciHigh: estimate + margin, pValue, statistic, df };
}
