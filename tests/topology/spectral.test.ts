import { describe, expect, it } from 'vitest';
import { complete, exponential, exponentialHops, ring, torus } from '../../src/topology/generators.js';
import { randomRegular } from '../../src/topology/random-graphs.js';
import { spectralGap } from '../../src/topology/spectral.js';
import { metropolisHastings, uniformWeights } from '../../src/topology/weights.js';

describe('spectral gap', () => {
  it('ring with MH weights: 1 − SLEM = 2/3·(1 − cos(2π/n)) to 1e-9', () => {
    for (const n of [3, 4, 5, 6, 10, 17, 64, 101, 400]) {
      const s = spectralGap(metropolisHastings(ring(n)));
      expect(s.method).toBe('symmetric-eigen');
      // For even n the most negative eigenvalue, 1/3 − 2/3 = −1/3, never beats λ2.
      expect(Math.abs(s.spectralGap - (2 / 3) * (1 - Math.cos((2 * Math.PI) / n)))).toBeLessThan(1e-9);
    }
  });

  it('complete graph: gap 1 (W = J)', () => {
    for (const n of [2, 5, 33]) expect(Math.abs(spectralGap(metropolisHastings(complete(n))).spectralGap - 1)).toBeLessThan(1e-12);
  });

  it('torus: SLEM of MH = 1/5 + 2/5·(cos(2π/r) + cos(2π/c)) maximised over non-zero frequencies', () => {
    const r = 4;
    const c = 6;
    let slem = 0;
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < c; b++) {
        if (a === 0 && b === 0) continue;
        slem = Math.max(slem, Math.abs(0.2 + 0.4 * (Math.cos((2 * Math.PI * a) / r) + Math.cos((2 * Math.PI * b) / c))));
      }
    }
    expect(spectralGap(metropolisHastings(torus(24, 4))).slem).toBeCloseTo(slem, 12);
  });

  it('exponential graph: the norm bound equals the SLEM (W is circulant, hence normal)', () => {
    for (const n of [8, 12, 16, 21]) {
      const tau = exponentialHops(n);
      let slem = 0;
      for (let k = 1; k < n; k++) {
        let re = 1;
        let im = 0;
        for (let j = 0; j < tau; j++) {
          re += Math.cos((2 * Math.PI * k * 2 ** j) / n);
          im += Math.sin((2 * Math.PI * k * 2 ** j) / n);
        }
        slem = Math.max(slem, Math.hypot(re, im) / (tau + 1));
      }
      const s = spectralGap(uniformWeights(exponential(n)));
      expect(s.method).toBe('norm-exact');
      expect(s.slem).toBeCloseTo(slem, 12);
    }
  });

  it('Lanczos agrees with the exact methods', () => {
    const w = metropolisHastings(randomRegular(300, 6, 4));
    const exact = spectralGap(w);
    const lanczos = spectralGap(w, { exactLimit: 0 });
    expect(lanczos.method).toBe('symmetric-lanczos');
    expect(lanczos.converged).toBe(true);
    expect(Math.abs(lanczos.slem - exact.slem)).toBeLessThan(1e-9);
    const e = uniformWeights(exponential(100));
    const norm = spectralGap(e, { exactLimit: 0 });
    expect(norm.method).toBe('norm-lanczos');
    expect(Math.abs(norm.slem - spectralGap(e).slem)).toBeLessThan(1e-9);
    // A ring's eigenvalues cluster near 1, the hard case; within the default cap it still lands.
    const r = spectralGap(metropolisHastings(ring(200)), { exactLimit: 0 });
    expect(Math.abs(r.spectralGap - (2 / 3) * (1 - Math.cos((2 * Math.PI) / 200)))).toBeLessThan(1e-9);
  });

  it('Lanczos reports a capped run as not converged, with a lower bound', () => {
    const w = metropolisHastings(ring(2000));
    const capped = spectralGap(w, { exactLimit: 0, maxSteps: 10 });
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(10);
    expect(capped.slem).toBeLessThanOrEqual(1 / 3 + (2 / 3) * Math.cos((2 * Math.PI) / 2000) + 1e-12);
  });

  it('a disconnected graph has gap 0', () => {
    const twoRings = metropolisHastings({ n: 6, directed: false, adj: [[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]].map((l) => Uint32Array.from(l)) });
    expect(Math.abs(spectralGap(twoRings).spectralGap)).toBeLessThan(1e-12);
  });
});
