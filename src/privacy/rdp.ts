// Rényi-DP accountant for the (Poisson-)subsampled Gaussian mechanism.
//   Gaussian mechanism, sensitivity 1, noise σ: ε(α) = α/(2σ²)  (Mironov 2017, Prop. 7).
//   Subsampled with rate q: ε(α) = log(A_α)/(α − 1), A_α as in Mironov, Talwar & Zhang 2019,
//   "Rényi Differential Privacy of the Sampled Gaussian Mechanism", Sec. 3.3: a finite binomial
//   sum for integer α, two erfc-weighted series split at z0 = σ²·log(1/q − 1) + ½ otherwise.
//   T steps compose additively: T·ε(α).
//   (ε, δ) from RDP: ε = min_α ε(α) + log((α − 1)/α) − (log δ + log α)/(α − 1)
//   (Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP", Thm. 21).
import { logAdd, logErfc, logSub } from './log-math.js';

/** T uses of the Gaussian mechanism with noise multiplier σ (std / sensitivity), each on a q-sample. */
export interface GaussianSteps {
  /** Sampling rate in [0, 1] (1: every record/peer every step). */
  readonly q: number;
  /** σ: noise std divided by the L2 sensitivity. */
  readonly noiseMultiplier: number;
  readonly steps: number;
}

/** RDP orders searched by default: 1.1 … 10.9 in steps of 0.1, then 12 … 63, 128, 256. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
  128,
  256,
];

/** log A_α for integer α ≥ 2: Σ_k C(α,k)(1−q)^(α−k) q^k exp((k² − k)/(2σ²)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  let logBinom = 0; // log C(α, 0)
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinom += Math.log((alpha - k + 1) / k);
    const term = logBinom + k * Math.log(q) + (alpha - k) * Math.log1p(-q) + (k * k - k) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/** log A_α for fractional α > 1: the two series of Sec. 3.3, summed until their terms fall below e^−30. */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const s2 = Math.SQRT2 * sigma;
  let logBinom = 0; // log |C(α, k)|
  let sign = 1;
  // The terms decay geometrically once k passes α and z0; the cap only guards bad inputs.
  for (let k = 0; k < 100_000; k++) {
    if (k > 0) {
      const f = (alpha - k + 1) / k;
      if (f < 0) sign = -sign;
      logBinom += Math.log(Math.abs(f));
    }
    const j = alpha - k;
    const logT0 = logBinom + k * Math.log(q) + j * Math.log1p(-q);
    const logT1 = logBinom + j * Math.log(q) + k * Math.log1p(-q);
    const logE0 = Math.log(0.5) + logErfc((k - z0) / s2);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / s2);
    const logS0 = logT0 + (k * k - k) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP ε(α) of one step of the subsampled Gaussian mechanism (Infinity where it has none). */
export function rdpSampledGaussian(q: number, noiseMultiplier: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling rate q must be in [0, 1], got ${q}`);
  if (!(noiseMultiplier >= 0)) throw new RangeError(`noise multiplier must be ≥ 0, got ${noiseMultiplier}`);
  if (!(order > 1)) throw new RangeError(`RDP order must be > 1, got ${order}`);
  if (q === 0) return 0;
  if (noiseMultiplier === 0 || order === Infinity) return Infinity;
  if (q === 1) return order / (2 * noiseMultiplier * noiseMultiplier);
  const logA = Number.isInteger(order) ? logAInt(q, noiseMultiplier, order) : logAFrac(q, noiseMultiplier, order);
  return logA / (order - 1);
}

/** The composed RDP curve of several runs of steps, one value per order. */
export function composeRdp(parts: readonly GaussianSteps[], orders: readonly number[] = DEFAULT_ORDERS): Float64Array {
  const rdp = new Float64Array(orders.length);
  for (const p of parts) {
    if (!(Number.isInteger(p.steps) && p.steps >= 0)) throw new RangeError(`steps must be an integer ≥ 0, got ${p.steps}`);
    if (p.steps === 0) continue;
    orders.forEach((a, i) => (rdp[i] += p.steps * rdpSampledGaussian(p.q, p.noiseMultiplier, a)));
  }
  return rdp;
}

/** The (ε, δ) guarantee of an RDP curve: the best order's ε and that order. */
export function epsilonFromRdp(orders: readonly number[], rdp: ArrayLike<number>, delta: number): { epsilon: number; order: number } {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  if (orders.length !== rdp.length) throw new RangeError(`${orders.length} orders but ${rdp.length} RDP values`);
  let best = { epsilon: Infinity, order: Number.NaN };
  orders.forEach((a, i) => {
    const eps = rdp[i] + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** ε for a given δ after the mechanism runs described by `parts` (the whole run so far). */
export function privacySpent(parts: readonly GaussianSteps[], delta: number, orders: readonly number[] = DEFAULT_ORDERS): { epsilon: number; order: number } {
  return epsilonFromRdp(orders, composeRdp(parts, orders), delta);
}
