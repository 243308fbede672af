// Flat-buffer kernels shared by the rules. Sums run in float64 over blocks small enough to
// stay in cache, then round once to float32: the result does not depend on how many models
// are summed in which precision, and identical inputs average back to themselves exactly.

/** Elements per block: a Float64Array of this size (32 KiB) stays in L1/L2 while every model streams through it. */
const BLOCK = 4096;

/** acc[0..len) = Σ_j coefs[j] · (xs[j][start + k] − ref[start + k]) in float64; ref null means 0. */
function accumulateBlock(
  acc: Float64Array,
  xs: readonly Float32Array[],
  coefs: ArrayLike<number>,
  ref: Float32Array | null,
  start: number,
  len: number,
): void {
  acc.fill(0, 0, len);
  for (let j = 0; j < xs.length; j++) {
    const x = xs[j];
    const c = coefs[j];
    if (ref === null) for (let k = 0; k < len; k++) acc[k] += c * x[start + k];
    else for (let k = 0; k < len; k++) acc[k] += c * (x[start + k] - ref[start + k]);
  }
}

/** out[k] = (Σ_j coefs[j] · xs[j][k]) / divisor, summed in float64. `out` may alias none of `xs`. */
export function weightedSum(
  out: Float32Array,
  xs: readonly Float32Array[],
  coefs: ArrayLike<number>,
  divisor: number,
): Float32Array {
  const n = out.length;
  const acc = new Float64Array(Math.min(BLOCK, n));
  for (let start = 0; start < n; start += BLOCK) {
    const len = Math.min(BLOCK, n - start);
    accumulateBlock(acc, xs, coefs, null, start, len);
    // Divide (not multiply by 1/divisor): R identical values then average back exactly.
    for (let k = 0; k < len; k++) out[start + k] = acc[k] / divisor;
  }
  return out;
}

/**
 * out[k] = base[k] + scale · Σ_j coefs[j] · (xs[j][k] − ref[k]), summed in float64.
 * `base` null means 0. The difference form keeps small moves exact next to large weights
 * and leaves `base` untouched when every xs[j] equals `ref`.
 */
export function addWeightedDifferences(
  out: Float32Array,
  base: Float32Array | null,
  ref: Float32Array,
  xs: readonly Float32Array[],
  coefs: ArrayLike<number>,
  scale: number,
): Float32Array {
  const n = out.length;
  const acc = new Float64Array(Math.min(BLOCK, n));
  for (let start = 0; start < n; start += BLOCK) {
    const len = Math.min(BLOCK, n - start);
    accumulateBlock(acc, xs, coefs, ref, start, len);
    if (base === null) for (let k = 0; k < len; k++) out[start + k] = scale * acc[k];
    else for (let k = 0; k < len; k++) out[start + k] = base[start + k] + scale * acc[k];
  }
  return out;
}

/** Unweighted mean of the vectors, summed in float64. */
export function meanOf(out: Float32Array, xs: readonly Float32Array[]): Float32Array {
  return weightedSum(out, xs, new Float64Array(xs.length).fill(1), xs.length);
}

export interface Moments {
  readonly mean: number;
  /** Unbiased (n − 1) variance; NaN for a single element. */
  readonly variance: number;
}

/** Mean and unbiased variance of one tensor, two-pass in float64 (no cancellation). */
export function moments(x: Float32Array): Moments {
  const n = x.length;
  let s = 0;
  for (let k = 0; k < n; k++) s += x[k];
  const mean = s / n;
  let ss = 0;
  for (let k = 0; k < n; k++) {
    const d = x[k] - mean;
    ss += d * d;
  }
  return { mean, variance: n > 1 ? ss / (n - 1) : Number.NaN };
}

/** Sorts a column ascending in place: insertion sort for small groups (no calls, no allocation), the typed-array sort otherwise. */
export function sortColumn(col: Float64Array): void {
  const n = col.length;
  if (n > 32) {
    col.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = col[i];
    let j = i - 1;
    while (j >= 0 && col[j] > v) {
      col[j + 1] = col[j];
      j--;
    }
    col[j + 1] = v;
  }
}
