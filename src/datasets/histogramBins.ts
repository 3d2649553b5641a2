// The bins of a numeric column's histogram, as a person reads them: edges on round numbers (1, 2,
// 2.5 or 5 times a power of ten), and for an integer column whole steps, each bin holding the
// same number of integers. A value belongs to the bin [start, end) that holds it; the last bin
// of a non-integer column is closed, so that it holds the maximum.

const TARGET_BINS = 30;
const MANTISSAS = [1, 2, 2.5, 5, 10];

export interface Bin {
  start: number;
  end: number;
}

const INTEGER_TYPE = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;

export function histogramBins(type: string, min: number, max: number): Bin[] {
  if (min === max) return [{ start: min, end: max }];
  const integer = INTEGER_TYPE.test(type);
  const step = roundStep(integer ? Math.max(1, (max - min) / TARGET_BINS) : (max - min) / TARGET_BINS, integer);
  let n = Math.floor(min / step.size);
  while (step.edge(n) > min) n--;
  while (step.edge(n + 1) <= min) n++;
  const edges = [step.edge(n)];
  // An integer column's maximum sits inside its bin; a closed last bin may end on it.
  while (integer ? edges[edges.length - 1] <= max : edges[edges.length - 1] < max) {
    const edge = step.edge(++n);
    // Past about 15 significant digits neighbouring edges can be the same double: skip those.
    if (edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges.slice(1).map((end, k) => ({ start: edges[k], end }));
}

/**
 * The smallest round step at least `raw` wide, at least 1 for integers. Its edges are n × step
 * computed as an integer over a power of ten, which rounds once: the same double a file's text
 * "0.3" reads as, so a value on an edge falls in the bin that starts there.
 */
function roundStep(raw: number, integer: boolean): { size: number; edge(n: number): number } {
  const exponent = Math.floor(Math.log10(raw));
  const candidates = [exponent, exponent + 1].flatMap((e) => MANTISSAS.map((mantissa) => ({ mantissa, exponent: e })));
  const scale = (units: number, e: number) => (e >= 0 ? units * 10 ** e : units / 10 ** -e);
  const { mantissa, exponent: e } = candidates.find(({ mantissa, exponent: e }) => {
    const size = scale(mantissa, e);
    return size >= raw && (!integer || (size >= 1 && Number.isInteger(size)));
  })!;
  return { size: scale(mantissa, e), edge: (n) => scale(n * mantissa, e) };
}

/**
 * Counts in a sample scaled to `total`, rounded so that they still add up to it (largest
 * remainders first): every row of the file is in exactly one bin.
 */
export function scaleCounts(counts: number[], total: number): number[] {
  const sampled = counts.reduce((sum, n) => sum + n, 0);
  if (sampled === 0 || sampled === total) return counts;
  const exact = counts.map((n) => (n * total) / sampled);
  const scaled = exact.map(Math.floor);
  const order = exact
    .map((value, i) => ({ i, remainder: value - scaled[i] }))
    .sort((a, b) => b.remainder - a.remainder);
  let missing = total - scaled.reduce((sum, n) => sum + n, 0);
  for (const { i } of order) {
    if (missing-- <= 0) break;
    scaled[i]++;
  }
  return scaled;
}
