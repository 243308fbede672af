import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../src/data/dataset.js';
import { syntheticDataset, type SyntheticSpec } from '../../src/data/synthetic.js';
import { ConfigError } from '../../src/util/errors.js';

describe('synthetic datasets', () => {
  it('is deterministic per seed, with the configured shape', () => {
    for (const kind of ['clusters', 'teacher'] as const) {
      const spec: SyntheticSpec = { kind, n: 300, numClasses: 4, featureShape: [4, 4, 1], seed: 5 };
      const a = syntheticDataset(spec);
      const b = syntheticDataset(spec);
      const c = syntheticDataset({ ...spec, seed: 6 });
      expect(a.featureShape).toEqual([4, 4, 1]);
      expect(a.featureSize).toBe(16);
      expect(a.x.length).toBe(300 * 16);
      expect(b.x).toEqual(a.x);
      expect(b.y).toEqual(a.y);
      expect(c.x).not.toEqual(a.x);
    }
  });

  it('clusters: balanced labels, and well separated classes are found by nearest class mean', () => {
    const ds = syntheticDataset({ kind: 'clusters', n: 1003, numClasses: 5, featureShape: [10], seed: 1, separation: 3, noise: 1 });
    const counts = labelHistogram(ds.y, 5);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const d = ds.featureSize;
    const means = new Float64Array(5 * d);
    for (let i = 0; i < ds.n; i++) for (let j = 0; j < d; j++) means[ds.y[i] * d + j] += ds.x[i * d + j] / counts[ds.y[i]];
    let correct = 0;
    for (let i = 0; i < ds.n; i++) {
      let best = -1;
      let bestDist = Infinity;
      for (let k = 0; k < 5; k++) {
        let dist = 0;
        for (let j = 0; j < d; j++) dist += (ds.x[i * d + j] - means[k * d + j]) ** 2;
        if (dist < bestDist) [best, bestDist] = [k, dist];
      }
      if (best === ds.y[i]) correct++;
    }
    // Means ~N(0, 9·I) in 10 dimensions are ~13 apart against noise 1: near-perfect separation.
    expect(correct / ds.n).toBeGreaterThan(0.98);
  });

  it('teacher: inputs are standard normal, and label noise changes labels but not inputs', () => {
    const clean = syntheticDataset({ kind: 'teacher', n: 4000, numClasses: 10, featureShape: [8], seed: 2 });
    const noisy = syntheticDataset({ kind: 'teacher', n: 4000, numClasses: 10, featureShape: [8], seed: 2, labelNoise: 0.5 });
    expect(noisy.x).toEqual(clean.x);
    let mean = 0;
    let sq = 0;
    for (const v of clean.x) {
      mean += v / clean.x.length;
      sq += (v * v) / clean.x.length;
    }
    // 32,000 N(0,1) values: the standard error of the mean is 0.0056, of the variance 0.008.
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sq - mean * mean - 1)).toBeLessThan(0.04);
    // A replaced label differs with probability 0.5 · 9/10 = 0.45.
    let changed = 0;
    for (let i = 0; i < clean.n; i++) if (clean.y[i] !== noisy.y[i]) changed++;
    expect(Math.abs(changed / clean.n - 0.45)).toBeLessThan(0.04);
    expect(labelHistogram(clean.y, 10).filter((c) => c > 0).length).toBeGreaterThan(3);
  });

  it('rejects bad specs', () => {
    const base = { n: 10, numClasses: 3, featureShape: [2], seed: 0 };
    expect(() => syntheticDataset({ kind: 'clusters', ...base, n: 0 })).toThrow(ConfigError);
    expect(() => syntheticDataset({ kind: 'clusters', ...base, numClasses: 1 })).toThrow(/numClasses/);
    expect(() => syntheticDataset({ kind: 'clusters', ...base, featureShape: [2, 0] })).toThrow(/featureShape/);
    expect(() => syntheticDataset({ kind: 'clusters', ...base, noise: -1 })).toThrow(/noise/);
    expect(() => syntheticDataset({ kind: 'teacher', ...base, labelNoise: 2 })).toThrow(/labelNoise/);
    expect(() => syntheticDataset({ kind: 'other', ...base } as unknown as SyntheticSpec)).toThrow(/unknown synthetic dataset kind 'other'/);
  });
});
