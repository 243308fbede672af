import { describe, expect, it } from 'vitest';
import { isColumnStochastic, isDoublyStochastic, isRowStochastic, isSymmetric } from '../../src/topology/analysis.js';
import { complete, exponential, grid, ring, star, torus } from '../../src/topology/generators.js';
import { graphFromPairs, type Graph } from '../../src/topology/graph.js';
import { mixingFromDense, mixingFromRows } from '../../src/topology/mixing.js';
import { erdosRenyi, randomRegular, wattsStrogatz } from '../../src/topology/random-graphs.js';
import { metropolisHastings, uniformWeights, userWeights, weightBetween } from '../../src/topology/weights.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

const undirected: Array<[string, Graph]> = [
  ['ring', ring(11)],
  ['torus', torus(12)],
  ['grid', grid(15)],
  ['complete', complete(6)],
  ['star', star(10)],
  ['random-regular', randomRegular(40, 5, 1)],
  ['erdos-renyi', erdosRenyi(60, 0.1, 2)],
  ['watts-strogatz', wattsStrogatz(40, 4, 0.5, 3)],
];

describe('Metropolis–Hastings weights', () => {
  it.each(undirected)('%s: symmetric and doubly stochastic, W_ij = 1/(1 + max(d_i, d_j))', (_name, g) => {
    const w = metropolisHastings(g);
    expect(isSymmetric(w)).toBe(true);
    expect(isDoublyStochastic(w)).toBe(true);
    for (let i = 0; i < g.n; i++) {
      for (const j of g.adj[i]) expect(weightBetween(w, i, j)).toBe(1 / (1 + Math.max(g.adj[i].length, g.adj[j].length)));
    }
  });

  it('gives exactly 1/3 everywhere on a ring', () => {
    const d = metropolisHastings(ring(5)).dense();
    for (let i = 0; i < 5; i++) for (const j of [i, (i + 1) % 5, (i + 4) % 5]) expect(d[i * 5 + j]).toBeCloseTo(1 / 3, 15);
  });

  it('refuses a directed graph', () => {
    expect(() => metropolisHastings(exponential(8))).toThrow(ConfigError);
  });
});

describe('uniform weights', () => {
  it('1/(deg+1) on self and neighbours: row-stochastic always, doubly stochastic on regular graphs only', () => {
    const s = uniformWeights(star(5));
    expect(s.row(0).self).toBe(1 / 5);
    expect(Array.from(s.row(3).weights)).toEqual([1 / 2]);
    expect(isRowStochastic(s)).toBe(true);
    expect(isColumnStochastic(s)).toBe(false);
    expect(isDoublyStochastic(uniformWeights(exponential(16)))).toBe(true);
    expect(isDoublyStochastic(uniformWeights(exponential(13)))).toBe(true); // circulant
    expect(isSymmetric(uniformWeights(exponential(13)))).toBe(false);
  });
});

describe('user weights', () => {
  const path = graphFromPairs(3, [0, 1], [1, 2], false);
  it('uses the given W_ij = W_ji and fills W_ii = 1 − Σ', () => {
    const w = userWeights(path, (i, j) => (i === 0 && j === 1 ? 0.25 : 0.5));
    expect(Array.from(w.dense())).toEqual([0.75, 0.25, 0, 0.25, 0.25, 0.5, 0, 0.5, 0.5]);
    expect(isDoublyStochastic(w)).toBe(true);
  });
  it('rejects rows over 1 and weights outside (0, 1]', () => {
    expect(() => userWeights(path, () => 0.6)).toThrow(/peer 1: its edge weights sum to 1\.2/);
    expect(() => userWeights(path, () => 0)).toThrow(InputError);
  });
});

describe('mixing matrices', () => {
  it('answer rows and out-neighbours consistently with the dense matrix', () => {
    const w = uniformWeights(exponential(10));
    const d = w.dense();
    for (let i = 0; i < 10; i++) {
      const r = w.row(i);
      expect(d[i * 10 + i]).toBe(r.self);
      r.peers.forEach((j, k) => expect(d[i * 10 + j]).toBe(r.weights[k]));
      const outs = Array.from({ length: 10 }, (_, j) => j).filter((j) => j !== i && d[j * 10 + i] !== 0);
      expect(Array.from(w.outNeighbours(i))).toEqual(outs);
    }
    expect(() => w.row(10)).toThrow(RangeError);
  });

  it('round-trip through dense form; reject bad rows', () => {
    const w = metropolisHastings(grid(6));
    expect(Array.from(mixingFromDense(6, w.dense()).dense())).toEqual(Array.from(w.dense()));
    expect(() => mixingFromRows(3, (i) => ({ self: 0.5, peers: [i], weights: [0.5] }))).toThrow(/itself/);
    expect(() => mixingFromRows(3, () => ({ self: 0.5, peers: [1, 1], weights: [0.25, 0.25] }))).toThrow(/twice/);
    expect(() => mixingFromRows(3, () => ({ self: 0.5, peers: [5], weights: [0.5] }))).toThrow(/out of range/);
  });
});
