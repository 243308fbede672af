// Integer shares of a total in proportion to weights, summing exactly to the total.

/**
 * Largest-remainder (Hamilton) apportionment of `total` in proportion to `weights`: each
 * share is floor(exact) or floor(exact) + 1, the +1s go to the largest fractional parts, ties
 * to the lower index. So shares of non-increasing weights are non-increasing, and a share is
 * never above its weight when the total does not exceed the sum of integer weights.
 */
export function largestRemainder(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError('largestRemainder needs positive total weight');
  const exact = weights.map((w) => (w * total) / sum);
  const shares = exact.map(Math.floor);
  let missing = total - shares.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => ({ i, frac: e - Math.floor(e) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; missing > 0; k++, missing--) shares[order[k % order.length].i]++;
  return shares;
}
