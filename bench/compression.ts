// Suite `compression`: encode/decode throughput of every pointwise method on a 10M-float
// update (one 2,500 × 4,000 layer) against a plain memcpy of the same array (the floor), each
// method's compression ratio (dense float32 bytes / message bytes), and one peer's compute
// for a PowerSGD rank-4 and an ARC-Top-K round on a 4,096 × 4,096 layer.
// Each timed call is the whole public call: selection or quantization, the wire encoding with
// its CRC, and on decode every validation. `encode`/`decode` rows use encodeInto/decodeInto
// with one output buffer reused across calls (a peer's steady state); `encode, bytes only` uses
// encodeBytes (no dense reconstruction); the `new array` rows use encode/decode, which allocate
// the model-sized output every call (its pages are then zeroed by the OS on first touch, which
// is most of their extra time).
// The floor is timed on its own right before and right after each row's calls, and the row's
// ratio is to the mean of those two medians: a machine whose speed drifts moves both. (Timing a
// memcpy between the op's calls instead would flatter the op: the op evicts the copy's arrays
// from cache, so an interleaved memcpy runs slower than one on its own.) Under load a single
// run is still only good to tens of percent; docs/compression.md gives whole-process figures.
import type { BenchRow, BenchSuite } from './lib.js';
import { memcpyRate, timeMs } from './lib.js';
import { makeLayout } from '../src/params/index.js';
import { buildCompressor, runGroupRound, type CompressionSpec, type GroupCompressor, type PointwiseCompressor } from '../src/compression/index.js';
import { benchUpdate, FLOATS, gaussian, SEED } from './compression-setup.js';

const methods: { label: string; spec: CompressionSpec }[] = [
  { label: 'identity', spec: { method: 'identity' } },
  { label: 'fp16', spec: { method: 'fp16' } },
  { label: 'int8 (blocks of 256)', spec: { method: 'int8', blockSize: 256 } },
  { label: 'sign', spec: { method: 'sign' } },
  { label: 'top-k 1%', spec: { method: 'top-k', ratio: 0.01 } },
  { label: 'rand-k 1%', spec: { method: 'rand-k', ratio: 0.01 } },
  { label: 'rand-k 1% unbiased', spec: { method: 'rand-k-unbiased', ratio: 0.01 } },
  { label: 'random-subspace r=4', spec: { method: 'random-subspace', rank: 4 } },
  { label: 'top-k 1% + EF21', spec: { method: 'top-k', ratio: 0.01, errorFeedback: 'ef21' } },
];

export const compression: BenchSuite = {
  name: 'compression',
  async run({ quick }) {
    const repeats = quick ? 3 : 9;
    const rows: BenchRow[] = [];
    const floor = await memcpyRate(FLOATS);
    const floorName = 'memcpy 10M float32 (floor)';
    /** Median ms of `op` and the mean of the floor's medians just before and after it. */
    const againstFloor = async (op: () => unknown): Promise<{ ms: number; floorMs: number }> => {
      const before = (await memcpyRate(FLOATS)).ms;
      const ms = await timeMs(op, repeats, 1);
      const after = (await memcpyRate(FLOATS)).ms;
      return { ms, floorMs: (before + after) / 2 };
    };
    rows.push({ suite: 'compression', name: floorName, value: floor.bytesPerSecond / 1e9, unit: 'GB/s', note: `${floor.ms.toFixed(2)} ms` });

    const update = benchUpdate();
    const { layout } = update;
    const ctx = { seed: SEED, round: 0, sender: 0 };
    for (const { label, spec } of methods) {
      const c = buildCompressor(spec, SEED) as PointwiseCompressor;
      const state = c.initialState(layout);
      const receiver = c.initialReceiverState(layout);
      const decoded = new Float32Array(layout.size);
      const out = new Float32Array(layout.size);
      const enc = c.encodeInto(update, state, ctx, decoded);
      const ratio = (4 * FLOATS) / enc.message.byteLength;
      for (const [what, op] of [
        ['encode', () => c.encodeInto(update, state, ctx, decoded)],
        ['encode, bytes only', () => c.encodeBytes(update, state, ctx)],
        ['decode', () => c.decodeInto(enc.message, layout, ctx, receiver, out)],
        ['encode, new array', () => c.encode(update, state, ctx)],
        ['decode, new array', () => c.decode(enc.message, layout, ctx, receiver)],
      ] as const) {
        const { ms, floorMs } = await againstFloor(op);
        const rate = (4 * FLOATS) / (ms / 1000);
        rows.push({
          suite: 'compression',
          name: `${label} ${what}`,
          value: rate / 1e9,
          unit: 'GB/s',
          baseline: floorName,
          ratio: floorMs / ms,
          note: `${ms.toFixed(1)} ms = ${(ms / floorMs).toFixed(1)}× memcpy time (floor ${floorMs.toFixed(2)} ms around it); compression ${ratio.toFixed(1)}× (${enc.message.byteLength} B)`,
        });
      }
    }

    const big = makeLayout([{ name: 'w', shape: [4096, 4096] }]);
    const g = gaussian(big, 4);
    for (const [label, spec] of [
      ['PowerSGD rank 4, 4096×4096, one peer', { method: 'powersgd', rank: 4 }],
      ['ARC-Top-K ρ=0.2 r=4, 4096×4096, one peer', { method: 'arc-top-k' }],
    ] as const) {
      const c = buildCompressor(spec as CompressionSpec, SEED) as GroupCompressor;
      const peers = [{ update: g, state: c.initialState(big) }];
      let bytes = 0;
      const ms = await timeMs(() => {
        const r = runGroupRound(c, peers, { seed: SEED, round: 1 });
        bytes = r.bytes[0].reduce((a, b) => a + b, 0);
      }, repeats, 1);
      rows.push({
        suite: 'compression',
        name: label,
        value: ms,
        unit: 'ms',
        baseline: floorName,
        ratio: ms / ((floor.ms * big.size) / FLOATS),
        note: `all phases of one round (encode, mean, decode) for one peer; ${bytes} B sent = compression ${((4 * big.size) / bytes).toFixed(0)}×; ratio = time / memcpy time of the layer`,
      });
    }
    return rows;
  },
};
