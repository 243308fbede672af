import { describe, expect, it } from 'vitest';
import { varianceCorrected, type TargetVariance } from '../../src/aggregation/index.js';
import { makeLayout, tensorView, type Params } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import { contrib, randomParams, values, vec } from './helpers.js';

/** Mean and unbiased variance in float64, independent of the implementation under test. */
function stats(x: Float32Array): { mean: number; variance: number } {
  const xs = Array.from(x);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, variance: xs.reduce((a, v) => a + (v - mean) ** 2, 0) / (xs.length - 1) };
}

const f32 = (xs: number[]) => xs.map((v) => Math.fround(v));

const layout = makeLayout([
  { name: 'w', shape: [2, 2], role: 'weight' },
  { name: 'b', shape: [1], role: 'bias' },
  { name: 'bn', shape: [2], role: 'norm' },
]);
const own = vec(layout, [4, 4, 4, 4, 1, 1, 1]);
const other = vec(layout, [-2, 2, 6, 10, 3, 3, 5]);

describe('variance-corrected averaging, by hand', () => {
  // W̄ = ½·[4,4,4,4] + ½·[−2,2,6,10] = [1,3,5,7]: mean 4, Var 20/3. Var(other) = 80/3, Var(own) = 0.

  it("'follow-others' rescales to the received variance: s = sqrt(80/3 ÷ 20/3) = 2", () => {
    const out = varianceCorrected({ epsilon: 0 })(own, [contrib('o', other)]);
    // w: 4 + 2·([1,3,5,7] − 4); b: averaged 2, not rescaled (one element); bn: averaged, not rescaled (norm).
    expect(values(out)).toEqual([-2, 2, 6, 10, 2, 2, 3]);
  });

  it("'own' keeps the own variance (0 here): every weight collapses to the mean", () => {
    const out = varianceCorrected({ epsilon: 0, targetVariance: 'own' })(own, [contrib('o', other)]);
    expect(values(out)).toEqual([4, 4, 4, 4, 2, 2, 3]);
  });

  it("'mix' targets c·Var(own) + (1−c)·Var(others): s = sqrt(40/3 ÷ 20/3) = √2", () => {
    const out = varianceCorrected({ epsilon: 0, targetVariance: 'mix' })(own, [contrib('o', other)]);
    const r = Math.SQRT2;
    expect(values(out)).toEqual(f32([4 - 3 * r, 4 - r, 4 + r, 4 + 3 * r, 2, 2, 3]));
  });

  it('self weight c moves W̄ towards own, and ε = 1e-4 regularises the ratio', () => {
    const out = varianceCorrected({ selfWeight: 0.75 })(own, [contrib('o', other)]);
    // W̄ = ¾·4 + ¼·[−2,2,6,10] = [2.5, 3.5, 4.5, 5.5]: mean 4, Var 5/3.
    const s = Math.sqrt((80 / 3 + 1e-4) / (5 / 3 + 1e-4));
    expect(values(out)).toEqual(f32([4 - 1.5 * s, 4 - 0.5 * s, 4 + 0.5 * s, 4 + 1.5 * s, 1.5, 1.5, 2]));
  });

  it('uses the unbiased variance, which matters where ε is not negligible', () => {
    const own64 = vec(layout, [4, 4, 4, 4, 1, 1, 1].map((v) => v / 64));
    const other64 = vec(layout, [-2, 2, 6, 10, 3, 3, 5].map((v) => v / 64));
    const out = varianceCorrected()(own64, [contrib('o', other64)]);
    // Var(W̄) = (20/3)/4096, σ² = (80/3)/4096: both near ε = 1e-4.
    const s = Math.sqrt((80 / 3 / 4096 + 1e-4) / (20 / 3 / 4096 + 1e-4));
    const want = [1, 3, 5, 7].map((v) => (4 + s * (v - 4)) / 64);
    want.forEach((v, k) => expect(out.data[k]).toBeCloseTo(v, 7));
  });

  it('with no contribution returns own unchanged', () => {
    expect(values(varianceCorrected()(own, []))).toEqual(values(own));
  });
});

describe('variance-corrected averaging, properties', () => {
  const big = makeLayout([
    { name: 'conv', shape: [8, 3, 3, 3], role: 'weight' },
    { name: 'conv.b', shape: [8], role: 'bias' },
    { name: 'fc', shape: [64, 10], role: 'weight' },
    { name: 'fc.b', shape: [10], role: 'bias' },
    { name: 'scale', shape: [1], role: 'weight' },
    { name: 'bn.mean', shape: [10], role: 'norm' },
  ]);
  const rng = new Rng(42);
  // Independently initialised models with different spreads and offsets.
  const mine = randomParams(big, rng, 0.8, 0.1);
  const others = Array.from({ length: 5 }, (_, j) => randomParams(big, rng, 0.5 + 0.3 * j, -0.05 * j));
  const received = others.map((p, j) => contrib(`p${j}`, p, 1 + j));
  const c = 0.3;

  function targetOf(mode: TargetVariance, spec: (typeof big.tensors)[number]): number {
    const ownVar = stats(tensorView(mine, spec)).variance;
    const othersVar = others.reduce((a, p) => a + stats(tensorView(p, spec)).variance, 0) / others.length;
    return mode === 'own' ? ownVar : mode === 'mix' ? c * ownVar + (1 - c) * othersVar : othersVar;
  }

  /** W̄ of one tensor, in float64. */
  function averaged(spec: (typeof big.tensors)[number]): number[] {
    const x = tensorView(mine, spec);
    return Array.from(x, (v, k) => c * v + ((1 - c) * others.reduce((a, p) => a + tensorView(p, spec)[k], 0)) / others.length);
  }

  for (const mode of ['follow-others', 'mix', 'own'] as const) {
    it(`'${mode}': every rescaled tensor has the target variance (1e-6 relative) and the averaged mean`, () => {
      const out = varianceCorrected({ selfWeight: c, targetVariance: mode, epsilon: 0 })(mine, received);
      for (const spec of big.tensors) {
        const got = tensorView(out, spec);
        const avg = averaged(spec);
        const avgMean = avg.reduce((a, b) => a + b, 0) / avg.length;
        if (spec.size === 1 || spec.role === 'norm') {
          avg.forEach((v, k) => expect(got[k]).toBeCloseTo(v, 6));
          continue;
        }
        const s = stats(got);
        expect(Math.abs(s.variance / targetOf(mode, spec) - 1)).toBeLessThan(1e-6);
        expect(Math.abs(s.mean - avgMean)).toBeLessThan(1e-6 * Math.sqrt(s.variance));
      }
    });
  }

  it('with ε = 1e-4 the variance is Var(W̄)·(σ² + ε)/(Var(W̄) + ε)', () => {
    const eps = 1e-4;
    const out = varianceCorrected({ selfWeight: c })(mine, received);
    for (const spec of big.tensors.filter((t) => t.size > 1 && t.role !== 'norm')) {
      const avg = averaged(spec);
      const m = avg.reduce((a, b) => a + b, 0) / avg.length;
      const avgVar = avg.reduce((a, v) => a + (v - m) ** 2, 0) / (avg.length - 1);
      const want = (avgVar * (targetOf('follow-others', spec) + eps)) / (avgVar + eps);
      expect(Math.abs(stats(tensorView(out, spec)).variance / want - 1)).toBeLessThan(1e-6);
    }
  });

  it('is the identity, bit for bit, when every input is the same model (zeros included)', () => {
    const x: Params = randomParams(big, rng, 0.7, 0.2);
    x.data.fill(0, 5, 40);
    const copies = [1, 2, 3].map((j) => contrib(`p${j}`, { layout: big, data: x.data.slice() }, j));
    for (const mode of ['follow-others', 'mix', 'own'] as const) {
      for (const selfWeight of [0, 0.3, 0.5, 1]) {
        const out = varianceCorrected({ selfWeight, targetVariance: mode })(x, copies);
        expect(Buffer.from(out.data.buffer).equals(Buffer.from(x.data.buffer))).toBe(true);
      }
    }
  });
});
