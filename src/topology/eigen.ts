// Eigenvalues of a dense real symmetric matrix: Householder reduction to tridiagonal form,
// then the implicit QL iteration with Wilkinson-style shifts. Eigenvalues only (no vectors),
// so the reduction costs about 4/3·n³ flops and the QL phase O(n²).
//
// Why our own kernel: the spectral gap of a mixing matrix is asked for at every `topology`
// call and in the simulator's reports; pulling in a linear-algebra package for one routine on
// plain Float64Arrays is not worth a dependency.

/**
 * All eigenvalues of the symmetric n×n matrix `a` (row-major), ascending.
 * Only the lower triangle of `a` is read. `a` is used as scratch unless `copy` is true.
 */
export function symmetricEigenvalues(a: Float64Array, n: number, options: { copy?: boolean } = {}): Float64Array {
  if (a.length < n * n) throw new RangeError(`symmetricEigenvalues: matrix has ${a.length} entries, need ${n}×${n}`);
  const work = options.copy ? a.slice(0, n * n) : a;
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(0, n - 1));
  tridiagonalize(work, n, diag, off);
  tridiagonalQL(diag, off);
  return diag.sort();
}

/**
 * Householder reduction of the lower triangle of `a` (row-major n×n) to a tridiagonal matrix
 * with diagonal `diag` and off-diagonal `off` (off[i] couples i and i+1). Works from the last
 * row up, so that the still-active block is always the leading one and every inner loop runs
 * over contiguous memory (the start of a row).
 *
 * Step i reflects x = a[i, 0..i−1] onto its last coordinate with H = I − β·v·vᵀ and applies
 * A ← H·A·H to the leading i×i block as the rank-2 update A − v·wᵀ − w·vᵀ, where p = β·A·v
 * and w = p − (β/2)(vᵀp)·v. The update is memory-bound, so it is fused with the next step's
 * product A·v': the block's last row is updated first, the next reflector is built from it,
 * and the remaining rows are updated and multiplied by v' in the same pass.
 */
export function tridiagonalize(a: Float64Array, n: number, diag: Float64Array, off: Float64Array): void {
  if (n <= 0) return;
  let v = new Float64Array(n);
  let p = new Float64Array(n);
  let vNext = new Float64Array(n);
  let pNext = new Float64Array(n);
  let beta = n >= 3 ? reflector(a, n, n - 1, v, diag, off) : 0;
  if (beta !== 0) blockTimesVector(a, n, n - 1, v, p);
  for (let i = n - 1; i >= 2; i--) {
    const m = i; // size of the active block
    const hasNext = i - 1 >= 2;
    let betaNext = 0;
    if (beta === 0) {
      // Row i needed no reflection, the block is unchanged: the next product is a plain one.
      if (hasNext) {
        betaNext = reflector(a, n, i - 1, vNext, diag, off);
        if (betaNext !== 0) blockTimesVector(a, n, i - 1, vNext, pNext);
      }
    } else {
      let vp = 0;
      for (let k = 0; k < m; k++) {
        p[k] *= beta;
        vp += v[k] * p[k];
      }
      const half = 0.5 * beta * vp;
      for (let k = 0; k < m; k++) p[k] -= half * v[k]; // p now holds w
      const last = (m - 1) * n;
      const vl = v[m - 1];
      const wl = p[m - 1];
      for (let c = 0; c < m; c++) a[last + c] -= vl * p[c] + wl * v[c];
      if (hasNext) betaNext = reflector(a, n, i - 1, vNext, diag, off);
      if (betaNext !== 0) {
        pNext.fill(0, 0, m - 1);
        updateAndMultiply(a, n, m - 1, v, p, vNext, pNext);
      } else {
        for (let r = 0; r < m - 1; r++) {
          const rowR = r * n;
          const vr = v[r];
          const wr = p[r];
          for (let c = 0; c <= r; c++) a[rowR + c] -= vr * p[c] + wr * v[c];
        }
      }
    }
    [v, vNext] = [vNext, v];
    [p, pNext] = [pNext, p];
    beta = betaNext;
  }
  if (n >= 2) {
    diag[1] = a[n + 1];
    off[0] = a[n];
  }
  diag[0] = a[0];
}

/**
 * For the leading `rows` rows (lower triangle): a ← a − v·wᵀ − w·vᵀ, and pNext += a_new·u
 * (reading the updated block as symmetric). Two rows per pass, so each load of w[c], v[c] and
 * u[c] and each update of pNext[c] serves both rows: the loop is bound by memory traffic.
 */
function updateAndMultiply(
  a: Float64Array,
  n: number,
  rows: number,
  v: Float64Array,
  w: Float64Array,
  u: Float64Array,
  pNext: Float64Array,
): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const row0 = r * n;
    const row1 = row0 + n;
    const v0 = v[r];
    const w0 = w[r];
    const u0 = u[r];
    const v1 = v[r + 1];
    const w1 = w[r + 1];
    const u1 = u[r + 1];
    let acc0 = 0;
    let acc1 = 0;
    for (let c = 0; c < r; c++) {
      const wc = w[c];
      const vc = v[c];
      const uc = u[c];
      const x0 = a[row0 + c] - (v0 * wc + w0 * vc);
      const x1 = a[row1 + c] - (v1 * wc + w1 * vc);
      a[row0 + c] = x0;
      a[row1 + c] = x1;
      acc0 += x0 * uc;
      acc1 += x1 * uc;
      pNext[c] += x0 * u0 + x1 * u1;
    }
    // The 2×2 corner: diagonal of row r, entry (r+1, r), diagonal of row r+1.
    const d0 = a[row0 + r] - 2 * v0 * w0;
    a[row0 + r] = d0;
    const x = a[row1 + r] - (v1 * w[r] + w1 * v[r]);
    a[row1 + r] = x;
    const d1 = a[row1 + r + 1] - 2 * v1 * w1;
    a[row1 + r + 1] = d1;
    pNext[r] += acc0 + d0 * u0 + x * u1;
    pNext[r + 1] += acc1 + x * u0 + d1 * u1;
  }
  if (r < rows) {
    const row0 = r * n;
    const v0 = v[r];
    const w0 = w[r];
    const u0 = u[r];
    let acc = 0;
    for (let c = 0; c < r; c++) {
      const x0 = a[row0 + c] - (v0 * w[c] + w0 * v[c]);
      a[row0 + c] = x0;
      acc += x0 * u[c];
      pNext[c] += x0 * u0;
    }
    const d0 = a[row0 + r] - 2 * v0 * w0;
    a[row0 + r] = d0;
    pNext[r] += acc + d0 * u0;
  }
}

/**
 * Householder vector for row i: reads x = a[i, 0..i−1], records diag[i] and off[i−1] (the
 * value x is reflected to), fills v[0..i−1] and returns β, or 0 when x already has nothing
 * but its last entry.
 */
function reflector(a: Float64Array, n: number, i: number, v: Float64Array, diag: Float64Array, off: Float64Array): number {
  const rowI = i * n;
  diag[i] = a[rowI + i];
  let sigma2 = 0;
  for (let k = 0; k < i; k++) sigma2 += a[rowI + k] * a[rowI + k];
  const xLast = a[rowI + i - 1];
  const sigma = Math.sqrt(sigma2);
  if (sigma === 0 || sigma === Math.abs(xLast)) {
    off[i - 1] = xLast;
    return 0;
  }
  // H maps x to α·e_last; the sign of α avoids cancellation in v_last = x_last − α.
  const alpha = xLast >= 0 ? -sigma : sigma;
  for (let k = 0; k < i - 1; k++) v[k] = a[rowI + k];
  v[i - 1] = xLast - alpha;
  off[i - 1] = alpha;
  return 1 / (sigma2 - alpha * xLast);
}

/**
 * p = A·v over the leading m×m block, reading only its lower triangle: each stored a[r][c]
 * (c < r) contributes to p[r] and p[c], so both reads stay inside row r.
 */
function blockTimesVector(a: Float64Array, n: number, m: number, v: Float64Array, p: Float64Array): void {
  p.fill(0, 0, m);
  for (let r = 0; r < m; r++) {
    const rowR = r * n;
    const vr = v[r];
    let acc = 0;
    for (let c = 0; c < r; c++) {
      const x = a[rowR + c];
      acc += x * v[c];
      p[c] += x * vr;
    }
    p[r] += acc + a[rowR + r] * vr;
  }
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (diag, off) by the implicit QL method with
 * shifts; overwrites `diag` with the (unsorted) eigenvalues and destroys `off`.
 */
export function tridiagonalQL(diag: Float64Array, off: Float64Array): void {
  const n = diag.length;
  const e = new Float64Array(n); // e[i] couples i and i+1; e[n−1] = 0 as a sentinel
  e.set(off.subarray(0, Math.max(0, n - 1)));
  const maxSweeps = 60;
  for (let l = 0; l < n; l++) {
    let sweeps = 0;
    for (;;) {
      // Find the first negligible off-diagonal at or after l: the block l..m splits off.
      let m = l;
      while (m < n - 1) {
        const dd = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
        m++;
      }
      if (m === l) break;
      if (++sweeps > maxSweeps) throw new Error(`tridiagonal QL did not converge for eigenvalue ${l} of ${n}`);
      // Shift from the leading 2×2 block, toward the eigenvalue nearer diag[l].
      let g = (diag[l + 1] - diag[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let underflow = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Exact deflation inside the sweep: undo the partial update and restart the search.
          diag[i + 1] -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - p;
        r = (diag[i] - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
      }
      if (underflow) continue;
      diag[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
