/**
 * TensorBoard's smoothing: an exponential moving average, debiased so that the first points are
 * not pulled towards zero. Non-finite values pass through unchanged and do not feed the average.
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  let average = 0;
  let count = 0;
  return values.map((value) => {
    if (!Number.isFinite(value)) return value;
    average = average * weight + (1 - weight) * value;
    count++;
    return average / (1 - weight ** count);
  });
}
