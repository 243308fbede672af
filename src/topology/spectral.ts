// How fast gossip with W reaches consensus: the second-largest eigenvalue modulus (SLEM) of W
// and the spectral gap 1 − SLEM; for time-varying schedules, the per-round rate of the product
// over a period.
//
// Everything is measured on the disagreement operator A = (I − J)·W·(I − J), J = 11ᵀ/n. Since
// W1 = 1, A's eigenvalues are W's with the consensus eigenvalue 1 replaced by 0, so
//   - W symmetric: A is symmetric and SLEM = max|λ(A)| exactly ('symmetric-eigen': Householder
//     + QL for n ≤ exactLimit; 'symmetric-lanczos': Lanczos on sparse W above);
//   - otherwise: we report ‖A‖₂ = sqrt(λmax(AᵀA)), which bounds the SLEM from above and is the
//     worst one-step shrink factor of the distance to the mean ('norm-exact' / 'norm-lanczos').
//     For normal W (e.g. circulants such as the exponential graph) the bound is the SLEM.
import { symmetricEigenvalues } from './eigen.js';
import { largestMagnitudeEigenvalue, type LanczosOptions } from './lanczos.js';
import { binarySearch } from './graph.js';
import type { SparseMixing } from './mixing.js';

/** How a spectral quantity was computed: dense exact or Lanczos, on W or on a norm. */
export type SpectralMethod = 'symmetric-eigen' | 'symmetric-lanczos' | 'norm-exact' | 'norm-lanczos';

/** The SLEM and spectral gap of a mixing matrix, with how they were computed. */
export interface SpectralResult {
  /** Second-largest eigenvalue modulus (an upper bound on it for the norm methods). */
  readonly slem: number;
  /** 1 − slem. */
  readonly spectralGap: number;
  readonly method: SpectralMethod;
  /** Lanczos steps taken (0 for the exact methods). */
  readonly iterations: number;
  /**
   * false when Lanczos hit its step cap first; slem is then a lower bound of the value the
   * method reports (in practice a close one: extreme Ritz values converge first).
   */
  readonly converged: boolean;
}

/** Tuning for the spectral computations: when to switch from exact to iterative methods. */
export interface SpectralOptions extends LanczosOptions {
  /** Largest n solved with a dense exact method (default 2000; 1000 for products of rounds). */
  readonly exactLimit?: number;
}

/** Largest peer count solved with a dense exact method by default. */
export const DEFAULT_EXACT_LIMIT = 2000;

/** SLEM and spectral gap of one mixing matrix. */
export function spectralGap(w: SparseMixing, options: SpectralOptions = {}): SpectralResult {
  const n = w.n;
  const exactLimit = options.exactLimit ?? DEFAULT_EXACT_LIMIT;
  const symmetric = isSymmetricMatrix(w);
  if (n <= exactLimit) {
    if (symmetric) {
      const a = w.dense();
      doubleCentre(a, n);
      return result(maxAbs(symmetricEigenvalues(a, n)), 'symmetric-eigen', 0);
    }
    return result(Math.sqrt(Math.max(0, maxOf(symmetricEigenvalues(centredGramOfSparse(w), n)))), 'norm-exact', 0);
  }
  const op = operatorOf([w]);
  return symmetric ? lanczosSymmetric(op, options) : lanczosNorm(op, options);
}

/** A linear map given by its action and its transpose's action. */
export interface LinearOperator {
  readonly n: number;
  /** out = A·x. */
  apply(x: Float64Array, out: Float64Array): void;
  /** out = Aᵀ·x. */
  applyTranspose(x: Float64Array, out: Float64Array): void;
}

/** The product W_{k−1}·…·W_0 of a sequence of rounds (round 0 applied first). */
export function operatorOf(rounds: readonly SparseMixing[]): LinearOperator {
  const n = rounds[0].n;
  const tmp = new Float64Array(n);
  return {
    n,
    apply(x, out) {
      out.set(x);
      for (const w of rounds) {
        w.multiply(out, tmp);
        out.set(tmp);
      }
    },
    applyTranspose(x, out) {
      out.set(x);
      for (let k = rounds.length - 1; k >= 0; k--) {
        rounds[k].multiplyTranspose(out, tmp);
        out.set(tmp);
      }
    },
  };
}

/** The dense product W_{k−1}·…·W_0 (row-major), built by sparse-times-dense steps. */
export function denseProduct(rounds: readonly SparseMixing[]): Float64Array {
  const n = rounds[0].n;
  let p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) p[i * n + i] = 1;
  let next = new Float64Array(n * n);
  for (const w of rounds) {
    // next = W·p: row i of next = W_ii·p_i + Σ_j W_ij·p_j.
    for (let i = 0; i < n; i++) {
      const dst = i * n;
      const s = w.selfWeights[i];
      for (let c = 0; c < n; c++) next[dst + c] = s * p[dst + c];
      for (let k = w.rowStart[i]; k < w.rowStart[i + 1]; k++) {
        const x = w.vals[k];
        const src = w.cols[k] * n;
        for (let c = 0; c < n; c++) next[dst + c] += x * p[src + c];
      }
    }
    [p, next] = [next, p];
  }
  return p;
}

/** How much a product of mixing rounds contracts disagreement, overall and per round. */
export interface ProductContraction {
  /** ‖(I − J)·P·(I − J)‖₂ for the product P of the rounds. */
  readonly contraction: number;
  readonly method: 'norm-exact' | 'norm-lanczos';
  readonly iterations: number;
  readonly converged: boolean;
}

/** Largest n for which the product is formed densely and solved exactly (its Gram costs n³). */
export const DEFAULT_PRODUCT_EXACT_LIMIT = 1000;

/** The worst-case shrink of the distance to the mean over a sequence of rounds. */
export function productContraction(rounds: readonly SparseMixing[], options: SpectralOptions = {}): ProductContraction {
  const n = rounds[0].n;
  if (n <= (options.exactLimit ?? DEFAULT_PRODUCT_EXACT_LIMIT)) {
    const a = denseProduct(rounds);
    doubleCentre(a, n);
    const gram = gramDense(a, n);
    return { contraction: Math.sqrt(Math.max(0, maxOf(symmetricEigenvalues(gram, n)))), method: 'norm-exact', iterations: 0, converged: true };
  }
  const r = lanczosNorm(operatorOf(rounds), options);
  return { contraction: r.slem, method: 'norm-lanczos', iterations: r.iterations, converged: r.converged };
}

function result(slem: number, method: SpectralMethod, iterations: number, converged = true): SpectralResult {
  return { slem, spectralGap: 1 - slem, method, iterations, converged };
}

/** Whether W_ij = W_ji for every stored entry (to 1e-12). */
export function isSymmetricMatrix(w: SparseMixing, tolerance = 1e-12): boolean {
  for (let i = 0; i < w.n; i++) {
    const row = w.row(i);
    const back = w.outNeighbours(i);
    if (back.length !== row.peers.length) return false;
    for (let k = 0; k < row.peers.length; k++) {
      const j = row.peers[k];
      if (back[k] !== j) return false; // both ascending: the in- and out-lists must coincide
      const rj = w.row(j);
      if (Math.abs(rj.weights[binarySearch(rj.peers, i)] - row.weights[k]) > tolerance) return false;
    }
  }
  return true;
}

/** a ← (I − J)·a·(I − J) in place: subtract row means and column means, add back the grand mean. */
export function doubleCentre(a: Float64Array, n: number): void {
  const rowMean = new Float64Array(n);
  const colMean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const x = a[i * n + j];
      s += x;
      colMean[j] += x;
    }
    rowMean[i] = s / n;
    total += s;
  }
  const grand = total / (n * n);
  for (let j = 0; j < n; j++) colMean[j] /= n;
  for (let i = 0; i < n; i++) {
    const base = i * n;
    const ri = rowMean[i] - grand;
    for (let j = 0; j < n; j++) a[base + j] -= ri + colMean[j];
  }
}

/**
 * AᵀA for A = (I − J)W(I − J) from sparse W without forming a dense product:
 * AᵀA = (I − J)·(WᵀW − c·cᵀ/n)·(I − J), c = Wᵀ1, and WᵀW accumulates row by row in
 * Σ_i nnz_i² steps.
 */
function centredGramOfSparse(w: SparseMixing): Float64Array {
  const n = w.n;
  const g = new Float64Array(n * n);
  const colSum = new Float64Array(n);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    idx.length = 0;
    val.length = 0;
    idx.push(i);
    val.push(w.selfWeights[i]);
    for (let k = w.rowStart[i]; k < w.rowStart[i + 1]; k++) {
      idx.push(w.cols[k]);
      val.push(w.vals[k]);
    }
    for (let a = 0; a < idx.length; a++) {
      colSum[idx[a]] += val[a];
      const base = idx[a] * n;
      for (let b = 0; b < idx.length; b++) g[base + idx[b]] += val[a] * val[b];
    }
  }
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) g[j * n + k] -= (colSum[j] * colSum[k]) / n;
  doubleCentre(g, n);
  return g;
}

/** AᵀA of a dense row-major A (rows of A streamed, so every inner loop is contiguous). */
function gramDense(a: Float64Array, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const row = r * n;
    for (let j = 0; j < n; j++) {
      const x = a[row + j];
      if (x === 0) continue;
      const dst = j * n;
      for (let k = 0; k <= j; k++) g[dst + k] += x * a[row + k]; // lower triangle is all the solver reads
    }
  }
  return g;
}

function maxAbs(xs: Float64Array): number {
  let m = 0;
  for (const x of xs) m = Math.max(m, Math.abs(x));
  return m;
}

function maxOf(xs: Float64Array): number {
  let m = -Infinity;
  for (const x of xs) m = Math.max(m, x);
  return m;
}

function centre(x: Float64Array): void {
  let s = 0;
  for (const v of x) s += v;
  const mean = s / x.length;
  for (let i = 0; i < x.length; i++) x[i] -= mean;
}

/** max|λ| of A = (I − J)W(I − J) for symmetric W, by Lanczos on A restricted to 1⊥. */
function lanczosSymmetric(op: LinearOperator, options: SpectralOptions): SpectralResult {
  const r = largestMagnitudeEigenvalue(
    op.n,
    (x, y) => {
      op.apply(x, y);
      centre(y);
    },
    centre,
    options,
  );
  return result(r.magnitude, 'symmetric-lanczos', r.steps, r.converged);
}

/** ‖A‖₂ = sqrt(λmax(AᵀA)), by Lanczos on AᵀA restricted to 1⊥. */
function lanczosNorm(op: LinearOperator, options: SpectralOptions): SpectralResult {
  const tmp = new Float64Array(op.n);
  const r = largestMagnitudeEigenvalue(
    op.n,
    (x, y) => {
      op.apply(x, tmp);
      centre(tmp);
      op.applyTranspose(tmp, y);
      centre(y);
    },
    centre,
    options,
  );
  return result(Math.sqrt(r.magnitude), 'norm-lanczos', r.steps, r.converged);
}
