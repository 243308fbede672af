// Log-space helpers for the accountant: sums of terms far beyond float64 range.
import cephes from 'cephes';

// cephes runs as WebAssembly; its functions are usable once the module compiled.
await cephes.compiled;

/** log(e^a + e^b) without overflow. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log(e^a − e^b) for a ≥ b (−Infinity when equal). */
export function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) throw new RangeError('logSub: the result would be negative');
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}

/**
 * log erfc(x) accurate far past where erfc underflows: cephes' erfc for |x| below 20, the
 * asymptotic series erfc(x) ≈ e^(−x²)/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶)) above
 * (its first omitted term is below 1e-10 relative there).
 */
export function logErfc(x: number): number {
  // cephes raises an underflow error for x < −26, where erfc(x) = 2 − erfc(−x) is 2 to double precision.
  if (x < 0) return Math.log(2 - (x > -20 ? cephes.erfc(-x) : 0));
  if (x < 20) return Math.log(cephes.erfc(x));
  const inv = 1 / (x * x);
  const series = 1 - inv / 2 + (3 * inv * inv) / 4 - (15 * inv * inv * inv) / 8;
  return -x * x - Math.log(x * Math.sqrt(Math.PI)) + Math.log(series);
}
