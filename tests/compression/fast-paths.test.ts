// The fast paths of the sparsifiers: top-k's SIMD threshold scan with in-pass cuts, rand-k's
// index sampler (as docs/wire-format.md specifies it), and encodeInto/decodeInto with reused
// output buffers.
import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom, type ParamLayout } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { buildCompressor, keepCount, sampleSortedIndices, topKIndices, type CompressionSpec, type PointwiseCompressor } from '../../src/compression/index.js';
import { topK } from '../../src/compression/select.js';
import { randKIndices } from '../../src/compression/sparse.js';
import { scannerImplementations } from '../../src/compression/threshold-scan.js';
import { randomUpdate, smallLayout } from './helpers.js';

/** Indices sorted by (|v| descending, index ascending): the reference ranking. */
function ranking(v: Float32Array): number[] {
  return Array.from(v.keys()).sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]) || a - b);
}

/** The reference top k, ascending. */
function referenceTopK(v: Float32Array, k: number, order = ranking(v)): number[] {
  return order.slice(0, k).sort((a, b) => a - b);
}

/** Vectors that defeat a sampled threshold one way or another, plus plain ones. */
function hardVectors(rng: Rng, n: number): [string, Float32Array][] {
  const periodic = (period: number, big: number, small: number) => Float32Array.from({ length: n }, (_, i) => (i % period === 0 ? big : small));
  return [
    ['gaussian', Float32Array.from({ length: n }, () => rng.normal())],
    ['few distinct values (ties)', Float32Array.from({ length: n }, () => rng.int(7) - 3)],
    ['all equal', new Float32Array(n).fill(-2.5)],
    ['all zero', new Float32Array(n)],
    ['ascending', Float32Array.from({ length: n }, (_, i) => i)],
    ['descending, negative', Float32Array.from({ length: n }, (_, i) => -(n - i))],
    ['spikes every 2 (sample sees only spikes)', periodic(2, 9, 1)],
    ['spikes every 61 (sample may miss them)', periodic(61, -9, 0.5)],
    ['large values only in the last tenth', Float32Array.from({ length: n }, (_, i) => (i > 0.9 * n ? 1 + rng.next() : rng.next() * 1e-3))],
    ['wide exponents', Float32Array.from({ length: n }, () => rng.normal() * 2 ** (rng.int(60) - 30))],
  ];
}

describe('top-k selection', () => {
  it('picks exactly the k largest magnitudes with ties to the lowest index, as a full sort does', () => {
    const rng = new Rng(17);
    for (const n of [33, 5000, 40_000, 120_000]) {
      for (const [what, v] of hardVectors(rng, n)) {
        const order = ranking(v);
        for (const k of [1, 13, Math.ceil(n / 100), Math.ceil(n / 7), n - 1, n]) {
          const got = topK(v, k);
          const want = referenceTopK(v, k, order);
          expect(Array.from(got.indices), `${what}, n=${n}, k=${k}`).toEqual(want);
          // The values come with their indices, bit for bit (sign and -0 included).
          expect(Array.from(got.values)).toEqual(want.map((i) => v[i]));
        }
      }
    }
  });

  it('needs a second pass when the sample overestimates the threshold, and stays exact', () => {
    // With n = 4 × 32,768 the sample reads 2,048 runs of 16 values, 64 apart: exactly the i with
    // i mod 64 < 16, which all hold the large value; k above their number (32,768) leaves the
    // first pass short.
    const n = 4 * 32_768;
    const v = Float32Array.from({ length: n }, (_, i) => (i % 64 < 16 ? 100 : 1 + (i % 3)));
    const order = ranking(v);
    for (const k of [20_000, 40_000, 70_000]) expect(Array.from(topKIndices(v, k))).toEqual(referenceTopK(v, k, order));
  });

  it('refuses NaN and ±Infinity anywhere, even at positions a sample skips', () => {
    const n = 70_001;
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 12_345, n - 1]) {
        const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
        v[at] = bad;
        expect(() => topKIndices(v, 700)).toThrow(InputError);
        expect(() => topKIndices(v, 700)).toThrow(/NaN or Infinity/);
      }
    }
  });

  it('the SIMD kernel and the plain loop collect the same candidates', () => {
    const { simd, plain } = scannerImplementations();
    expect(simd, 'WebAssembly SIMD is available on Node 20').toBeDefined();
    const rng = new Rng(3);
    const n = 50_003;
    const v = Float32Array.from({ length: n }, () => rng.normal());
    v[7] = NaN;
    v[n - 2] = -Infinity;
    v[100] = -0;
    const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
    for (const threshold of [0, bitsOf(0.5), bitsOf(2.5), bitsOf(1e30), 0x7f800000]) {
      for (const s of [simd!, plain]) s.reserve(n);
      for (const [start, end] of [
        [0, n],
        [5, 17],
        [3, n - 1],
      ]) {
        const a = simd!.scan(v, start, end, threshold, 0);
        const b = plain.scan(v, start, end, threshold, 0);
        expect(a).toBe(b);
        expect(Array.from(simd!.index.subarray(0, a))).toEqual(Array.from(plain.index.subarray(0, b)));
        expect(Array.from(simd!.bits.subarray(0, a))).toEqual(Array.from(plain.bits.subarray(0, b)));
      }
    }
  });
});

/** docs/wire-format.md's rand-k sampler, written out the plain way (a Set and a sort). */
function documentedSampler(seed: number, n: number, k: number): number[] {
  let s = seed >>> 0;
  const word = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const picked = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const bound = j + 1;
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let w = word();
    while (w >= limit) w = word();
    const t = w % bound;
    picked.add(picked.has(t) ? j : t);
  }
  return [...picked].sort((a, b) => a - b);
}

describe('rand-k indices', () => {
  it('follow the documented sampler exactly (changing them needs a wire format version)', () => {
    for (const [n, k] of [
      [1, 1],
      [50, 5],
      [1000, 10],
      [1000, 999],
      [10_007, 700],
      [3_000, 1_500],
      [100_003, 1_000],
      [5_000_000, 20],
    ]) {
      for (const seed of [0, 1, 12345, 0xffffffff]) expect(Array.from(sampleSortedIndices(seed, n, k)), `n=${n} k=${k} seed=${seed}`).toEqual(documentedSampler(seed, n, k));
    }
    expect(Array.from(sampleSortedIndices(12345, 1000, 10))).toEqual([32, 65, 98, 338, 451, 617, 707, 728, 835, 885]);
  });

  it('are uniform: each position is kept k/n of the time over many seeds', () => {
    const n = 40;
    const k = 10;
    const draws = 8000;
    const hits = new Array<number>(n).fill(0);
    for (let seed = 0; seed < draws; seed++) for (const i of sampleSortedIndices(seed, n, k)) hits[i]++;
    const p = k / n;
    const sd = Math.sqrt(draws * p * (1 - p));
    for (const h of hits) expect(Math.abs(h - draws * p)).toBeLessThan(5 * sd);
  });

  it('encoder and decoder agree on the indices across seeds, rounds, senders and layers', () => {
    const layout = smallLayout();
    for (const method of ['rand-k', 'rand-k-unbiased'] as const) {
      for (let seed = 0; seed < 6; seed++) {
        const ctx = { seed, round: seed * 7, sender: seed % 3 };
        const sender = buildCompressor({ method, ratio: 0.2 }, seed) as PointwiseCompressor;
        const receiver = buildCompressor({ method, ratio: 0.2 }, seed) as PointwiseCompressor;
        const update = randomUpdate(layout, 50 + seed);
        const enc = sender.encode(update, null, ctx);
        const dec = receiver.decode(enc.message, layout, ctx, null);
        expect(Array.from(dec.update.data)).toEqual(Array.from(enc.decoded.data));
        layout.tensors.forEach((spec, index) => {
          const kept = randKIndices({ spec, index, ctx, salt: 0 }, keepCount(0.2, spec.size));
          const nonZero = Array.from(dec.update.data.subarray(spec.offset, spec.offset + spec.size).keys()).filter((i) => dec.update.data[spec.offset + i] !== 0);
          expect(nonZero).toEqual(Array.from(kept));
        });
      }
    }
  });
});

describe('encodeInto / decodeInto', () => {
  const layout = makeLayout([
    { name: 'w', shape: [300, 70] },
    { name: 'b', shape: [300] },
  ]);
  const specs: CompressionSpec[] = [
    { method: 'identity' },
    { method: 'fp16' },
    { method: 'int8', blockSize: 64 },
    { method: 'sign' },
    { method: 'top-k', ratio: 0.01 },
    { method: 'top-k', ratio: 0.6 },
    { method: 'rand-k', ratio: 0.05 },
    { method: 'rand-k-unbiased', ratio: 0.05 },
    { method: 'random-subspace', rank: 3 },
    { method: 'top-k', ratio: 0.02, errorFeedback: 'ef14' },
    { method: 'top-k', ratio: 0.02, errorFeedback: 'ef21' },
    { method: 'rand-k', ratio: 0.05, errorFeedback: 'ef21-m' },
    { method: 'top-k', ratio: 0.02, errorFeedback: 'econtrol' },
  ];

  /** An update with a zero block, so that int8 must write the zeros itself. */
  function update(layout: ParamLayout, seed: number) {
    const u = randomUpdate(layout, seed);
    u.data.fill(0, 64, 192);
    return u;
  }

  it('encodeBytes gives the bytes and the state of encode, round after round', () => {
    for (const spec of specs) {
      const full = buildCompressor(spec, 9) as PointwiseCompressor;
      const bytesOnly = buildCompressor(spec, 9) as PointwiseCompressor;
      let stateA = full.initialState(layout);
      let stateB = bytesOnly.initialState(layout);
      for (let round = 0; round < 3; round++) {
        const ctx = { seed: 9, round, sender: 2 };
        const u = update(layout, 10 + round);
        const a = full.encode(u, stateA, ctx);
        const b = bytesOnly.encodeBytes(u, stateB, ctx);
        expect(Object.keys(b).sort()).toEqual(['message', 'state']);
        expect(Array.from(b.message), `${spec.method} ${spec.errorFeedback ?? ''} round ${round}`).toEqual(Array.from(a.message));
        expect(b.state).toEqual(a.state);
        stateA = a.state;
        stateB = b.state;
      }
    }
  });

  it('encodeBytes refuses what a receiver would refuse: rand-k-unbiased values that overflow when scaled by n/k', () => {
    const c = buildCompressor({ method: 'rand-k-unbiased', ratio: 0.05 }, 9) as PointwiseCompressor;
    const u = paramsFrom(layout, new Float32Array(layout.size).fill(3e38));
    const ctx = { seed: 9, round: 0, sender: 0 };
    expect(() => c.encodeBytes(u, null, ctx)).toThrow(InputError);
    expect(() => c.encodeBytes(u, null, ctx)).toThrow(/overflows float32/);
    expect(() => c.encode(u, null, ctx)).toThrow(/overflows float32/);
  });

  it('give the same bytes and values as encode/decode, into reused buffers holding old values', () => {
    for (const spec of specs) {
      const fresh = buildCompressor(spec, 9) as PointwiseCompressor;
      const reusing = buildCompressor(spec, 9) as PointwiseCompressor;
      let stateA = fresh.initialState(layout);
      let stateB = reusing.initialState(layout);
      let recvA = fresh.initialReceiverState(layout);
      let recvB = reusing.initialReceiverState(layout);
      const decoded = new Float32Array(layout.size).fill(123);
      const out = new Float32Array(layout.size).fill(-7);
      for (let round = 0; round < 3; round++) {
        const ctx = { seed: 9, round, sender: 1 };
        const u = update(layout, round);
        const a = fresh.encode(u, stateA, ctx);
        const b = reusing.encodeInto(u, stateB, ctx, decoded);
        expect(b.decoded.data).toBe(decoded);
        expect(Array.from(b.message), `${spec.method} ${spec.errorFeedback ?? ''} round ${round}`).toEqual(Array.from(a.message));
        expect(Array.from(decoded)).toEqual(Array.from(a.decoded.data));
        const da = fresh.decode(a.message, layout, ctx, recvA);
        const db = reusing.decodeInto(b.message, layout, ctx, recvB, out);
        expect(db.update.data).toBe(out);
        expect(Array.from(out)).toEqual(Array.from(da.update.data));
        stateA = a.state;
        stateB = b.state;
        recvA = da.receiver;
        recvB = db.receiver;
      }
    }
  });

  it('refuse an output of the wrong size or one that overlaps the update', () => {
    const c = buildCompressor({ method: 'top-k', ratio: 0.1 }, 1) as PointwiseCompressor;
    const ctx = { seed: 1, round: 0, sender: 0 };
    const u = update(layout, 1);
    expect(() => c.encodeInto(u, null, ctx, new Float32Array(layout.size - 1))).toThrow(/encodeInto: the output must be a Float32Array of the model's 21300 values/);
    expect(() => c.encodeInto(u, null, ctx, u.data)).toThrow(/overlaps the update/);
    const both = new Float32Array(2 * layout.size);
    const inner = paramsFrom(layout, both.subarray(0, layout.size));
    expect(() => c.encodeInto(inner, null, ctx, both.subarray(10, 10 + layout.size))).toThrow(InputError);
    expect(() => c.encodeInto(inner, null, ctx, both.subarray(layout.size))).not.toThrow();
    const msg = c.encode(u, null, ctx).message;
    expect(() => c.decodeInto(msg, layout, ctx, null, new Float32Array(5))).toThrow(/decodeInto/);
  });
});
