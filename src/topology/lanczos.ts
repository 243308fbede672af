// The largest-magnitude eigenvalue of a big sparse symmetric operator, by Lanczos with full
// reorthogonalisation. Where a dense eigen solve is too costly (n above the exact limit), this
// needs tens to a few hundred operator applications where power iteration needs thousands:
// the extreme Ritz values of the Krylov space converge much faster than ‖Aᵏx‖^(1/k).
import { tridiagonalQL } from './eigen.js';
import { Rng } from '../util/rng.js';

export interface LanczosOptions {
  /** Relative change of the estimate between checks that counts as converged (default 1e-12). */
  readonly tolerance?: number;
  /** Cap on Krylov steps (default min(n, 300, 5·10⁷/n): the basis is kept in memory). */
  readonly maxSteps?: number;
}

export interface LanczosResult {
  /** max |θ| over the Ritz values: a lower bound on max|λ| that tightens with each step. */
  readonly magnitude: number;
  readonly steps: number;
  /** Whether the estimate settled (or the Krylov space became invariant) before the cap. */
  readonly converged: boolean;
}

const CHECK_EVERY = 5;

/**
 * max|λ| of a symmetric operator, started from a seeded random vector passed through `start`
 * (e.g. to project out the consensus direction; `apply` must keep its output in that subspace).
 */
export function largestMagnitudeEigenvalue(
  n: number,
  apply: (x: Float64Array, out: Float64Array) => void,
  start: (x: Float64Array) => void,
  options: LanczosOptions = {},
): LanczosResult {
  const tolerance = options.tolerance ?? 1e-12;
  const maxSteps = Math.max(1, Math.min(n, options.maxSteps ?? Math.min(300, Math.floor(5e7 / n))));
  const rng = new Rng(0x1a2c);
  let q = Float64Array.from({ length: n }, () => rng.normal());
  start(q);
  if (normalise(q) === 0) return { magnitude: 0, steps: 0, converged: true };
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let estimate = 0;
  let previous = Number.NaN;
  let scale = 0;
  for (let step = 1; step <= maxSteps; step++) {
    basis.push(q);
    const z = new Float64Array(n);
    apply(q, z);
    const a = dot(q, z);
    alpha.push(a);
    scale = Math.max(scale, Math.abs(a));
    // Orthogonalise against the whole basis (this also removes the α·q_j and β·q_{j−1} terms
    // of the three-term recurrence); repeat once when cancellation was severe.
    let before = norm(z);
    for (let pass = 0; pass < 2; pass++) {
      for (const v of basis) axpy(-dot(v, z), v, z);
      const after = norm(z);
      if (after > 0.7 * before) break;
      before = after;
    }
    const b = norm(z);
    scale = Math.max(scale, b);
    const invariant = b <= 1e-13 * scale;
    if (invariant || step % CHECK_EVERY === 0 || step === maxSteps) {
      estimate = ritzMagnitude(alpha, beta);
      if (invariant || Math.abs(estimate - previous) <= tolerance * estimate) return { magnitude: estimate, steps: step, converged: true };
      previous = estimate;
    }
    beta.push(b);
    for (let i = 0; i < n; i++) z[i] /= b;
    q = z;
  }
  return { magnitude: estimate, steps: maxSteps, converged: false };
}

/** max |θ| of the tridiagonal matrix with diagonal alpha and off-diagonal beta. */
function ritzMagnitude(alpha: number[], beta: number[]): number {
  const d = Float64Array.from(alpha);
  tridiagonalQL(d, Float64Array.from(beta.slice(0, alpha.length - 1)));
  let m = 0;
  for (const x of d) m = Math.max(m, Math.abs(x));
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

function axpy(c: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += c * x[i];
}

function normalise(x: Float64Array): number {
  const s = norm(x);
  if (s > 0) for (let i = 0; i < x.length; i++) x[i] /= s;
  return s;
}
