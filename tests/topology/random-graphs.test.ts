import { describe, expect, it } from 'vitest';
import { edgesOf, isGraphConnected, type Graph } from '../../src/topology/graph.js';
import { erdosRenyi, randomRegular, wattsStrogatz } from '../../src/topology/random-graphs.js';
import { ConfigError } from '../../src/util/errors.js';

/** No self-loops, no repeats, and symmetric adjacency. */
function expectSimpleUndirected(g: Graph): void {
  const bad: string[] = [];
  for (let i = 0; i < g.n; i++) {
    const l = g.adj[i];
    for (let k = 0; k < l.length; k++) {
      if (l[k] === i) bad.push(`self-loop at ${i}`);
      if (k > 0 && l[k] <= l[k - 1]) bad.push(`unsorted or repeated neighbours of ${i}`);
      if (!g.adj[l[k]].includes(i)) bad.push(`${i}→${l[k]} without ${l[k]}→${i}`);
    }
  }
  expect(bad).toEqual([]);
}

describe('random regular', () => {
  it('is simple, d-regular and connected, for small and large degrees', () => {
    for (const [n, d, seed] of [[50, 8, 1], [51, 4, 2], [30, 2, 3], [20, 15, 4], [20, 19, 5], [2, 1, 6], [100, 3, 7]]) {
      const g = randomRegular(n, d, seed);
      expectSimpleUndirected(g);
      expect(g.adj.every((l) => l.length === d)).toBe(true);
      expect(isGraphConnected(g)).toBe(true);
    }
  });

  it('same seed, same graph; another seed, another graph', () => {
    expect(edgesOf(randomRegular(200, 8, 11))).toEqual(edgesOf(randomRegular(200, 8, 11)));
    expect(edgesOf(randomRegular(200, 8, 11))).not.toEqual(edgesOf(randomRegular(200, 8, 12)));
  });

  it('rejects degrees that cannot make a connected regular graph', () => {
    expect(() => randomRegular(9, 3, 0)).toThrow(/is odd/);
    expect(() => randomRegular(10, 10, 0)).toThrow(/\[1, 9\]/);
    expect(() => randomRegular(10, 0, 0)).toThrow(ConfigError);
    expect(() => randomRegular(10, 2.5, 0)).toThrow(ConfigError);
    expect(() => randomRegular(10, 1, 0)).toThrow(/never connected/);
  });
});

describe('Erdős–Rényi', () => {
  it('draws connected graphs, reproducibly, with about p·n(n−1)/2 edges', () => {
    const g = erdosRenyi(400, 0.05, 3);
    expectSimpleUndirected(g);
    expect(isGraphConnected(g)).toBe(true);
    const m = edgesOf(g).length;
    const mean = 0.05 * 400 * 399 / 2;
    expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(mean)); // 5 standard deviations
    expect(edgesOf(erdosRenyi(400, 0.05, 3))).toEqual(edgesOf(g));
    expect(edgesOf(erdosRenyi(6, 1, 0)).length).toBe(15);
  });

  it('fails at once, naming a workable p, when connectivity is hopeless', () => {
    expect(() => erdosRenyi(1000, 0.001, 0)).toThrow(/hopeless; use p ≥ 0\.00/);
    expect(() => erdosRenyi(10, 0, 0)).toThrow(/\(0, 1\]/);
    expect(() => erdosRenyi(10, 1.5, 0)).toThrow(ConfigError);
  });
});

describe('Watts–Strogatz', () => {
  it('keeps n·k/2 edges, stays simple and connected; beta = 0 is the ring lattice', () => {
    const g = wattsStrogatz(100, 6, 0.3, 5);
    expectSimpleUndirected(g);
    expect(edgesOf(g).length).toBe(300);
    expect(isGraphConnected(g)).toBe(true);
    const lattice = wattsStrogatz(10, 4, 0, 0);
    for (let i = 0; i < 10; i++) expect(Array.from(lattice.adj[i])).toEqual([i - 2, i - 1, i + 1, i + 2].map((j) => (j + 10) % 10).sort((a, b) => a - b));
    expect(edgesOf(wattsStrogatz(100, 6, 0.3, 5))).toEqual(edgesOf(g));
  });

  it('rejects odd or out-of-range k and beta', () => {
    expect(() => wattsStrogatz(10, 3, 0.1, 0)).toThrow(/even/);
    expect(() => wattsStrogatz(10, 10, 0.1, 0)).toThrow(ConfigError);
    expect(() => wattsStrogatz(10, 4, 2, 0)).toThrow(/\[0, 1\]/);
  });
});
