// GPU benchmark: tfjs on WebGPU (Dawn) against PyTorch on the same GPU, in one run.
//
//   bash gpu/pack.sh bench/gpu.ts .gpu        # here, after npm install
//   bash .gpu/run.sh --out /path/gpu.json [--torch bench/torch_baseline.py] [--quick]   # on the GPU host
//
// Measures: matmul rate; training samples/s of the MLP and the CNN at several batch sizes (the
// per-peer Trainer, and the fused engine with one peer for the MLP); the batched engine's
// peer-steps/s for 256 peers; the gossip mixing product; then runs bench/torch_baseline.py if
// python3 has torch, and prints the ratios. Checks the fused kernels against tfjs ops first.
import '../src/util/polyfills.js';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { tf } from '../src/compute/tf.js';
import { initBackend } from '../src/compute/backend.js';
import { GpuRuntime } from '../src/compute/webgpu/runtime.js';
import { gemmKernel, type GemmTile } from '../src/compute/webgpu/gemm.js';
import { batchIterator } from '../src/data/batches.js';
import { buildModel, type Model } from '../src/model/zoo.js';
import { Trainer, type TrainerKernels } from '../src/model/trainer.js';
import { BatchedTrainer, type BatchedKernels } from '../src/model/batched.js';
import { initOptimizerState, type OptimizerSpec } from '../src/model/optimizer.js';
import { timeMs } from './lib.js';
import { Rng } from '../src/util/rng.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const outFile = flag('--out');
const BATCHES = [32, 128, 512];
const PEERS = Number(flag('--peers') ?? 256);
const PEER_BATCH = 32;
const N = 8192;
const FEATURES = 784;
const SGD: OptimizerSpec = { kind: 'sgd', lr: 0.01 };
/** Share of a timed run spent issuing the steps on the CPU (near 1: the CPU side is the limit). */
const enqueueShare: Record<string, number> = {};

const info = await initBackend('webgpu');
const log = (s: string) => process.stderr.write(`${s}\n`);
log(`backend: webgpu (${info.device})`);

const rng = new Rng(1);
const X = Float32Array.from({ length: N * FEATURES }, () => rng.next());
const Y = Int32Array.from({ length: N }, () => rng.int(10));
const DATASET = { name: 'bench', x: X, y: Y, n: N, featureShape: [28, 28, 1], featureSize: FEATURES, numClasses: 10 };
const mlp = buildModel({ kind: 'mlp', hidden: [128] }, [28, 28, 1], 10);
const cnn = buildModel({ kind: 'cnn' }, [28, 28, 1], 10);

/** Median seconds per call of `fn` (which must end with a readback, so the GPU work is done). */
async function seconds(fn: () => Promise<unknown>, repeats = quick ? 3 : 5, warmup = 2): Promise<number> {
  return (await timeMs(fn, repeats, warmup)) / 1000;
}

function randomIdx(count: number): Int32Array {
  return Int32Array.from({ length: count }, () => rng.int(N));
}

async function sync(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  await one.data();
  one.dispose();
}

/**
 * Our GEMM kernel C[M×N] = A[M×K]·B[K×N] dispatched `reps` times in one submit on the inputs'
 * values: ms per product (median of runs) and the relative error against tf.matMul.
 */
async function ownGemm(M: number, N: number, K: number, tile: GemmTile, reps: number, A: tf.Tensor, B: tf.Tensor): Promise<{ ms: number; relErr: number }> {
  const rt = GpuRuntime.fromTfjs();
  const [aHost, bHost] = [(await A.data()) as Float32Array, (await B.data()) as Float32Array];
  const bufs = { A: rt.storage(M * K * 4, 'A'), B: rt.storage(K * N * 4, 'B'), Out: rt.storage(M * N * 4, 'C') };
  rt.write(bufs.A, 0, aHost);
  rt.write(bufs.B, 0, bHost);
  const k = gemmKernel({
    name: 'bench gemm', batch: 1, M, N, K, tile,
    a: { transposed: false, offset: 0, batchStride: 0, ld: K },
    b: { transposed: false, offset: 0, batchStride: 0, ld: N },
    out: { offset: 0, batchStride: 0, ld: N },
    epilogue: { kind: 'store' },
  });
  const pipeline = await rt.pipeline(k);
  const dispatch = { pipeline, bindGroup: rt.bindGroup(k, pipeline, { A: { buffer: bufs.A }, B: { buffer: bufs.B }, Out: { buffer: bufs.Out } }), grid: k.grid };
  const ms = (await seconds(async () => {
    rt.submit(Array(reps).fill(dispatch));
    await rt.read([{ buffer: bufs.Out, offset: 0, bytes: 4 }]);
  })) * (1000 / reps);
  const [out] = await rt.read([{ buffer: bufs.Out, offset: 0, bytes: M * N * 4 }]);
  const ref = tf.tidy(() => tf.matMul(tf.reshape(A, [M, K]) as tf.Tensor2D, tf.reshape(B, [K, N]) as tf.Tensor2D));
  const refHost = (await ref.data()) as Float32Array;
  ref.dispose();
  let num = 0;
  let den = 0;
  for (let i = 0; i < refHost.length; i++) {
    num += (out[i] - refHost[i]) ** 2;
    den += refHost[i] ** 2;
  }
  Object.values(bufs).forEach((b) => b.destroy());
  return { ms, relErr: Math.sqrt(num / den) };
}

// ---- 1. matmul rate ----
async function matmulRate(n = 4096): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const reps = 10;
  const s = await seconds(async () => {
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < reps; i++) outs.push(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    await sync(outs[reps - 1]);
    tf.dispose(outs);
  });
  const ours = await ownGemm(n, n, n, { TM: 128, TN: 128, RM: 8, RN: 8, TK: 8 }, reps, a, b);
  const sOurs = (ours.ms * reps) / 1000;
  results.gemmFlops = (reps * 2 * n ** 3) / sOurs;
  tf.dispose([a, b]);
  return (reps * 2 * n ** 3) / s;
}

// ---- 2. correctness of the fused kernels against tfjs ops on this GPU ----
async function fusedVsTfjs(opt: OptimizerSpec): Promise<number> {
  const P = 8;
  const stacks: Float32Array[] = [];
  const init = new Float32Array(P * mlp.layout.size);
  for (let p = 0; p < P; p++) init.set(mlp.init(p).data, p * mlp.layout.size);
  const idx = [randomIdx(P * 16), randomIdx(P * 16), randomIdx(P * 16)];
  for (const kernels of ['tfjs', 'webgpu-fused'] as BatchedKernels[]) {
    const e = new BatchedTrainer(mlp, opt, P, { kernels });
    e.loadAll(init);
    e.setData(X, Y, N);
    for (const i of idx) await e.stepIndices(i);
    stacks.push(await e.readAll());
    e.dispose();
  }
  let diff = 0;
  let moved = 0;
  for (let i = 0; i < init.length; i++) {
    diff = Math.max(diff, Math.abs(stacks[0][i] - stacks[1][i]));
    moved = Math.max(moved, Math.abs(stacks[0][i] - init[i]));
  }
  if (!(moved > 1e-4)) throw new Error('fused check: the weights did not move');
  return diff;
}

/** Max relative difference of the weights after the same steps through the compiled and the tfjs Trainer on this GPU. */
async function compiledVsTfjs(model: Model, batch: number, steps: number): Promise<number> {
  const batches = Array.from({ length: steps }, () => {
    const rows = randomIdx(batch);
    const x = new Float32Array(batch * FEATURES);
    rows.forEach((r, i) => x.set(X.subarray(r * FEATURES, (r + 1) * FEATURES), i * FEATURES));
    return { x, labels: Int32Array.from(rows, (r) => Y[r]), size: batch };
  });
  const out: Float32Array[] = [];
  for (const kernels of ['tfjs', 'webgpu'] as const) {
    const trainer = new Trainer(model, { kind: 'sgd', lr: 0.05, momentum: 0.9 }, kernels);
    const params = model.init(5);
    const state = initOptimizerState({ kind: 'sgd', lr: 0.05, momentum: 0.9 }, model.layout);
    let i = 0;
    await trainer.train(params, state, () => batches[i++], steps);
    trainer.dispose();
    out.push(params.data);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < out[0].length; i++) {
    diff = Math.max(diff, Math.abs(out[0][i] - out[1][i]));
    scale = Math.max(scale, Math.abs(out[0][i]));
  }
  return diff / scale;
}

// ---- 3. training samples/s ----
async function trainerRate(model: Model, batch: number, kernels: TrainerKernels = 'auto'): Promise<number> {
  const trainer = new Trainer(model, SGD, kernels);
  const params = model.init(1);
  const state = initOptimizerState(SGD, model.layout);
  const steps = quick ? 10 : 30;
  // The product's batches: a peer's seeded iterator over its dataset (rows it can keep on the device).
  const batches = batchIterator(DATASET, batch, 3);
  const s = await seconds(() => trainer.train(params, state, batches.next, steps));
  trainer.dispose();
  return (steps * batch) / s;
}

/** Peer-steps/s (or samples/s with one peer) of the batched engine, data on the device. */
async function engineRate(model: Model, peers: number, batch: number, kernels: BatchedKernels, steps: number): Promise<number> {
  const e = new BatchedTrainer(model, SGD, peers, { kernels });
  const init = new Float32Array(peers * model.layout.size);
  for (let p = 0; p < peers; p++) init.set(model.init(p).data, p * model.layout.size);
  e.loadAll(init);
  e.setData(X, Y, N);
  const idx = Array.from({ length: steps }, () => randomIdx(peers * batch));
  let enqueue = 0;
  const s = await seconds(async () => {
    const t0 = process.hrtime.bigint();
    for (const i of idx) await e.stepIndices(i);
    enqueue = Number(process.hrtime.bigint() - t0) / 1e9;
    await e.takeLoss();
  });
  e.dispose();
  enqueueShare[`${model.spec.kind}/${peers}/${batch}/${kernels}`] = enqueue / s;
  return (steps * peers) / s;
}

// ---- 4. gossip mixing [P×P]·[P×d] ----
async function mixingMs(): Promise<{ tfjsMs: number; fused: { tile: GemmTile; ms: number; relErr: number }[] }> {
  const P = PEERS;
  const d = mlp.layout.size;
  const W = tf.randomUniform([P, P]);
  const Xs = tf.randomNormal([P, d]);
  const reps = 20;
  const tfjsMs =
    (await seconds(async () => {
      const outs: tf.Tensor[] = [];
      for (let i = 0; i < reps; i++) outs.push(tf.matMul(W as tf.Tensor2D, Xs as tf.Tensor2D));
      await sync(outs[reps - 1]);
      tf.dispose(outs);
    })) *
    (1000 / reps);
  const tiles: GemmTile[] = [
    { TM: 128, TN: 128, RM: 8, RN: 8, TK: 8 },
    { TM: 64, TN: 128, RM: 4, RN: 8, TK: 8 },
    { TM: 64, TN: 64, RM: 4, RN: 4, TK: 16 },
  ];
  const fused = [];
  for (const tile of tiles) fused.push({ tile, ...(await ownGemm(P, d, P, tile, reps, W, Xs)) });
  tf.dispose([W, Xs]);
  return { tfjsMs, fused };
}

function torchBaseline(): Record<string, unknown> | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [flag('--torch'), join(here, 'torch_baseline.py'), resolve(here, '../../bench/torch_baseline.py')].filter(
    (p): p is string => Boolean(p),
  );
  const script = candidates.find((p) => existsSync(p));
  if (!script) return log('torch baseline: bench/torch_baseline.py not found (pass --torch PATH)'), undefined;
  if (spawnSync('python3', ['-c', 'import torch; assert torch.cuda.is_available()']).status !== 0) {
    return log('torch baseline: python3 has no CUDA-enabled torch here; skipped'), undefined;
  }
  const r = spawnSync('python3', [script, '--peers', String(PEERS), '--batches', BATCHES.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return log(`torch baseline failed: ${r.stderr.trim().split('\n').pop()}`), undefined;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  adapter: info.device,
  node: process.version,
  cpu: os.cpus()[0]?.model,
  reproduce: [
    'npm install && bash gpu/pack.sh bench/gpu.ts .gpu   # pack.sh of the shared GPU tooling (docs/gpu.md), on a machine with npm',
    'bash .gpu/run.sh --out gpu.json --torch $PWD/bench/torch_baseline.py  # on the GPU host, from the repository root',
  ],
};
results.matmulFlops = await matmulRate();
log(`matmul 4096²: tf.matMul ${((results.matmulFlops as number) / 1e12).toFixed(2)} TFLOP/s, our gemm ${((results.gemmFlops as number) / 1e12).toFixed(2)} TFLOP/s`);
/** Runs one section; a failure is logged and recorded, and the run goes on with the next. */
async function attempt<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    log(`${name} failed: ${(err as Error).stack ?? err}`);
    return { error: String((err as Error).message ?? err) };
  }
}
results.fusedCheck = await attempt('fused check', async () => ({
  sgdMaxAbsDiff: await fusedVsTfjs(SGD),
  momentumMaxAbsDiff: await fusedVsTfjs({ kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }),
}));
log(`fused vs tfjs: ${JSON.stringify(results.fusedCheck)}`);
results.trainerCheck = await attempt('trainer check', async () => ({
  mlpMaxRelDiff: await compiledVsTfjs(mlp, 64, 20),
  cnnMaxRelDiff: await compiledVsTfjs(cnn, 64, 20),
}));
log(`compiled Trainer vs tfjs Trainer (20 momentum steps, batch 64): ${JSON.stringify(results.trainerCheck)}`);
const train: Record<string, number> = {};
for (const b of BATCHES) {
  train[`mlp/${b}/trainer`] = await trainerRate(mlp, b);
  const fused = await attempt('fused single peer', () => engineRate(mlp, 1, b, 'webgpu-fused', quick ? 20 : 100));
  train[`mlp/${b}/fused`] = typeof fused === 'number' ? fused * b : NaN;
  train[`cnn/${b}/trainer`] = await trainerRate(cnn, b);
  train[`mlp/${b}/trainer-tfjs`] = await trainerRate(mlp, b, 'tfjs');
  train[`cnn/${b}/trainer-tfjs`] = await trainerRate(cnn, b, 'tfjs');
  log(`batch ${b}: ${['mlp/trainer', 'mlp/trainer-tfjs', 'mlp/fused', 'cnn/trainer', 'cnn/trainer-tfjs'].map((k) => `${k} ${Math.round(train[k.replace('/', `/${b}/`)])}`).join(', ')} samples/s`);
}
results.train = train;
const num = (v: number | { error: string }) => (typeof v === 'number' ? v : NaN);
results.batched = {
  peers: PEERS,
  batch: PEER_BATCH,
  fusedPeerStepsPerSec: num(await attempt('batched fused', () => engineRate(mlp, PEERS, PEER_BATCH, 'webgpu-fused', quick ? 10 : 40))),
  tfjsPeerStepsPerSec: num(await attempt('batched tfjs', () => engineRate(mlp, PEERS, PEER_BATCH, 'tfjs', quick ? 3 : 10))),
  cnnFusedPeerStepsPerSec: num(await attempt('batched fused cnn', () => engineRate(cnn, PEERS, PEER_BATCH, 'webgpu-fused', quick ? 5 : 20))),
};
results.enqueueShare = enqueueShare;
log(`batched: ${JSON.stringify(results.batched)}`);
log(`enqueue share: ${JSON.stringify(enqueueShare)}`);
const mixing = await attempt('mixing', mixingMs);
results.mixing = 'error' in mixing ? { tfjsMs: NaN, fused: [{ tile: { TM: 0, TN: 0, RM: 0, RN: 0, TK: 0 }, ms: NaN, relErr: NaN }] } : mixing;
log(`mixing: ${JSON.stringify(results.mixing)}`);
const torch = torchBaseline();
results.torch = torch ?? null;

// ---- ratios and table ----
const rows: string[][] = [['measure', 'tfjs-webgpu', 'PyTorch', 'ratio']];
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const add = (name: string, ours: number, theirs: number | undefined, higherIsBetter = true) => {
  const ratio = theirs === undefined ? undefined : higherIsBetter ? ours / theirs : theirs / ours;
  rows.push([name, fmt(ours), theirs === undefined ? '–' : fmt(theirs), ratio === undefined ? '–' : `${(100 * ratio).toFixed(1)}%`]);
  return ratio;
};
const t = (torch ?? {}) as { matmulFlops?: number; train?: Record<string, number>; batchedBmmPeerStepsPerSec?: number; perPeerLoopPeerStepsPerSec?: number; mixingMs?: number };
const ratios: Record<string, number | undefined> = {};
ratios.matmul = add('matmul 4096² fp32, TFLOP/s (tf.matMul)', (results.matmulFlops as number) / 1e12, t.matmulFlops && t.matmulFlops / 1e12);
ratios.gemm = add('matmul 4096² fp32, TFLOP/s (our gemm 128×128)', (results.gemmFlops as number) / 1e12, t.matmulFlops && t.matmulFlops / 1e12);
for (const b of BATCHES) {
  ratios[`mlp/${b}/trainer`] = add(`MLP batch ${b}, samples/s (Trainer, compiled WebGPU step)`, train[`mlp/${b}/trainer`], t.train?.[`mlp/${b}`]);
  ratios[`mlp/${b}/trainer-tfjs`] = add(`MLP batch ${b}, samples/s (Trainer on tfjs ops)`, train[`mlp/${b}/trainer-tfjs`], t.train?.[`mlp/${b}`]);
  ratios[`mlp/${b}/fused`] = add(`MLP batch ${b}, samples/s (fused kernels)`, train[`mlp/${b}/fused`], t.train?.[`mlp/${b}`]);
  ratios[`cnn/${b}/trainer`] = add(`CNN batch ${b}, samples/s (Trainer, compiled WebGPU step)`, train[`cnn/${b}/trainer`], t.train?.[`cnn/${b}`]);
  ratios[`cnn/${b}/trainer-tfjs`] = add(`CNN batch ${b}, samples/s (Trainer on tfjs ops)`, train[`cnn/${b}/trainer-tfjs`], t.train?.[`cnn/${b}`]);
}
const bt = results.batched as { fusedPeerStepsPerSec: number; tfjsPeerStepsPerSec: number };
ratios.batchedFused = add(`${PEERS} peers MLP, peer-steps/s (fused vs bmm)`, bt.fusedPeerStepsPerSec, t.batchedBmmPeerStepsPerSec);
ratios.batchedTfjs = add(`${PEERS} peers MLP, peer-steps/s (tfjs ops vs bmm)`, bt.tfjsPeerStepsPerSec, t.batchedBmmPeerStepsPerSec);
ratios.batchedVsLoop = add(`${PEERS} peers MLP, peer-steps/s (fused vs torch per-peer loop)`, bt.fusedPeerStepsPerSec, t.perPeerLoopPeerStepsPerSec);
const mx = results.mixing as Awaited<ReturnType<typeof mixingMs>>;
const best = mx.fused.reduce((a, b) => (b.ms < a.ms ? b : a));
ratios.mixingFused = add(`mixing ${PEERS}×${PEERS}·${PEERS}×${mlp.layout.size}, ms (our gemm ${best.tile.TM}×${best.tile.TN}, rel. err ${best.relErr.toExponential(1)})`, best.ms, t.mixingMs, false);
ratios.mixingTfjs = add('mixing, ms (tf.matMul)', mx.tfjsMs, t.mixingMs, false);
results.ratios = ratios;
results.gpu = (torch as { device?: string } | undefined)?.device ?? info.device;
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const table = rows.map((r, i) => `| ${r.map((c, j) => c.padEnd(widths[j])).join(' | ')} |${i === 0 ? `\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |` : ''}`).join('\n');
results.table = table;
console.log(table);
if (outFile) writeFileSync(outFile, JSON.stringify(results, null, 2));
