import { describe, expect, it } from 'vitest';
import { isDoublyStochastic, isRowStochastic, isSymmetric } from '../../src/topology/analysis.js';
import { ring } from '../../src/topology/generators.js';
import { hasEdge } from '../../src/topology/graph.js';
import { metropolisHastings } from '../../src/topology/weights.js';
import { randomRegular } from '../../src/topology/random-graphs.js';
import { cycleTopologies, onePeerExponential, randomMatching, randomPull, staticTopology } from '../../src/topology/schedules.js';
import { denseProduct, productContraction } from '../../src/topology/spectral.js';

describe('one-peer exponential', () => {
  it.each([8, 16, 64])('n = %i: any log2 n consecutive rounds multiply to exact averaging', (n) => {
    const top = onePeerExponential(n);
    const tau = Math.log2(n);
    expect(top.period).toBe(tau);
    for (const start of [0, 1, tau - 1, 5 * tau + 2]) {
      const p = denseProduct(Array.from({ length: tau }, (_, t) => top.at(start + t)));
      for (const x of p) expect(x).toBe(1 / n); // halves of powers of two: no rounding at all
    }
  });

  it('is doubly stochastic each round with ½ on self and on i + 2^(t mod τ)', () => {
    const top = onePeerExponential(12);
    for (let t = 0; t < 8; t++) {
      const w = top.at(t);
      expect(isDoublyStochastic(w)).toBe(true);
      expect(w.row(5).self).toBe(0.5);
      expect(Array.from(w.row(5).peers)).toEqual([(5 + 2 ** (t % 4)) % 12]);
    }
  });

  it('does not average exactly when n is not a power of two', () => {
    const top = onePeerExponential(12);
    expect(productContraction(Array.from({ length: 4 }, (_, t) => top.at(t))).contraction).toBeGreaterThan(0.1);
  });
});

describe('random matching', () => {
  it('pairs every peer each round (one sits out when n is odd), symmetric and doubly stochastic', () => {
    for (const n of [10, 11]) {
      const top = randomMatching(n, 7);
      for (let t = 0; t < 5; t++) {
        const w = top.at(t);
        expect(isSymmetric(w)).toBe(true);
        expect(isDoublyStochastic(w)).toBe(true);
        const alone = Array.from({ length: n }, (_, i) => i).filter((i) => w.row(i).peers.length === 0);
        expect(alone.length).toBe(n % 2);
      }
    }
  });

  it('on a base graph uses only its edges, as a maximal matching', () => {
    const base = randomRegular(30, 3, 2);
    const w = randomMatching(30, 1, base).at(4);
    const free: number[] = [];
    for (let i = 0; i < 30; i++) {
      const p = w.row(i).peers;
      if (p.length === 0) free.push(i);
      else expect(hasEdge(base, i, p[0])).toBe(true);
    }
    for (const a of free) for (const b of free) expect(hasEdge(base, a, b)).toBe(false); // maximal
  });

  it('draws round t the same whatever rounds were asked before', () => {
    const a = randomMatching(20, 3);
    const b = randomMatching(20, 3);
    for (let t = 0; t < 6; t++) a.at(t);
    expect(Array.from(a.at(9).dense())).toEqual(Array.from(b.at(9).dense()));
    expect(Array.from(a.at(9).dense())).not.toEqual(Array.from(a.at(8).dense()));
  });
});

describe('random-r pull', () => {
  it('averages self plus ⌊r⌋ others, plus one more with probability r − ⌊r⌋; row-stochastic only', () => {
    const n = 200;
    const top = randomPull(n, 1.25, 5);
    let extra = 0;
    let rows = 0;
    let doubly = 0;
    for (let t = 0; t < 20; t++) {
      const w = top.at(t);
      expect(isRowStochastic(w)).toBe(true);
      if (isDoublyStochastic(w)) doubly++;
      for (let i = 0; i < n; i++) {
        const r = w.row(i);
        const ok = (r.peers.length === 1 || r.peers.length === 2) && r.self === 1 / (r.peers.length + 1) && !r.peers.includes(i);
        if (!ok) expect.fail(`round ${t} peer ${i}: self ${r.self}, peers ${Array.from(r.peers)}`);
        if (r.peers.length === 2) extra++;
        rows++;
      }
    }
    expect(doubly).toBe(0);
    // 4000 Bernoulli(0.25) draws: mean 1000, sd ≈ 27.
    expect(Math.abs(extra - 0.25 * rows)).toBeLessThan(5 * Math.sqrt(rows * 0.25 * 0.75));
  });

  it('r = n − 1 pulls everyone: exact averaging in one round', () => {
    const w = randomPull(9, 8, 0).at(3);
    for (const x of w.dense()) expect(x).toBeCloseTo(1 / 9, 15);
  });

  it('restricted to a base graph pulls only neighbours (all of them when r exceeds the degree)', () => {
    const base = ring(12);
    const w = randomPull(12, 0.5, 1, base).at(2);
    for (let i = 0; i < 12; i++) for (const j of w.row(i).peers) expect(hasEdge(base, i, j)).toBe(true);
    const all = randomPull(12, 5, 1, base).at(0);
    for (let i = 0; i < 12; i++) expect(Array.from(all.row(i).peers)).toEqual(Array.from(base.adj[i]));
  });

  it('rejects r outside [0, n − 1]', () => {
    expect(() => randomPull(5, 5, 0)).toThrow(/\[0, 4\]/);
    expect(() => randomPull(5, -0.1, 0)).toThrow(/\[0, 4\]/);
  });
});

describe('cycle', () => {
  it('alternates parts, each at its own round, with period L·lcm(periods)', () => {
    const ringTop = staticTopology('ring', metropolisHastings(ring(8)));
    const exp = onePeerExponential(8);
    const c = cycleTopologies([ringTop, exp]);
    expect(c.period).toBe(6);
    expect(c.at(0)).toBe(ringTop.at(0));
    expect(c.at(1)).toBe(exp.at(0));
    expect(c.at(3)).toBe(exp.at(1));
    expect(c.at(5)).toBe(exp.at(2));
    expect(cycleTopologies([ringTop, randomPull(8, 1, 0)]).period).toBeUndefined();
    expect(() => cycleTopologies([ringTop, onePeerExponential(4)])).toThrow(/same peer count/);
  });
});
