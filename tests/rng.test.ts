import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/rng.js';

describe('Rng', () => {
  it('is reproducible from a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('int(n) is uniform enough: chi-square over 10 bins', () => {
    const r = new Rng(1);
    const counts = new Array(10).fill(0);
    const N = 100_000;
    for (let i = 0; i < N; i++) counts[r.int(10)]++;
    const chi2 = counts.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
    expect(chi2).toBeLessThan(27.88); // p = 0.001, 9 degrees of freedom
  });

  it('normal() has mean 0 and variance 1', () => {
    const r = new Rng(7);
    const N = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < N; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / N)).toBeLessThan(0.01);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.02);
  });

  it('gamma(k) has mean k, dirichlet sums to one', () => {
    const r = new Rng(3);
    for (const k of [0.1, 0.5, 2, 9]) {
      let s = 0;
      const N = 50_000;
      for (let i = 0; i < N; i++) s += r.gamma(k);
      expect(Math.abs(s / N - k) / k).toBeLessThan(0.05);
    }
    const p = r.dirichlet(0.3, 10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('sample(n, k) returns k distinct values in range', () => {
    const r = new Rng(5);
    for (const [n, k] of [[100, 3], [100, 90], [10, 10]]) {
      const s = r.sample(n, k);
      expect(new Set(s).size).toBe(k);
      expect(Math.max(...s)).toBeLessThan(n);
    }
  });
});
