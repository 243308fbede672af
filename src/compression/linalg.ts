// Small dense linear algebra for the low-rank methods. A layer is a row-major float32 matrix
// (rows × cols); factors (P: rows × r, Q: cols × r) are row-major float64, accumulated in
// float64 so that every peer, given the same inputs, computes the same bits.
import type { Rng } from '../util/rng.js';

/** P = G·Q: G is rows × cols (float32), Q is cols × r. */
export function mulRight(g: Float32Array, rows: number, cols: number, q: Float64Array, r: number): Float64Array {
  const p = new Float64Array(rows * r);
  const acc = new Float64Array(r);
  for (let i = 0; i < rows; i++) {
    acc.fill(0);
    const row = i * cols;
    for (let c = 0; c < cols; c++) {
      const x = g[row + c];
      if (x === 0) continue;
      const qo = c * r;
      for (let a = 0; a < r; a++) acc[a] += x * q[qo + a];
    }
    p.set(acc, i * r);
  }
  return p;
}

/** Q = Gᵀ·P: G is rows × cols (float32), P is rows × r; Q is cols × r. */
export function mulLeftTransposed(g: Float32Array, rows: number, cols: number, p: Float64Array, r: number): Float64Array {
  const q = new Float64Array(cols * r);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    const po = i * r;
    for (let c = 0; c < cols; c++) {
      const x = g[row + c];
      if (x === 0) continue;
      const qo = c * r;
      for (let a = 0; a < r; a++) q[qo + a] += x * p[po + a];
    }
  }
  return q;
}

/** out = P·Qᵀ (rows × cols) with P rows × r and Q cols × r. */
export function mulOuter(p: Float64Array, q: Float64Array, rows: number, cols: number, r: number, out: Float32Array): Float32Array {
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    const po = i * r;
    for (let c = 0; c < cols; c++) {
      let s = 0;
      const qo = c * r;
      for (let a = 0; a < r; a++) s += p[po + a] * q[qo + a];
      out[row + c] = s;
    }
  }
  return out;
}

/**
 * Orthonormalises the r columns of the row-major rows × r matrix in place (modified
 * Gram–Schmidt, two passes for stability). A column whose remainder is negligible (linearly
 * dependent on the earlier ones) becomes zero: it carries no direction of the data.
 */
export function orthonormalizeColumns(m: Float64Array, rows: number, r: number): Float64Array {
  for (let a = 0; a < r; a++) {
    let before = 0;
    for (let i = 0; i < rows; i++) before += m[i * r + a] ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < a; b++) {
        let d = 0;
        for (let i = 0; i < rows; i++) d += m[i * r + a] * m[i * r + b];
        if (d !== 0) for (let i = 0; i < rows; i++) m[i * r + a] -= d * m[i * r + b];
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += m[i * r + a] ** 2;
    const keep = norm > 1e-24 * Math.max(before, 1e-300) && norm > 0;
    const inv = keep ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < rows; i++) m[i * r + a] *= inv;
  }
  return m;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix (row-major) by cyclic Jacobi rotations.
 * Returns eigenvalues in descending order and the matching orthonormal eigenvectors as the
 * columns of a row-major n × n matrix. Deterministic; O(n³) per sweep, for small n.
 */
export function symmetricEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = input.slice();
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j] ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/** Gram matrix XᵀX (r × r) of a row-major rows × r matrix. */
export function gram(x: Float64Array, rows: number, r: number): Float64Array {
  const g = new Float64Array(r * r);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < r; a++) {
      const xa = x[i * r + a];
      for (let b = a; b < r; b++) g[a * r + b] += xa * x[i * r + b];
    }
  }
  for (let a = 0; a < r; a++) for (let b = 0; b < a; b++) g[a * r + b] = g[b * r + a];
  return g;
}

/** X·W for row-major X (rows × r) and W (r × s). */
export function mulSmall(x: Float64Array, rows: number, r: number, w: Float64Array, s: number): Float64Array {
  const out = new Float64Array(rows * s);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < r; a++) {
      const xa = x[i * r + a];
      for (let b = 0; b < s; b++) out[i * s + b] += xa * w[a * s + b];
    }
  }
  return out;
}

/** rows × r standard normal draws. */
export function gaussianMatrix(rng: Rng, rows: number, r: number): Float64Array {
  const z = new Float64Array(rows * r);
  for (let i = 0; i < z.length; i++) z[i] = rng.normal();
  return z;
}

/**
 * Top-r right singular vectors of G (rows × cols) as the columns of a cols × r matrix, by
 * subspace iteration from a seeded start and a Rayleigh–Ritz step. `iterations` power steps
 * of GᵀG; the columns come out orthonormal, ordered by singular value.
 */
export function topRightSingularVectors(g: Float32Array, rows: number, cols: number, r: number, rng: Rng, iterations = 12): Float64Array {
  let q = orthonormalizeColumns(gaussianMatrix(rng, cols, r), cols, r);
  for (let t = 0; t < iterations; t++) {
    const p = orthonormalizeColumns(mulRight(g, rows, cols, q, r), rows, r);
    q = orthonormalizeColumns(mulLeftTransposed(g, rows, cols, p, r), cols, r);
  }
  // Rayleigh–Ritz: rotate the basis so that its columns are the singular directions, largest first.
  const gq = mulRight(g, rows, cols, q, r);
  const { vectors } = symmetricEigen(gram(gq, rows, r), r);
  return mulSmall(q, cols, r, vectors, r);
}
