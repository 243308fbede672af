import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConnectedOver, isDoublyStochastic, isRowStochastic, isSymmetric, summarizeTopology } from '../../src/topology/analysis.js';
import { buildTopology, parseTopologySpec, TOPOLOGY_NAMES, type TopologySpec } from '../../src/topology/spec.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

/** One config per topology name (the edge-list one inline). */
const specs: TopologySpec[] = [
  { name: 'ring', peers: 9 },
  { name: 'torus', peers: 12 },
  { name: 'grid', peers: 12, rows: 3, weights: 'uniform' },
  { name: 'complete', peers: 6 },
  { name: 'star', peers: 7 },
  { name: 'exponential', peers: 10 },
  { name: 'random-regular', peers: 30, degree: 4, seed: 1 },
  { name: 'erdos-renyi', peers: 40, p: 0.15, seed: 2 },
  { name: 'watts-strogatz', peers: 30, degree: 4, beta: 0.3, seed: 3 },
  { name: 'edge-list', edges: [[0, 1], [1, 2], [2, 3], [3, 0], [0, 2]] },
  { name: 'one-peer-exponential', peers: 16 },
  { name: 'matching', peers: 10, seed: 4 },
  { name: 'pull', peers: 20, r: 1.5, seed: 5, base: { name: 'random-regular', degree: 6 } },
  { name: 'cycle', peers: 8, of: [{ name: 'ring' }, { name: 'one-peer-exponential' }] },
];

describe('buildTopology', () => {
  it('covers every name', () => {
    expect(new Set(specs.map((s) => s.name))).toEqual(new Set(TOPOLOGY_NAMES));
  });

  it.each(specs.map((s) => [s.name, s] as const))('%s: every round is row-stochastic and the rounds connect all peers', (_name, spec) => {
    const top = buildTopology(spec);
    const rounds = Array.from({ length: 8 }, (_, t) => top.at(t));
    for (const w of rounds) expect(isRowStochastic(w)).toBe(true);
    expect(isConnectedOver(rounds)).toBe(true);
  });

  it('static graphs with MH weights are symmetric and doubly stochastic; pull is not doubly stochastic', () => {
    for (const spec of specs.filter((s) => ['ring', 'torus', 'complete', 'star', 'random-regular', 'erdos-renyi', 'watts-strogatz', 'edge-list'].includes(s.name))) {
      const w = buildTopology(spec).at(0);
      expect(isSymmetric(w)).toBe(true);
      expect(isDoublyStochastic(w)).toBe(true);
    }
    const pull = summarizeTopology(buildTopology({ name: 'pull', peers: 30, r: 1, seed: 0 }));
    expect(pull.rowStochastic).toBe(true);
    expect(pull.doublyStochastic).toBe(false);
  });

  it('same seed, same topology; the build seed fills in a missing spec seed', () => {
    const dense = (spec: TopologySpec, seed?: number) => Array.from(buildTopology(spec, { seed }).at(3).dense());
    const rr: TopologySpec = { name: 'random-regular', peers: 40, degree: 4 };
    expect(dense(rr, 5)).toEqual(dense(rr, 5));
    expect(dense(rr, 5)).toEqual(dense({ ...rr, seed: 5 }, 99));
    expect(dense(rr, 5)).not.toEqual(dense(rr, 6));
    const er: TopologySpec = { name: 'erdos-renyi', peers: 40, p: 0.2, seed: 1 };
    expect(dense(er)).toEqual(dense(er));
    const pull: TopologySpec = { name: 'pull', peers: 40, r: 0.5, seed: 1 };
    expect(dense(pull)).toEqual(dense(pull));
    // A base graph keeps its own seed when it has one, so the schedule's seed can vary alone.
    const baseOf = (spec: TopologySpec) => buildTopology(spec).graph!.adj.map((l) => Array.from(l));
    const onBase = (seed: number, baseSeed?: number): TopologySpec => ({ name: 'pull', peers: 40, r: 1, seed, base: { name: 'random-regular', degree: 4, seed: baseSeed } });
    expect(baseOf(onBase(1, 7))).toEqual(baseOf(onBase(2, 7)));
    expect(baseOf(onBase(1))).not.toEqual(baseOf(onBase(2)));
  });

  it('reads an edge-list file relative to baseDir, with or without weights', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gossipfl-topo-'));
    try {
      writeFileSync(join(dir, 'w.txt'), '0 1 0.5\n1 2 0.25\n');
      const w = buildTopology({ name: 'edge-list', path: 'w.txt' }, { baseDir: dir }).at(0);
      expect(Array.from(w.dense())).toEqual([0.5, 0.5, 0, 0.5, 0.25, 0.25, 0, 0.25, 0.75]);
      expect(() => buildTopology({ name: 'edge-list', path: 'w.txt', weights: 'uniform' }, { baseDir: dir })).toThrow(/its own weights/);
      writeFileSync(join(dir, 'bad.txt'), '0 1\n1 4\n');
      expect(() => buildTopology({ name: 'edge-list', path: join(dir, 'bad.txt'), peers: 3 })).toThrow(InputError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates configs with one clear ConfigError', () => {
    expect(() => parseTopologySpec({ name: 'ring', peers: 1 })).toThrow('topology.peers: peers must be at least 2');
    expect(() => parseTopologySpec({ name: 'ring', peers: 4, degre: 3 })).toThrow(ConfigError);
    expect(() => parseTopologySpec({ name: 'hypercube', peers: 4 })).toThrow(/topology.name/);
    expect(() => buildTopology({ name: 'edge-list' })).toThrow(/exactly one of path/);
    expect(() => buildTopology({ name: 'exponential', peers: 8, weights: 'metropolis-hastings' })).toThrow(/undirected/);
    expect(() => buildTopology({ name: 'cycle', of: [{ name: 'ring' }] })).toThrow(/cycle needs peers/);
  });
});
