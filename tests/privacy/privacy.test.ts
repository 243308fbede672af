import { describe, expect, it } from 'vitest';
import {
  addGaussianNoise,
  centralNoiseStd,
  clipUpdate,
  composeRdp,
  epsilonFromRdp,
  l2Norm,
  privacySpent,
  privatizeUpdate,
  rdpSampledGaussian,
  runPrivacy,
} from '../../src/privacy/index.js';
import { Rng } from '../../src/util/rng.js';

describe('clipping', () => {
  it('scales an update to norm C and leaves a smaller one as it is', () => {
    const c = clipUpdate(Float32Array.from([3, 4]), 1); // ‖u‖ = 5 → × 1/5
    expect(c.norm).toBe(5);
    expect(c.scale).toBe(0.2);
    expect(Array.from(c.update)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const small = clipUpdate(Float32Array.from([0.3, 0.4]), 1);
    expect(small.scale).toBe(1);
    expect(Array.from(small.update)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    expect(clipUpdate(new Float32Array(3), 1).scale).toBe(1);
    expect(() => clipUpdate(new Float32Array(1), 0)).toThrow(/clip norm/);
  });
});

describe('Gaussian noise', () => {
  it('is seeded, has the requested spread, and local DP clips before noising', () => {
    const zero = new Float32Array(20_000);
    const a = addGaussianNoise(zero, 0.5, new Rng(4));
    expect(Array.from(addGaussianNoise(zero, 0.5, new Rng(4)))).toEqual(Array.from(a));
    let s = 0;
    let ss = 0;
    for (const v of a) {
      s += v;
      ss += v * v;
    }
    expect(Math.abs(s / a.length)).toBeLessThan(0.02); // 4 standard errors of the mean
    expect(Math.sqrt(ss / a.length)).toBeCloseTo(0.5, 1);
    // σ = 0: privatizing is clipping alone.
    expect(Array.from(privatizeUpdate(Float32Array.from([6, 8]), 5, 0, new Rng(1)))).toEqual([3, 4]);
    const noisy = privatizeUpdate(Float32Array.from([6, 8]), 5, 1, new Rng(1));
    expect(l2Norm(noisy)).not.toBe(5);
    expect(centralNoiseStd(2, 1.5, 10)).toBeCloseTo(0.3, 12); // σ·C/m
  });
});

describe('RDP accountant', () => {
  it('gives the Gaussian mechanism α/(2σ²) without sampling (Mironov 2017, Prop. 7)', () => {
    expect(rdpSampledGaussian(1, 2, 3)).toBe(3 / 8);
    expect(rdpSampledGaussian(1, 0.5, 10.5)).toBe(21);
    expect(rdpSampledGaussian(0, 1, 5)).toBe(0);
    expect(rdpSampledGaussian(0.1, 0, 5)).toBe(Infinity);
  });

  it('sums the binomial expansion exactly at integer orders (α = 2, by hand)', () => {
    // A_2 = (1−q)² + 2q(1−q) + q²·e^(1/σ²) = 1 + q²(e^(1/σ²) − 1); ε(2) = log A_2.
    const q = 0.1;
    const sigma = 1.5;
    expect(rdpSampledGaussian(q, sigma, 2)).toBeCloseTo(Math.log(1 + q * q * (Math.exp(1 / (sigma * sigma)) - 1)), 14);
  });

  it('agrees between the integer sum and the fractional series next to an integer order', () => {
    for (const [q, sigma] of [[0.01, 1], [0.04, 1.5], [0.2, 0.8], [0.5, 3]]) {
      for (const a of [2, 4, 9, 32]) {
        const int = rdpSampledGaussian(q, sigma, a);
        const frac = rdpSampledGaussian(q, sigma, a + 1e-7);
        expect(Math.abs(frac - int) / int).toBeLessThan(1e-4);
      }
    }
  });

  it('matches Opacus\' published RDP test value: σ = 1.5, q = 0.04, 2250 steps, δ = 1e-5 → ε = 7.32911117143', () => {
    // The orders Opacus searches by default: 1.1 … 10.9 (step 0.1) and 12 … 63.
    const orders = [...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10), ...Array.from({ length: 52 }, (_, x) => 12 + x)];
    const { epsilon, order } = privacySpent([{ q: 0.04, noiseMultiplier: 1.5, steps: 2250 }], 1e-5, orders);
    expect(epsilon).toBeCloseTo(7.32911117143, 9);
    expect(order).toBeCloseTo(3.9, 12);
  });

  it('is within the moments accountant\'s bound of Abadi et al. 2016 (q = 0.01, σ = 4, T = 10⁴, δ = 1e-5: ε ≈ 1.26)', () => {
    const { epsilon } = privacySpent([{ q: 0.01, noiseMultiplier: 4, steps: 10_000 }], 1e-5);
    expect(epsilon).toBeLessThan(1.26);
    expect(epsilon).toBeGreaterThan(0.9);
  });

  it('composes additively, grows with steps and shrinks with noise', () => {
    const orders = [2, 4, 8];
    const one = composeRdp([{ q: 0.1, noiseMultiplier: 1, steps: 1 }], orders);
    const split = composeRdp([{ q: 0.1, noiseMultiplier: 1, steps: 30 }, { q: 0.1, noiseMultiplier: 1, steps: 70 }], orders);
    one.forEach((v, i) => expect(split[i]).toBeCloseTo(100 * v, 10));
    const eps = (steps: number, sigma: number) => privacySpent([{ q: 0.1, noiseMultiplier: sigma, steps }], 1e-5).epsilon;
    expect(eps(200, 1)).toBeGreaterThan(eps(100, 1));
    expect(eps(100, 2)).toBeLessThan(eps(100, 1));
    expect(epsilonFromRdp([2], [0], 0.5).epsilon).toBe(0); // never below 0
    expect(() => epsilonFromRdp([2], [1], 0)).toThrow(/delta/);
  });

  it('accounts a run: central uses the participation rate, local the replacement sensitivity 2C', () => {
    const spec = { clipNorm: 1, noiseMultiplier: 2, delta: 1e-5 };
    const central = runPrivacy({ ...spec, mode: 'central' }, 50, 0.1);
    expect(central.epsilon).toBeCloseTo(privacySpent([{ q: 0.1, noiseMultiplier: 2, steps: 50 }], 1e-5).epsilon, 12);
    const local = runPrivacy({ ...spec, mode: 'local' }, 50);
    // q = 1, σ/2 = 1: ε(α) = 50·α/2, so ε = min_α 25α + log((α−1)/α) − (log δ + log α)/(α − 1).
    const byHand = Math.min(...[1.5, 2, 3, 4].map((a) => 25 * a + Math.log((a - 1) / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1)));
    expect(local.epsilon).toBeLessThanOrEqual(byHand);
    expect(local.epsilon).toBeGreaterThan(50);
  });
});

describe('log erfc', () => {
  it('follows erfc past its underflow (asymptotic series from x = 20) and on the negative side', async () => {
    const { logErfc } = await import('../../src/privacy/log-math.js');
    expect(logErfc(25)).toBeCloseTo(Math.log(8.300172571196523e-274), 8); // erfc(25), cephes
    expect(logErfc(200)).toBeLessThan(-40_000);
    expect(logErfc(-30)).toBe(Math.log(2));
    expect(logErfc(-1)).toBeCloseTo(Math.log(1.8427007929497148), 12);
  });
});
