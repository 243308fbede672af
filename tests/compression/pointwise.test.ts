import { describe, expect, it } from 'vitest';
import { paramsFrom } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import { buildCompressor, keepCount, topKIndices, sampleSortedIndices, type CompressionSpec, type PointwiseCompressor } from '../../src/compression/index.js';
import { kthLargest } from '../../src/compression/select.js';
import { subspaceProjector } from '../../src/compression/subspace.js';
import { flatLayout, randomUpdate, smallLayout, sqDist, sqNorm } from './helpers.js';

const layout = smallLayout();
const ctx = { seed: 11, round: 3, sender: 2 };

function pointwise(spec: CompressionSpec, seed = ctx.seed): PointwiseCompressor {
  const c = buildCompressor(spec, seed);
  if (c.kind !== 'pointwise') throw new Error('expected a pointwise compressor');
  return c;
}

/** Encodes, decodes at a receiver, and checks that the receiver gets exactly what the sender says it will. */
function roundTrip(c: PointwiseCompressor, update = randomUpdate(layout, 1)) {
  const enc = c.encode(update, c.initialState(layout), ctx);
  const dec = c.decode(enc.message, layout, ctx, c.initialReceiverState(layout));
  expect(Array.from(dec.update.data)).toEqual(Array.from(enc.decoded.data));
  return { update, enc, dec };
}

describe('identity and fp16', () => {
  it('identity is exact and costs the dense size plus a small header', () => {
    const { update, dec, enc } = roundTrip(pointwise({ method: 'identity' }));
    expect(dec.update.data).toEqual(update.data);
    expect(enc.message.byteLength).toBeGreaterThan(4 * layout.size);
    expect(enc.message.byteLength).toBeLessThan(4 * layout.size + 256);
  });
  it('fp16 is within half-precision rounding and half the bytes', () => {
    const { update, dec, enc } = roundTrip(pointwise({ method: 'fp16' }));
    for (let i = 0; i < layout.size; i++) expect(Math.abs(dec.update.data[i] - update.data[i])).toBeLessThanOrEqual(Math.abs(update.data[i]) * 2 ** -11 + 2 ** -25);
    expect(enc.message.byteLength).toBeLessThan(2 * layout.size + 256);
  });
});

describe('int8 and sign', () => {
  it('int8 errs by less than one scale step per value and is unbiased over draws', () => {
    const c = pointwise({ method: 'int8', blockSize: 32 });
    const update = randomUpdate(layout, 4);
    const mean = new Float64Array(layout.size);
    const draws = 400;
    for (let round = 0; round < draws; round++) {
      const enc = c.encode(update, null, { ...ctx, round });
      const dec = c.decode(enc.message, layout, { ...ctx, round }, null);
      for (let i = 0; i < layout.size; i++) mean[i] += dec.update.data[i] / draws;
      if (round === 0) {
        for (let b = 0; b * 32 < layout.size; b++) {
          // Blocks restart in every layer; a bound per block of the flat vector is looser but layout-free.
          const lo = b * 32;
          const block = update.data.subarray(lo, lo + 32);
          const step = Math.max(...Array.from(block, Math.abs)) / 127;
          for (let i = lo; i < lo + block.length; i++) expect(Math.abs(dec.update.data[i] - update.data[i])).toBeLessThanOrEqual(2 * step + 1e-6);
        }
      }
    }
    // Mean of 400 draws: each draw's error is within one step (≈ 3/127), so the mean's std ≤ step/(2√400).
    let worst = 0;
    for (let i = 0; i < layout.size; i++) worst = Math.max(worst, Math.abs(mean[i] - update.data[i]));
    expect(worst).toBeLessThan(0.01);
    expect(c.encode(update, null, ctx).message.byteLength).toBeLessThan(layout.size * 1.2 + 256);
  });
  it('sign sends 1 bit per value and the L1 scale per layer', () => {
    const { update, dec, enc } = roundTrip(pointwise({ method: 'sign' }));
    for (const t of layout.tensors) {
      const v = update.data.subarray(t.offset, t.offset + t.size);
      const scale = Math.fround(v.reduce((a, x) => a + Math.abs(x), 0) / t.size);
      for (let i = 0; i < t.size; i++) expect(dec.update.data[t.offset + i]).toBe(v[i] < 0 ? -scale : scale);
    }
    expect(enc.message.byteLength).toBeLessThan(layout.size / 8 + 4 * layout.tensors.length + 256);
  });
});

describe('top-k', () => {
  it('selects exactly the k largest magnitudes (compared with a full sort), ascending', () => {
    const rng = new Rng(9);
    for (const n of [1, 7, 100, 5000]) {
      const v = Float32Array.from({ length: n }, () => rng.normal() * 2 ** rng.int(20));
      if (n > 10) for (let i = 0; i < 10; i++) v[rng.int(n)] = v[0]; // ties
      for (const k of [1, Math.ceil(n / 3), n]) {
        const got = topKIndices(v, k);
        expect(Array.from(got)).toEqual(Array.from(got).sort((a, b) => a - b));
        expect(new Set(got).size).toBe(k);
        const sorted = Array.from(v, Math.abs).sort((a, b) => b - a);
        const minKept = Math.min(...Array.from(got, (i) => Math.abs(v[i])));
        expect(minKept).toBe(sorted[k - 1]);
      }
    }
  });
  it('stays exact when the sampled threshold misses the large values (histogram fallback)', () => {
    const n = 200_000;
    const k = 500;
    const v = new Float32Array(n).fill(0.5);
    const stride = n / 65536;
    const big: number[] = [];
    for (let j = 0; big.length < k; j += 7) big.push(Math.floor(j * stride) + 1); // never a sampled position
    big.forEach((i, r) => (v[i] = -(10 + r)));
    expect(Array.from(topKIndices(v, k))).toEqual(big.slice().sort((a, b) => a - b));
    const ties = [0, 1, 2, 3].filter((i) => !big.includes(i)).slice(0, 3); // ties at 0.5 go to the lowest indices
    expect(Array.from(topKIndices(v, k + 3))).toEqual([...big, ...ties].sort((a, b) => a - b));
  });
  it('quickselect finds the k-th largest', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 50; t++) {
      const a = Uint32Array.from({ length: 1 + rng.int(200) }, () => rng.int(50));
      const k = 1 + rng.int(a.length);
      const want = Array.from(a).sort((x, y) => y - x)[k - 1];
      expect(kthLargest(a.slice(), k)).toBe(want);
    }
  });
  it('is a contraction: ‖C(v) − v‖² ≤ (1 − k/d)‖v‖² on random vectors', () => {
    for (const ratio of [0.01, 0.1, 0.5]) {
      const c = pointwise({ method: 'top-k', ratio });
      for (let seed = 0; seed < 20; seed++) {
        const update = randomUpdate(layout, 100 + seed, seed % 2 ? 1 : 1e-3);
        const { dec } = roundTrip(c, update);
        expect(sqDist(dec.update.data, update.data)).toBeLessThanOrEqual((1 - ratio) * sqNorm(update.data) * (1 + 1e-6));
      }
    }
  });
  it('sends indices and values only where that is smaller than dense', () => {
    const big = flatLayout(10_000);
    const c = pointwise({ method: 'top-k', ratio: 0.01 });
    const enc = c.encode(randomUpdate(big, 2), null, ctx);
    // 100 values (400 B) + delta varints (~1-2 B each) + header
    expect(enc.message.byteLength).toBeLessThan(400 + 200 + 128);
    const dense = pointwise({ method: 'top-k', ratio: 0.9 }).encode(randomUpdate(big, 2), null, ctx);
    expect(dense.message.byteLength).toBeLessThanOrEqual(4 * 10_000 + 128); // falls back to dense, never larger
  });
});

describe('rand-k', () => {
  it('draws k distinct sorted indices', () => {
    const idx = sampleSortedIndices(2, 1000, 300);
    expect(idx.length).toBe(300);
    expect(new Set(idx).size).toBe(300);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
  });
  it('sends only the values', () => {
    const big = flatLayout(10_000);
    const enc = pointwise({ method: 'rand-k', ratio: 0.01 }).encode(randomUpdate(big, 2), null, ctx);
    expect(enc.message.byteLength).toBeLessThan(400 + 96);
  });
  it('unbiased rand-k has mean v over 10,000 draws, within statistical bounds', () => {
    const d = 20;
    const small = flatLayout(d);
    const c = pointwise({ method: 'rand-k-unbiased', ratio: 0.25 });
    const k = keepCount(0.25, d);
    const v = paramsFrom(small, Float32Array.from({ length: d }, (_, i) => (i % 3) - 1 + i / 10));
    const draws = 10_000;
    const mean = new Float64Array(d);
    for (let round = 0; round < draws; round++) {
      const enc = c.encode(v, null, { seed: 5, round, sender: 0 });
      const dec = c.decode(enc.message, small, { seed: 5, round, sender: 0 }, null);
      for (let i = 0; i < d; i++) mean[i] += dec.update.data[i] / draws;
    }
    // Each coordinate is (d/k)·v_i with probability k/d, else 0: variance v_i²(d/k − 1).
    for (let i = 0; i < d; i++) {
      const sd = Math.abs(v.data[i]) * Math.sqrt(d / k - 1) / Math.sqrt(draws);
      expect(Math.abs(mean[i] - v.data[i])).toBeLessThanOrEqual(4.5 * sd + 1e-9);
    }
  });
  it('biased rand-k keeps the chosen values unscaled, and receivers need the same seed', () => {
    const c = pointwise({ method: 'rand-k', ratio: 0.1 });
    const { update, dec } = roundTrip(c);
    let kept = 0;
    for (let i = 0; i < layout.size; i++) {
      if (dec.update.data[i] !== 0) {
        expect(dec.update.data[i]).toBe(update.data[i]);
        kept++;
      }
    }
    expect(kept).toBe(layout.tensors.reduce((a, t) => a + keepCount(0.1, t.size), 0));
    const enc = c.encode(update, null, ctx);
    expect(() => pointwise({ method: 'rand-k', ratio: 0.1 }, 12).decode(enc.message, layout, { ...ctx, seed: 12 }, null)).toThrow(/seed/);
  });
});

describe('random subspace', () => {
  it('B is orthonormal and decode(encode(G)) = B·BᵀG (a projection: applying it twice changes nothing)', () => {
    const b = subspaceProjector({ spec: layout.tensors[0], index: 0, ctx, salt: 0 }, 16, 3);
    for (let a = 0; a < 3; a++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = 0; i < 16; i++) s += b[i * 3 + a] * b[i * 3 + c];
        expect(s).toBeCloseTo(a === c ? 1 : 0, 10);
      }
    }
    const c = pointwise({ method: 'random-subspace', rank: 3 });
    const { update, dec } = roundTrip(c);
    const again = roundTrip(c, dec.update).dec.update.data;
    for (let i = 0; i < layout.size; i++) expect(again[i]).toBeCloseTo(dec.update.data[i], 4);
    const bias = layout.tensors[1];
    expect(dec.update.data.subarray(bias.offset, bias.offset + bias.size)).toEqual(update.data.subarray(bias.offset, bias.offset + bias.size));
    expect(sqDist(dec.update.data, update.data)).toBeLessThan(sqNorm(update.data));
  });
});

describe('encode refuses non-finite updates', () => {
  it('throws an InputError instead of sending what receivers would reject', () => {
    const bad = randomUpdate(layout, 1);
    bad.data[5] = NaN;
    for (const method of ['identity', 'fp16', 'top-k', 'rand-k'] as const) {
      const c = pointwise({ method, ratio: 1 });
      expect(() => c.encode(bad, null, ctx)).toThrow(/NaN or Infinity/);
    }
  });
});
