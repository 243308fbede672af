// One compression operation, K times, in a process of its own: for timing whole processes from
// outside, where in-process timers on a loaded machine are too noisy. Every op runs the same
// set-up (the bench's seeded 10M-float update, all three compressors, one message of each, the
// reused output buffers) and three warm-up calls of itself, so the run of an op with K = 0 is
// its set-up alone and (time(op, K) − time(op, 0)) / K is one call's steady-state time.
// docs/compression.md (Performance) gives the method and the figures.
//
//   npx tsx bench/compression-op.ts OP K
//   (or bundle it first and run the bundle with plain node, to keep tsx's start-up out:
//    npx esbuild bench/compression-op.ts --bundle --platform=node --format=esm --outfile=OUT.mjs)
import { buildCompressor, type CompressionSpec, type PointwiseCompressor } from '../src/compression/index.js';
import { benchUpdate, SEED } from './compression-setup.js';

const SPECS = {
  topk: { method: 'top-k', ratio: 0.01 },
  randk: { method: 'rand-k', ratio: 0.01 },
  'randk-unbiased': { method: 'rand-k-unbiased', ratio: 0.01 },
} as const satisfies Record<string, CompressionSpec>;
type Method = keyof typeof SPECS;

/** Warm-up calls before the timed ones (JIT tiers, first touch of every buffer). */
const WARMUP = 3;

const update = benchUpdate();
const { layout } = update;
const ctx = { seed: SEED, round: 0, sender: 0 };
const decoded = new Float32Array(layout.size);
const out = new Float32Array(layout.size);
const copy = new Float32Array(layout.size);

const ops = new Map<string, () => void>([['memcpy', () => copy.set(update.data)]]);
for (const [name, spec] of Object.entries(SPECS) as [Method, CompressionSpec][]) {
  const c = buildCompressor(spec, SEED) as PointwiseCompressor;
  const state = c.initialState(layout);
  const receiver = c.initialReceiverState(layout);
  const message = c.encodeInto(update, state, ctx, decoded).message;
  ops.set(`${name}-encode`, () => c.encodeInto(update, state, ctx, decoded));
  ops.set(`${name}-encode-bytes`, () => c.encodeBytes(update, state, ctx));
  ops.set(`${name}-decode`, () => c.decodeInto(message, layout, ctx, receiver, out));
  ops.set(`${name}-encode-new`, () => c.encode(update, state, ctx));
  ops.set(`${name}-decode-new`, () => c.decode(message, layout, ctx, receiver));
}

const [opName, countText] = process.argv.slice(2);
const op = ops.get(opName ?? '');
const count = Number(countText);
if (!op || !Number.isInteger(count) || count < 0) {
  console.error(`usage: compression-op OP K, with OP one of ${[...ops.keys()].join(', ')} and K a whole number of calls (0: set-up only)`);
  process.exit(2);
}

for (let i = 0; i < WARMUP; i++) op();
for (let i = 0; i < count; i++) op();
// Something of every output buffer, so that no call's work is unobservable.
console.log(`${opName} ×${count}: ${copy[count % copy.length] + decoded[123] + out[456]}`);
