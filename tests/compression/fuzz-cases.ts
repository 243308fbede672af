// The compression fuzzer, shared by the fast test (2,000 cases) and the long one (100,000):
// valid messages of every method are mutated (bit flips, truncation, extension, overwritten
// ranges, random table fields, whole random payloads; with and without a recomputed CRC) and
// fed to the wire decoder and to the matching compressor's decode. Each must either throw a
// WireError or return something that passes validation again; nothing else may happen.
import { makeLayout, type ParamLayout } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import {
  WireError,
  buildCompressor,
  crc32,
  decodeMessage,
  encodeMessage,
  type CompressionSpec,
  type GroupCompressor,
  type PointwiseCompressor,
  type WireMessage,
} from '../../src/compression/index.js';
import { randomUpdate } from './helpers.js';

export const fuzzLayout: ParamLayout = makeLayout([
  { name: 'w', shape: [12, 10] },
  { name: 'b', shape: [12] },
  { name: 'k', shape: [3, 2, 2, 2] },
]);

interface Sample {
  readonly bytes: Uint8Array;
  /** Decodes with the compressor that produced the message (receiver side). */
  readonly decode: (bytes: Uint8Array) => Float32Array | null;
}

const SEED = 5;
const pointwiseSpecs: CompressionSpec[] = [
  { method: 'identity' },
  { method: 'fp16' },
  { method: 'int8', blockSize: 7 },
  { method: 'sign' },
  { method: 'top-k', ratio: 0.1 },
  { method: 'rand-k', ratio: 0.2 },
  { method: 'rand-k-unbiased', ratio: 0.2 },
  { method: 'random-subspace', rank: 3 },
  { method: 'top-k', ratio: 0.1, errorFeedback: 'ef21' },
  { method: 'rand-k', ratio: 0.2, errorFeedback: 'econtrol' },
  { method: 'sign', errorFeedback: 'ef21-m' },
];

function corpus(): Sample[] {
  const samples: Sample[] = [];
  const ctx = { seed: SEED, round: 4, sender: 1 };
  for (const spec of pointwiseSpecs) {
    const c = buildCompressor(spec, SEED) as PointwiseCompressor;
    const enc = c.encode(randomUpdate(fuzzLayout, samples.length + 1), c.initialState(fuzzLayout), ctx);
    samples.push({ bytes: enc.message, decode: (b) => c.decode(b, fuzzLayout, ctx, c.initialReceiverState(fuzzLayout)).update.data });
  }
  // Group phases: peer 1 receives its own message and a (mutated) one from peer 2; a bad
  // neighbour's message must be left out, never crash the step or poison the estimate.
  for (const spec of [{ method: 'powersgd', rank: 2 }, { method: 'arc-top-k', rho: 0.25 }, { method: 'greedylore', rank: 2 }] as CompressionSpec[]) {
    const c = buildCompressor(spec, SEED) as GroupCompressor;
    const round = spec.method === 'greedylore' ? 0 : 4; // GreedyLore's round 0 is its dense refresh
    const starts = [1, 2].map((sender) => c.begin(randomUpdate(fuzzLayout, 90 + sender), c.initialState(fuzzLayout), { ...ctx, round, sender }));
    const phase0 = starts.map((st, i) => ({ sender: i + 1, bytes: st.message }));
    const decodeGroup = (session: unknown, own: Uint8Array) => (b: Uint8Array) => {
      const r = c.step(session, [{ sender: 1, bytes: own }, { sender: 2, bytes: b }]);
      return r.kind === 'done' ? r.estimate.data : null;
    };
    samples.push({ bytes: phase0[1].bytes, decode: decodeGroup(starts[0].session, phase0[0].bytes) });
    const next = starts.map((st) => c.step(st.session, phase0));
    if (next[0].kind === 'send' && next[1].kind === 'send') {
      samples.push({ bytes: next[1].message, decode: decodeGroup(next[0].session, next[0].message) });
    }
  }
  return samples;
}

function reseal(b: Uint8Array): Uint8Array {
  if (b.length >= 4) new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

function mutate(rng: Rng, original: Uint8Array): Uint8Array {
  let b = original.slice();
  switch (rng.int(7)) {
    case 0: // bit flips, CRC left as is
      for (let i = 1 + rng.int(8); i > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    case 1: // bit flips in the header and tables, CRC recomputed
      for (let i = 1 + rng.int(4); i > 0; i--) b[rng.int(Math.min(b.length - 4, 160))] ^= 1 << rng.int(8);
      return reseal(b);
    case 2: // truncated
      b = b.slice(0, rng.int(b.length));
      return rng.next() < 0.5 ? reseal(b) : b;
    case 3: {
      // extended
      const ext = new Uint8Array(b.length + 1 + rng.int(64));
      ext.set(b);
      for (let i = b.length; i < ext.length; i++) ext[i] = rng.int(256);
      return rng.next() < 0.5 ? reseal(ext) : ext;
    }
    case 4: {
      // a range overwritten with random or extreme bytes, CRC recomputed
      const at = rng.int(b.length);
      const len = 1 + rng.int(16);
      const fill = [0x00, 0xff, 0x7f, 0x80][rng.int(4)];
      for (let i = at; i < Math.min(b.length - 4, at + len); i++) b[i] = rng.next() < 0.5 ? fill : rng.int(256);
      return reseal(b);
    }
    case 5: {
      // a 32-bit table or header field set to a random or boundary value, CRC recomputed
      const at = 4 + rng.int(Math.max(1, Math.min(b.length - 8, 200)));
      const v = [0, 1, 0xffffffff, 0x7fffffff, rng.nextUint32(), rng.int(400)][rng.int(6)];
      if (at + 4 <= b.length - 4) new DataView(b.buffer).setUint32(at, v, true);
      return reseal(b);
    }
    default: {
      // random payload, half of them with a valid prefix and checksum
      const r = new Uint8Array(rng.int(2 * b.length + 8));
      for (let i = 0; i < r.length; i++) r[i] = rng.int(256);
      if (rng.next() < 0.5) {
        r.set(b.subarray(0, Math.min(r.length, 8 + rng.int(40))));
        reseal(r);
      }
      return r;
    }
  }
}

function assertValid(msg: WireMessage, layout: ParamLayout): void {
  for (const part of msg.parts) {
    part.forEach((s, l) => {
      const size = layout.tensors[l].size;
      if (s.coding === 'f32' || s.coding === 'sparse') for (const x of s.values) if (!Number.isFinite(x)) throw new Error('accepted a non-finite value');
      if (s.coding === 'sparse') s.indices.forEach((ix, j) => {
        if (ix >= size || (j > 0 && ix <= s.indices[j - 1])) throw new Error('accepted a bad index');
      });
    });
  }
  // What was accepted must survive a second encode → decode unchanged.
  const again = decodeMessage(encodeMessage(msg, layout), { layout });
  if (JSON.stringify(again.params) !== JSON.stringify(msg.params)) throw new Error('re-encoding changed the parameters');
}

export interface FuzzStats {
  readonly cases: number;
  readonly rejected: number;
  readonly accepted: number;
}

/** Runs `cases` seeded fuzz cases; throws (with the case number) on anything but a clean rejection or a valid result. */
export function runFuzz(cases: number, seed: number): FuzzStats {
  const samples = corpus();
  const rng = new Rng(seed);
  let rejected = 0;
  let accepted = 0;
  for (let n = 0; n < cases; n++) {
    const sample = samples[rng.int(samples.length)];
    const bytes = mutate(rng, sample.bytes);
    try {
      try {
        assertValid(decodeMessage(bytes, { layout: fuzzLayout }), fuzzLayout);
        accepted++;
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        rejected++;
      }
      try {
        const out = sample.decode(bytes);
        if (out && (out.length !== fuzzLayout.size || out.some((x) => !Number.isFinite(x)))) throw new Error(`decode of sample ${samples.indexOf(sample)} returned an invalid update: ${Array.from(out).filter((x) => !Number.isFinite(x)).slice(0, 3)}`);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
      }
    } catch (err) {
      throw new Error(`fuzz case ${n} (seed ${seed}): ${(err as Error).stack ?? String(err)}`);
    }
  }
  return { cases, rejected, accepted };
}
