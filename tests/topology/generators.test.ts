import { describe, expect, it } from 'vitest';
import { complete, exponential, exponentialHops, grid, ring, star, torus } from '../../src/topology/generators.js';
import { edgeCount, edgesOf, hasEdge, isGraphConnected, type Graph } from '../../src/topology/graph.js';
import { ConfigError } from '../../src/util/errors.js';

const degrees = (g: Graph) => g.adj.map((l) => l.length);

describe('deterministic graphs', () => {
  it('ring: n edges, every peer linked to i±1; n = 2 is one edge', () => {
    const g = ring(7);
    expect(edgeCount(g)).toBe(7);
    for (let i = 0; i < 7; i++) expect(Array.from(g.adj[i])).toEqual([(i + 6) % 7, (i + 1) % 7].sort((a, b) => a - b));
    expect(edgesOf(ring(2))).toEqual([[0, 1]]);
  });

  it('torus: 4-regular with 2n edges on a 4×5 layout; rows default to the most square one', () => {
    const g = torus(20);
    expect(degrees(g).every((d) => d === 4)).toBe(true);
    expect(edgeCount(g)).toBe(40);
    expect(hasEdge(g, 0, 4)).toBe(true); // wrap-around along a row of 5
    expect(hasEdge(g, 0, 15)).toBe(true); // wrap-around along a column of 4
    expect(edgeCount(torus(20, 2))).toBe(30); // 2 rows: up and down are the same neighbour
  });

  it('grid: corners 2, sides 3, inside 4 neighbours', () => {
    const g = grid(12, 3); // 3 × 4
    expect(degrees(g).sort()).toEqual([2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4]);
    expect(edgeCount(g)).toBe(3 * 3 + 2 * 4);
  });

  it('complete and star', () => {
    expect(edgeCount(complete(9))).toBe(36);
    const s = star(9);
    expect(degrees(s)).toEqual([8, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('exponential: i hears from i + 2^j for j < ⌈log2 n⌉, directed', () => {
    expect([2, 3, 4, 5, 8, 9, 1024, 1025].map(exponentialHops)).toEqual([1, 2, 2, 3, 3, 4, 10, 11]);
    const g = exponential(12);
    expect(g.directed).toBe(true);
    expect(Array.from(g.adj[3])).toEqual([4, 5, 7, 11]);
    expect(edgeCount(g)).toBe(48);
  });

  it('every generated graph is connected', () => {
    for (const n of [2, 3, 4, 9, 16, 30]) {
      for (const g of [ring(n), complete(n), star(n), exponential(n)]) expect(isGraphConnected(g)).toBe(true);
    }
    for (const n of [4, 6, 9, 12, 30]) {
      expect(isGraphConnected(torus(n))).toBe(true);
      expect(isGraphConnected(grid(n))).toBe(true);
    }
  });

  it('rejects fewer than two peers and impossible lattices with a ConfigError', () => {
    expect(() => ring(1)).toThrow(ConfigError);
    expect(() => complete(1.5)).toThrow(/integer ≥ 2/);
    expect(() => torus(13)).toThrow(/prime/);
    expect(() => grid(12, 5)).toThrow(/rows=5/);
    expect(() => torus(12, 12)).toThrow(ConfigError);
  });
});
