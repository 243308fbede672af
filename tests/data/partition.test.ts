import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../src/data/dataset.js';
import { partition, powerLawSizes, type LabeledData, type Partition, type PartitionSpec } from '../../src/data/partition/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

// 5,000 labels over 10 classes with unequal counts (like MNIST), in random order.
const CLASS_COUNTS = [480, 560, 500, 520, 490, 430, 510, 540, 470, 500];
function makeLabels(counts: number[], seed: number): LabeledData {
  const y = new Uint8Array(counts.reduce((a, b) => a + b, 0));
  let i = 0;
  counts.forEach((c, k) => {
    y.fill(k, i, i + c);
    i += c;
  });
  new Rng(seed).shuffle(y);
  return { y, n: y.length, numClasses: counts.length, name: 'test-labels' };
}
const data = makeLabels(CLASS_COUNTS, 7);
const N = data.n;
const K = data.numClasses;

const SPECS: PartitionSpec[] = [
  { kind: 'iid' },
  { kind: 'dirichlet', alpha: 0.1 },
  { kind: 'dirichlet', alpha: 0.01, minPerPeer: 5 },
  { kind: 'shards', shardsPerPeer: 2 },
  { kind: 'quantity', exponent: 1.5 },
];

function sizes(p: Partition): number[] {
  return p.indices.map((ids) => ids.length);
}

/** Total-variation distance between a peer's label mix and the global one. */
function tvToGlobal(hist: number[]): number {
  const m = hist.reduce((a, b) => a + b, 0);
  return 0.5 * hist.reduce((s, h, c) => s + Math.abs(h / m - CLASS_COUNTS[c] / N), 0);
}

/** Share of a peer's samples held by its two most frequent labels. */
function topTwoShare(hist: number[]): number {
  const sorted = [...hist].sort((a, b) => b - a);
  return (sorted[0] + sorted[1]) / hist.reduce((a, b) => a + b, 0);
}

describe('every partitioner', () => {
  for (const spec of SPECS) {
    for (const nPeers of [1, 7, 50]) {
      // A single peer cannot hold 10 classes in 2 label-pure shards (tested with the errors).
      if (spec.kind === 'shards' && nPeers * spec.shardsPerPeer < K) continue;
      it(`${JSON.stringify(spec)} with ${nPeers} peers assigns every sample exactly once (3 seeds)`, () => {
        for (const seed of [0, 1, 2]) {
          const p = partition(data, spec, nPeers, seed);
          expect(p.indices).toHaveLength(nPeers);
          const seen = new Uint8Array(N);
          for (const ids of p.indices) {
            for (let k = 0; k < ids.length; k++) {
              if (k > 0) expect(ids[k]).toBeGreaterThan(ids[k - 1]); // ascending, so no repeats within a peer
              seen[ids[k]]++;
            }
          }
          expect(seen.every((s) => s === 1)).toBe(true);
          // Histograms are the recounted labels, and they add up to the global counts.
          p.indices.forEach((ids, peer) => expect(p.histograms[peer]).toEqual(labelHistogram(data.y, K, ids)));
          const total = new Array(K).fill(0);
          for (const h of p.histograms) h.forEach((v, c) => (total[c] += v));
          expect(total).toEqual(CLASS_COUNTS);
          expect(Math.min(...sizes(p))).toBeGreaterThanOrEqual(1);
        }
      });
    }

    it(`${JSON.stringify(spec)}: same seed gives the same partition, another seed a different one`, () => {
      const a = partition(data, spec, 20, 123);
      const b = partition(data, spec, 20, 123);
      const c = partition(data, spec, 20, 124);
      expect(b.indices).toEqual(a.indices);
      expect(b.histograms).toEqual(a.histograms);
      expect(c.indices).not.toEqual(a.indices);
    });
  }

  it('rejects impossible or malformed requests with a ConfigError', () => {
    const tiny = makeLabels([2, 1], 0);
    for (const spec of SPECS) {
      expect(() => partition(tiny, spec, 4, 0)).toThrow(ConfigError); // more peers than samples
      expect(() => partition(data, spec, 0, 0)).toThrow(ConfigError);
      expect(() => partition(data, spec, 2.5, 0)).toThrow(ConfigError);
    }
    expect(() => partition(tiny, { kind: 'iid' }, 4, 0)).toThrow(/4 peers.*only 3/);
    expect(() => partition(data, { kind: 'iid' }, 3, NaN)).toThrow(ConfigError);
    expect(() => partition(data, { kind: 'dirichlet', alpha: 0 }, 3, 0)).toThrow(/alpha/);
    expect(() => partition(data, { kind: 'dirichlet', alpha: -1 }, 3, 0)).toThrow(ConfigError);
    expect(() => partition(data, { kind: 'shards', shardsPerPeer: 0 }, 3, 0)).toThrow(/shardsPerPeer/);
    expect(() => partition(data, { kind: 'quantity', exponent: -0.5 }, 3, 0)).toThrow(/exponent/);
    expect(() => partition(data, { kind: 'bogus' } as unknown as PartitionSpec, 3, 0)).toThrow(/unknown partition kind 'bogus'/);
  });
});

describe('iid', () => {
  it('gives sizes that differ by at most one', () => {
    const s = sizes(partition(data, { kind: 'iid' }, 7, 3));
    expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
    expect(s.reduce((a, b) => a + b, 0)).toBe(N);
  });
});

describe('dirichlet', () => {
  it('α = 1e6 matches the global label mix up to rounding', () => {
    // Peer j gets n_c·q_j ± 1 of class c; with α = 1e6 the draw q_j = 1/P ± ~1e-4 moves a count
    // by < 0.1 more, so each count is off by E < 2. Then TV ≤ K·E / m for a peer of m samples
    // (see docs/data.md): 10 · 2 / 500 = 0.04 for 10 peers of ~500.
    for (const seed of [0, 1, 2]) {
      const p = partition(data, { kind: 'dirichlet', alpha: 1e6 }, 10, seed);
      for (const hist of p.histograms) {
        const m = hist.reduce((a, b) => a + b, 0);
        expect(tvToGlobal(hist)).toBeLessThan((K * 2) / m);
        hist.forEach((h, c) => expect(Math.abs(h - CLASS_COUNTS[c] / 10)).toBeLessThan(2));
      }
    }
  });

  it('α = 0.01 leaves one or two labels holding ≥ 95% of most peers’ samples', () => {
    // Each class lands almost whole on one peer, but with 10 classes on 10 peers a peer gets
    // ≥ 3 classes now and then (over 200 seeds, 85% of peers pass). We ask for ≥ 75% of the
    // 100 peers of 10 seeds together, and a clearly non-IID mix (TV to global > 0.6) per seed.
    let skewed = 0;
    for (let seed = 0; seed < 10; seed++) {
      const p = partition(data, { kind: 'dirichlet', alpha: 0.01 }, 10, seed);
      skewed += p.histograms.filter((h) => topTwoShare(h) >= 0.95).length;
      const meanTv = p.histograms.reduce((s, h) => s + tvToGlobal(h), 0) / p.histograms.length;
      expect(meanTv).toBeGreaterThan(0.6);
    }
    expect(skewed).toBeGreaterThanOrEqual(75);
  });

  it('tops every peer up to minPerPeer, and says when that is impossible', () => {
    const p = partition(data, { kind: 'dirichlet', alpha: 0.01, minPerPeer: 40 }, 100, 5);
    expect(Math.min(...sizes(p))).toBeGreaterThanOrEqual(40);
    const tight = partition(data, { kind: 'dirichlet', alpha: 0.05, minPerPeer: 50 }, 100, 5);
    expect(sizes(tight).every((s) => s === 50)).toBe(true); // 100 × 50 = 5,000 = n
    expect(() => partition(data, { kind: 'dirichlet', alpha: 0.05, minPerPeer: 51 }, 100, 5)).toThrow(/at least 51 samples/);
    expect(() => partition(data, { kind: 'dirichlet', alpha: 1, minPerPeer: 1.5 }, 10, 5)).toThrow(/minPerPeer/);
  });
});

describe('shards', () => {
  it('gives each peer at most k labels and near-equal sizes', () => {
    for (const k of [1, 2, 3]) {
      for (const seed of [0, 1]) {
        const p = partition(data, { kind: 'shards', shardsPerPeer: k }, 20, seed);
        for (const hist of p.histograms) expect(hist.filter((h) => h > 0).length).toBeLessThanOrEqual(k);
        // A shard of class c has ⌊n_c/s_c⌋ or ⌈n_c/s_c⌉ samples, where s_c (its number of shards) is
        // S·n_c/N rounded down or up, S = 20k; a peer holds k shards.
        const S = 20 * k;
        const lo = Math.min(...CLASS_COUNTS.map((c) => Math.floor(c / Math.ceil((S * c) / N))));
        const hi = Math.max(...CLASS_COUNTS.map((c) => Math.ceil(c / Math.max(1, Math.floor((S * c) / N)))));
        for (const s of sizes(p)) {
          expect(s).toBeGreaterThanOrEqual(k * lo);
          expect(s).toBeLessThanOrEqual(k * hi);
        }
      }
    }
  });

  it('k = 1 with as many peers as classes gives each peer exactly one whole class', () => {
    const p = partition(data, { kind: 'shards', shardsPerPeer: 1 }, 10, 9);
    const perPeer = p.histograms.map((h) => h.filter((v) => v > 0));
    expect(perPeer.every((nonzero) => nonzero.length === 1)).toBe(true);
    expect(perPeer.map((nz) => nz[0]).sort((a, b) => a - b)).toEqual([...CLASS_COUNTS].sort((a, b) => a - b));
  });

  it('refuses shard counts that would mix labels or leave shards empty', () => {
    expect(() => partition(data, { kind: 'shards', shardsPerPeer: 1 }, 4, 0)).toThrow(/at least 3 shards per peer/);
    expect(() => partition(makeLabels([3, 3], 0), { kind: 'shards', shardsPerPeer: 4 }, 2, 0)).toThrow(/more than the 6 samples/);
  });
});

describe('quantity skew', () => {
  it('sizes follow the power law by rank, to within one sample, each ≥ 1', () => {
    for (const exponent of [0.5, 1, 2]) {
      const p = partition(data, { kind: 'quantity', exponent }, 30, 4);
      const byRank = sizes(p).sort((a, b) => b - a);
      const w = byRank.map((_, r) => Math.pow(r + 1, -exponent));
      const wSum = w.reduce((a, b) => a + b, 0);
      byRank.forEach((s, r) => {
        expect(Math.abs(s - (1 + ((N - 30) * w[r]) / wSum))).toBeLessThan(1);
        expect(s).toBeGreaterThanOrEqual(1);
      });
      expect(byRank.reduce((a, b) => a + b, 0)).toBe(N);
    }
  });

  it('powerLawSizes never increase with rank; exponent 0 is equal sizes', () => {
    for (const exponent of [0, 0.3, 1, 4]) {
      const s = powerLawSizes(1000, 37, exponent);
      for (let r = 1; r < s.length; r++) expect(s[r]).toBeLessThanOrEqual(s[r - 1]);
      expect(s.reduce((a, b) => a + b, 0)).toBe(1000);
      expect(Math.min(...s)).toBeGreaterThanOrEqual(1);
    }
    const flat = powerLawSizes(1000, 37, 0);
    expect(Math.max(...flat) - Math.min(...flat)).toBeLessThanOrEqual(1);
    expect(powerLawSizes(10, 10, 3)).toEqual(new Array(10).fill(1));
  });

  it('gives ranks to peers in a seeded random order, not by peer id', () => {
    const s = sizes(partition(data, { kind: 'quantity', exponent: 2 }, 30, 4));
    expect(s.indexOf(Math.max(...s))).not.toBe(0);
  });
});
