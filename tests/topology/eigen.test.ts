import { describe, expect, it } from 'vitest';
import { symmetricEigenvalues } from '../../src/topology/eigen.js';
import { Rng } from '../../src/util/rng.js';

/** Q·diag(d)·Qᵀ for a product of random Householder reflections Q: eigenvalues exactly d. */
function withEigenvalues(d: number[], seed: number): Float64Array {
  const n = d.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = d[i];
  const rng = new Rng(seed);
  for (let rep = 0; rep < 3; rep++) {
    const u = Float64Array.from({ length: n }, () => rng.normal());
    const uu = u.reduce((s, x) => s + x * x, 0);
    // a ← H a H with H = I − 2uuᵀ/uᵀu
    const au = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) au[i] += a[i * n + j] * u[j];
    const uau = u.reduce((s, x, i) => s + x * au[i], 0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        a[i * n + j] += (-2 * (au[i] * u[j] + u[i] * au[j])) / uu + (4 * uau * u[i] * u[j]) / (uu * uu);
      }
    }
  }
  return a;
}

describe('symmetricEigenvalues', () => {
  it('recovers the spectrum of a rotated diagonal matrix', () => {
    const d = [-3, -1, -1, 0, 0.5, 2, 2, 2, 7, 11, 1e-9, 4];
    const got = symmetricEigenvalues(withEigenvalues(d, 3), d.length);
    const want = [...d].sort((x, y) => x - y);
    for (let k = 0; k < d.length; k++) expect(got[k]).toBeCloseTo(want[k], 12);
  });

  it('handles rows that need no reflection next to rows that do', () => {
    const d = [1, -2, 3, 0.5, 4, -1, 2, 6];
    const inner = withEigenvalues(d, 5);
    const n = 10; // [inner 8×8] ⊕ [7] ⊕ [−9]: the last two rows are already reduced
    const a = new Float64Array(n * n);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) a[i * n + j] = inner[i * 8 + j];
    a[8 * n + 8] = 7;
    a[9 * n + 9] = -9;
    const got = symmetricEigenvalues(a, n);
    const want = [...d, 7, -9].sort((x, y) => x - y);
    for (let k = 0; k < n; k++) expect(got[k]).toBeCloseTo(want[k], 12);
  });

  it('matches the closed form of a tridiagonal Toeplitz matrix, a + 2b·cos(kπ/(n+1))', () => {
    const n = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 0.3;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -0.7;
    }
    const got = symmetricEigenvalues(a, n);
    const want = Array.from({ length: n }, (_, k) => 0.3 - 1.4 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((x, y) => x - y);
    for (let k = 0; k < n; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-13);
  });

  it('keeps trace and Frobenius norm of a dense random matrix', () => {
    const n = 120;
    const rng = new Rng(9);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    let trace = 0;
    let fro = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    for (const x of a) fro += x * x;
    const ev = symmetricEigenvalues(a, n, { copy: true });
    expect(ev.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 10);
    expect(ev.reduce((s, x) => s + x * x, 0) / fro).toBeCloseTo(1, 12);
  });

  it('reads only the lower triangle and handles n = 1 and 2', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(5), 1))).toEqual([5]);
    const two = symmetricEigenvalues(Float64Array.of(2, 999, 1, 2), 2); // upper entry ignored
    expect(two[0]).toBeCloseTo(1, 15);
    expect(two[1]).toBeCloseTo(3, 15);
  });

  it('does not touch its input with copy: true', () => {
    const a = withEigenvalues([1, 2, 3, 4], 1);
    const before = a.slice();
    symmetricEigenvalues(a, 4, { copy: true });
    expect(a).toEqual(before);
  });
});
