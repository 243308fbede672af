// GPU benchmark: tfjs on WebGPU (Dawn) against PyTorch on the same GPU, in one run.
//
//   bash scripts/pack-gpu.sh bench/gpu.ts .gpu        # here, after npm install
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
import { GpuRuntime, type Dispatch } from '../src/compute/webgpu/runtime.js';
import { gemmKernel, gemmSplitReduceKernel, type GemmSpec, type GemmTile } from '../src/compute/webgpu/gemm.js';
import { flatKernel, writes } from '../src/compute/webgpu/wgsl.js';
import { DeviceModel } from '../src/model/webgpu-state.js';
import { idxSlotBytes } from '../src/model/webgpu-plan.js';
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
/** Peer counts of the batched engine against PyTorch's bmm step (PEERS first). */
const PEER_COUNTS = [PEERS, ...(quick ? [] : [1024])];
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
async function fusedVsTfjs(opt: OptimizerSpec, model: Model = mlp): Promise<number> {
  const P = model === mlp ? 8 : 3;
  const stacks: Float32Array[] = [];
  const init = new Float32Array(P * model.layout.size);
  for (let p = 0; p < P; p++) init.set(model.init(p).data, p * model.layout.size);
  const idx = [randomIdx(P * 16), randomIdx(P * 16), randomIdx(P * 16)];
  for (const kernels of ['tfjs', 'webgpu-fused'] as BatchedKernels[]) {
    const e = new BatchedTrainer(model, opt, P, { kernels });
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

// ---- 5. where the time goes ----
function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `fn` over `n` calls after two warm-up calls. */
async function callMs(fn: () => Promise<unknown>, n = 20): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    const t0 = performance.now();
    await fn();
    if (i >= 2) ts.push(performance.now() - t0);
  }
  return med(ts);
}

/**
 * One pass of `dispatches`: median wall ms (submit, then a 4-byte readback that waits for it),
 * ms spent in the submit call itself (encoding), and GPU ms between the pass's timestamps.
 */
async function passTimes(rt: GpuRuntime, dispatches: readonly Dispatch[], probe: GPUBuffer, repeats = 5): Promise<{ wallMs: number; encodeMs: number; gpuMs: number }> {
  const walls: number[] = [];
  const encodes: number[] = [];
  const gpus: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    rt.submit(dispatches);
    const t1 = performance.now();
    await rt.read([{ buffer: probe, offset: 0, bytes: 4 }]);
    const t2 = performance.now();
    const g = await rt.passMs(dispatches);
    if (r === 0) continue;
    walls.push(t2 - t0);
    encodes.push(t1 - t0);
    if (g !== undefined) gpus.push(g);
  }
  return { wallMs: med(walls), encodeMs: med(encodes), gpuMs: gpus.length ? med(gpus) : NaN };
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** GPU µs per GEMM (and split-K sum) for one shape over tiles and splits, checked against the first variant. */
async function gemmSweep(
  rt: GpuRuntime,
  probe: GPUBuffer,
  shape: { name: string; M: number; N: number; K: number; aTransposed: boolean; batch?: number },
): Promise<unknown[]> {
  const { M, N, K } = shape;
  const P = shape.batch ?? 1;
  const bStride = K * N + N;
  const A = rt.storage(P * M * K * 4, 'sweep A');
  const B = rt.storage(P * bStride * 4, 'sweep B');
  const C = rt.storage(P * M * N * 4, 'sweep C');
  const part = rt.storage(8 * P * M * N * 4, 'sweep partial');
  rt.write(A, 0, Float32Array.from({ length: P * M * K }, () => rng.next() - 0.5));
  rt.write(B, 0, Float32Array.from({ length: P * bStride }, () => rng.next() - 0.5));
  const tiles: GemmTile[] = [
    { TM: 32, TN: 64, RM: 2, RN: 4, TK: 16 },
    { TM: 64, TN: 64, RM: 4, RN: 4, TK: 16 },
    { TM: 16, TN: 64, RM: 1, RN: 4, TK: 16 },
    { TM: 32, TN: 32, RM: 2, RN: 2, TK: 16 },
    { TM: 16, TN: 32, RM: 1, RN: 2, TK: 16 },
    { TM: 16, TN: 16, RM: 1, RN: 1, TK: 16 },
    { TM: 64, TN: 32, RM: 4, RN: 2, TK: 16 },
    { TM: 128, TN: 128, RM: 8, RN: 8, TK: 8 },
    { TM: 32, TN: 128, RM: 4, RN: 8, TK: 16 },
    { TM: 64, TN: 128, RM: 4, RN: 8, TK: 8 },
  ];
  const rows: unknown[] = [];
  let ref: Float32Array | undefined;
  for (const tile of tiles) {
    for (const splitK of P > 1 ? [1, 2] : [1, 2, 4, 8]) {
      const spec: GemmSpec = {
        name: shape.name, batch: P, M, N, K, tile, splitK,
        a: { transposed: shape.aTransposed, offset: 0, batchStride: M * K, ld: shape.aTransposed ? M : K },
        b: { transposed: false, offset: 0, batchStride: bStride, ld: N },
        out: { offset: 0, batchStride: M * N, ld: N },
        epilogue: { kind: 'store', bias: { offset: K * N, batchStride: bStride }, relu: true },
      };
      let kernels;
      try {
        kernels = splitK > 1 ? [gemmKernel(spec), gemmSplitReduceKernel(spec)] : [gemmKernel(spec)];
      } catch {
        continue; // a split that leaves an empty range
      }
      const dispatches: Dispatch[] = [];
      for (const [j, k] of kernels.entries()) {
        const pipeline = await rt.pipeline(k);
        const ranges: Record<string, { buffer: GPUBuffer }> = splitK > 1
          ? j === 0 ? { A: { buffer: A }, B: { buffer: B }, Out: { buffer: part } } : { Partial: { buffer: part }, B: { buffer: B }, Out: { buffer: C } }
          : { A: { buffer: A }, B: { buffer: B }, Out: { buffer: C } };
        dispatches.push({ pipeline, bindGroup: rt.bindGroup(k, pipeline, ranges), grid: k.grid });
      }
      const reps = P > 1 ? 10 : 50;
      const t = await passTimes(rt, Array.from({ length: reps }, () => dispatches).flat(), probe, 3);
      const [c] = await rt.read([{ buffer: C, offset: 0, bytes: P * M * N * 4 }]);
      let err = 0;
      if (!ref) ref = Float32Array.from(c);
      else {
        let num = 0;
        let den = 0;
        for (let i = 0; i < c.length; i++) {
          num += (c[i] - ref[i]) ** 2;
          den += ref[i] ** 2;
        }
        err = Math.sqrt(num / den);
      }
      rows.push({ tile: `${tile.TM}x${tile.TN}/${tile.RM}x${tile.RN}/${tile.TK}`, splitK, workgroups: kernels[0].grid[0] * kernels[0].grid[1] * kernels[0].grid[2], gpuUs: round((t.gpuMs * 1000) / reps), relErr: err });
    }
  }
  [A, B, C, part].forEach((b) => b.destroy());
  return rows;
}

async function profile(): Promise<Record<string, unknown>> {
  const rt = GpuRuntime.fromTfjs();
  const probe = rt.storage(256, 'probe');
  const out: Record<string, unknown> = { timestampQuery: rt.canTimePasses, dawnFlags: process.env.GOSSIPFL_DAWN_FLAGS ?? '' };
  // Host round trips: an empty 4-byte readback, one model's weights back, one model's weights up.
  const d = mlp.layout.size;
  const row = rt.storage(d * 4, 'row');
  const host = Float32Array.from({ length: d }, () => rng.next());
  const rb = await callMs(() => rt.read([{ buffer: probe, offset: 0, bytes: 4 }]));
  out.readback4BytesMs = round(rb, 4);
  out.readbackMlpWeightsMs = round(await callMs(() => rt.read([{ buffer: row, offset: 0, bytes: d * 4 }])), 4);
  out.uploadMlpWeightsMs = round((await callMs(async () => {
    rt.write(row, 0, host);
    await rt.read([{ buffer: probe, offset: 0, bytes: 4 }]);
  })) - rb, 4);
  row.destroy();
  // The floor of a dispatch: one thread adding 1 to one float, 1,000 times in one pass.
  const one = flatKernel('one thread', [writes('Out')], 1, '  Out[0] = Out[0] + 1.0;');
  const onePipeline = await rt.pipeline(one);
  const dOne: Dispatch = { pipeline: onePipeline, bindGroup: rt.bindGroup(one, onePipeline, { Out: { buffer: probe } }), grid: one.grid };
  const R = 1000;
  const floor = await passTimes(rt, Array(R).fill(dOne), probe);
  out.dispatchFloor = {
    wallUs: round(((floor.wallMs - rb) * 1000) / R), gpuUs: round((floor.gpuMs * 1000) / R), encodeUs: round((floor.encodeMs * 1000) / R),
  };
  log(`profile: readback ${out.readback4BytesMs} ms (4 B), ${out.readbackMlpWeightsMs} ms (MLP weights); upload ${out.uploadMlpWeightsMs} ms; dispatch floor ${JSON.stringify(out.dispatchFloor)}`);
  // Each plan: a whole pass of steps, then each kernel alone (repeated in one pass).
  const plans: Record<string, unknown> = {};
  const configs: [Model, number, number][] = [
    [mlp, 1, 32], [mlp, 1, 128], [mlp, 1, 512], [cnn, 1, 32], [cnn, 1, 128], [cnn, 1, 512], [mlp, 256, 32], [mlp, 1024, 32],
  ];
  for (const [model, P, B] of configs) {
    const key = `${model.spec.kind}/P${P}/B${B}`;
    const dm = new DeviceModel(model, SGD, P, 32, 'profile');
    const init = new Float32Array(P * model.layout.size);
    for (let p = 0; p < P; p++) init.set(model.init(p).data, p * model.layout.size);
    rt.write(dm.weights, 0, init);
    const data = dm.upload(X, Y, N, 'profile data');
    const slotBytes = idxSlotBytes(P * B);
    const idx = rt.storage(32 * slotBytes, 'profile idx');
    rt.write(idx, 0, Int32Array.from({ length: (32 * slotBytes) / 4 }, () => rng.int(N)));
    const plan = await dm.build(B, data, idx, slotBytes, 32, 'train');
    const steps = P > 1 ? 8 : 32;
    const all = Array.from({ length: steps }, (_, s) => plan.step(s)).flat();
    const whole = await passTimes(rt, all, probe, 3);
    const kernels = [];
    for (let j = 0; j < plan.names.length; j++) {
      const reps = P > 1 ? 8 : 32;
      const dj = plan.step(0)[j];
      const t = await passTimes(rt, Array(reps).fill(dj), probe, 3);
      kernels.push({ name: plan.names[j], grid: dj.grid.join('x'), gpuUs: round((t.gpuMs * 1000) / reps) });
    }
    plans[key] = {
      dispatches: plan.names.length,
      stepGpuUs: round((whole.gpuMs * 1000) / steps), stepWallUs: round(((whole.wallMs - rb) * 1000) / steps), encodeUsPerStep: round((whole.encodeMs * 1000) / steps),
      sumOfKernelsUs: round(kernels.reduce((a, k) => a + k.gpuUs, 0)), kernels,
    };
    log(`profile ${key}: ${JSON.stringify(plans[key])}`);
    dm.destroy();
    [data.data, data.labels, idx].forEach((b) => b.destroy());
  }
  out.plans = plans;
  // The Trainer per call: 30 steps, and 0 steps (its weights in and out alone).
  const trainer: Record<string, unknown> = {};
  for (const [model, B] of [[mlp, 32], [mlp, 512], [cnn, 32]] as [Model, number][]) {
    const tr = new Trainer(model, SGD, 'webgpu');
    const params = model.init(1);
    const state = initOptimizerState(SGD, model.layout);
    const batches = batchIterator(DATASET, B, 3);
    const call30 = await callMs(() => tr.train(params, state, batches.next, 30), 10);
    const call0 = await callMs(() => tr.train(params, state, batches.next, 0), 10);
    trainer[`${model.spec.kind}/B${B}`] = { call30StepsMs: round(call30, 3), call0StepsMs: round(call0, 3) };
    tr.dispose();
  }
  out.trainer = trainer;
  log(`profile trainer: ${JSON.stringify(trainer)}`);
  const sweep: Record<string, unknown> = {};
  for (const B of BATCHES) {
    sweep[`mlp dense0 forward B${B}`] = await gemmSweep(rt, probe, { name: 'fwd', M: B, N: 128, K: 784, aTransposed: false });
    sweep[`mlp dense0 dW B${B}`] = await gemmSweep(rt, probe, { name: 'dW', M: 784, N: 128, K: B, aTransposed: true });
    sweep[`cnn dense0 forward B${B}`] = await gemmSweep(rt, probe, { name: 'fwd', M: B, N: 120, K: 400, aTransposed: false });
  }
  sweep['mlp dense0 forward 256 peers B32'] = await gemmSweep(rt, probe, { name: 'fwd', M: 32, N: 128, K: 784, aTransposed: false, batch: 256 });
  sweep['mlp dense0 dW 256 peers B32'] = await gemmSweep(rt, probe, { name: 'dW', M: 784, N: 128, K: 32, aTransposed: true, batch: 256 });
  out.gemmSweep = sweep;
  for (const [k, v] of Object.entries(sweep)) {
    const rows = v as { tile: string; splitK: number; gpuUs: number; relErr: number }[];
    const best = rows.reduce((a, b) => (b.gpuUs < a.gpuUs ? b : a));
    log(`sweep ${k}: first ${rows[0].gpuUs} µs; best ${best.tile} split ${best.splitK} ${best.gpuUs} µs; max relErr ${Math.max(...rows.map((r) => r.relErr)).toExponential(1)}`);
  }
  probe.destroy();
  return out;
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
  const r = spawnSync('python3', [script, '--peers', PEER_COUNTS.join(','), '--batches', BATCHES.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return log(`torch baseline failed: ${r.stderr.trim().split('\n').pop()}`), undefined;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  adapter: info.device,
  node: process.version,
  cpu: os.cpus()[0]?.model,
  dawnFlags: process.env.GOSSIPFL_DAWN_FLAGS ?? '',
  reproduce: [
    'npm install && bash scripts/pack-gpu.sh bench/gpu.ts .gpu   # docs/gpu.md, on a machine with npm',
    'bash .gpu/run.sh --out gpu.json --torch bench/torch_baseline.py  # on the GPU host, from the repository root',
  ],
};
/** Runs one section; a failure is logged and recorded, and the run goes on with the next. */
async function attempt<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    log(`${name} failed: ${(err as Error).stack ?? err}`);
    return { error: String((err as Error).message ?? err) };
  }
}
if (args.includes('--profile-only')) {
  results.profile = await profile();
  if (outFile) writeFileSync(outFile, JSON.stringify(results, null, 2));
  process.exit(0);
}
results.matmulFlops = await matmulRate();
log(`matmul 4096²: tf.matMul ${((results.matmulFlops as number) / 1e12).toFixed(2)} TFLOP/s, our gemm ${((results.gemmFlops as number) / 1e12).toFixed(2)} TFLOP/s`);
results.fusedCheck = await attempt('fused check', async () => ({
  sgdMaxAbsDiff: await fusedVsTfjs(SGD),
  momentumMaxAbsDiff: await fusedVsTfjs({ kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }),
  adamMaxAbsDiff: await fusedVsTfjs({ kind: 'adam', lr: 0.001 }),
  cnnMomentumMaxAbsDiff: await fusedVsTfjs({ kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }, cnn),
}));
log(`fused vs tfjs: ${JSON.stringify(results.fusedCheck)}`);
results.trainerCheck = await attempt('trainer check', async () => ({
  mlpMaxRelDiff: await compiledVsTfjs(mlp, 64, 20),
  cnnMaxRelDiff: await compiledVsTfjs(cnn, 64, 20),
  mlpBatch512MaxRelDiff: await compiledVsTfjs(mlp, 512, 10),
  cnnBatch512MaxRelDiff: await compiledVsTfjs(cnn, 512, 10),
}));
log(`compiled Trainer vs tfjs Trainer (momentum steps): ${JSON.stringify(results.trainerCheck)}`);
const num = (v: number | { error: string }) => (typeof v === 'number' ? v : NaN);
const train: Record<string, number> = {};
for (const b of BATCHES) {
  train[`mlp/${b}/trainer`] = num(await attempt('trainer mlp', () => trainerRate(mlp, b)));
  const fused = await attempt('fused single peer', () => engineRate(mlp, 1, b, 'webgpu-fused', quick ? 20 : 100));
  train[`mlp/${b}/fused`] = typeof fused === 'number' ? fused * b : NaN;
  train[`cnn/${b}/trainer`] = num(await attempt('trainer cnn', () => trainerRate(cnn, b)));
  if (!args.includes('--no-tfjs')) {
    train[`mlp/${b}/trainer-tfjs`] = await trainerRate(mlp, b, 'tfjs');
    train[`cnn/${b}/trainer-tfjs`] = await trainerRate(cnn, b, 'tfjs');
  }
  log(`batch ${b}: ${['mlp/trainer', 'mlp/trainer-tfjs', 'mlp/fused', 'cnn/trainer', 'cnn/trainer-tfjs'].map((k) => `${k} ${Math.round(train[k.replace('/', `/${b}/`)])}`).join(', ')} samples/s`);
}
results.train = train;
const fusedByPeers: Record<string, number> = {};
for (const P of PEER_COUNTS) {
  fusedByPeers[P] = num(await attempt(`batched fused ${P}`, () => engineRate(mlp, P, PEER_BATCH, 'webgpu-fused', quick ? 10 : P > 256 ? 20 : 40)));
}
results.batched = {
  peers: PEERS,
  batch: PEER_BATCH,
  fusedPeerStepsPerSec: fusedByPeers[PEERS],
  fusedByPeers,
  tfjsPeerStepsPerSec: args.includes('--no-tfjs') ? NaN : num(await attempt('batched tfjs', () => engineRate(mlp, PEERS, PEER_BATCH, 'tfjs', quick ? 3 : 10))),
  cnnFusedPeerStepsPerSec: num(await attempt('batched fused cnn', () => engineRate(cnn, PEERS, PEER_BATCH, 'webgpu-fused', quick ? 5 : 20))),
};
results.enqueueShare = enqueueShare;
log(`batched: ${JSON.stringify(results.batched)}`);
log(`enqueue share: ${JSON.stringify(enqueueShare)}`);
const mixing = await attempt('mixing', mixingMs);
results.mixing = 'error' in mixing ? { tfjsMs: NaN, fused: [{ tile: { TM: 0, TN: 0, RM: 0, RN: 0, TK: 0 }, ms: NaN, relErr: NaN }] } : mixing;
log(`mixing: ${JSON.stringify(results.mixing)}`);
if (args.includes('--profile')) results.profile = await attempt('profile', profile);
const torch = torchBaseline();
results.torch = torch ?? null;

// ---- ratios and table: ours against eager PyTorch and against its CUDA graphs ----
const rows: string[][] = [['measure', 'ours', 'PyTorch eager', 'ours / eager', 'PyTorch CUDA graph', 'ours / graph']];
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const pct = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? '–' : `${(100 * r).toFixed(1)}%`);
const ratios: Record<string, number | undefined> = {};
const graphRatios: Record<string, number | undefined> = {};
/** One row; ratios are ours / theirs for rates and theirs / ours for times (higher is better for us in both). */
const add = (key: string, name: string, ours: number, eager: number | undefined, graph?: number, higherIsBetter = true) => {
  const r = (theirs: number | undefined) => (theirs === undefined ? undefined : higherIsBetter ? ours / theirs : theirs / ours);
  ratios[key] = r(eager);
  graphRatios[key] = r(graph);
  rows.push([name, fmt(ours), eager === undefined ? '–' : fmt(eager), pct(ratios[key]), graph === undefined ? '–' : fmt(graph), pct(graphRatios[key])]);
};
const t = (torch ?? {}) as {
  matmulFlops?: number; train?: Record<string, number>; trainGraph?: Record<string, number>; batchedBmm?: Record<string, number>;
  batchedBmmGraph?: Record<string, number>; batchedBmmPeerStepsPerSec?: number; perPeerLoopPeerStepsPerSec?: number; mixingMs?: number;
};
add('matmul', 'matmul 4096² fp32, TFLOP/s (tf.matMul)', (results.matmulFlops as number) / 1e12, t.matmulFlops && t.matmulFlops / 1e12);
add('gemm', 'matmul 4096² fp32, TFLOP/s (our gemm 128×128)', (results.gemmFlops as number) / 1e12, t.matmulFlops && t.matmulFlops / 1e12);
for (const b of BATCHES) {
  const [e, g] = [t.train?.[`mlp/${b}`], t.trainGraph?.[`mlp/${b}`]];
  add(`mlp/${b}/trainer`, `MLP batch ${b}, samples/s (Trainer, compiled WebGPU step)`, train[`mlp/${b}/trainer`], e, g);
  add(`mlp/${b}/fused`, `MLP batch ${b}, samples/s (batched engine, 1 peer)`, train[`mlp/${b}/fused`], e, g);
  if (train[`mlp/${b}/trainer-tfjs`] !== undefined) add(`mlp/${b}/trainer-tfjs`, `MLP batch ${b}, samples/s (Trainer on tfjs ops)`, train[`mlp/${b}/trainer-tfjs`], e, g);
}
for (const b of BATCHES) {
  const [e, g] = [t.train?.[`cnn/${b}`], t.trainGraph?.[`cnn/${b}`]];
  add(`cnn/${b}/trainer`, `CNN batch ${b}, samples/s (Trainer, compiled WebGPU step)`, train[`cnn/${b}/trainer`], e, g);
  if (train[`cnn/${b}/trainer-tfjs`] !== undefined) add(`cnn/${b}/trainer-tfjs`, `CNN batch ${b}, samples/s (Trainer on tfjs ops)`, train[`cnn/${b}/trainer-tfjs`], e, g);
}
const bt = results.batched as { tfjsPeerStepsPerSec: number };
for (const P of PEER_COUNTS) {
  add(`batchedFused/${P}`, `${P} peers MLP batch ${PEER_BATCH}, peer-steps/s (batched engine vs bmm)`, fusedByPeers[P], t.batchedBmm?.[P] ?? (P === PEERS ? t.batchedBmmPeerStepsPerSec : undefined), t.batchedBmmGraph?.[P]);
}
if (Number.isFinite(bt.tfjsPeerStepsPerSec)) add('batchedTfjs', `${PEERS} peers MLP, peer-steps/s (tfjs ops vs bmm)`, bt.tfjsPeerStepsPerSec, t.batchedBmmPeerStepsPerSec, t.batchedBmmGraph?.[PEERS]);
add('batchedVsLoop', `${PEERS} peers MLP, peer-steps/s (batched engine vs torch per-peer loop)`, fusedByPeers[PEERS], t.perPeerLoopPeerStepsPerSec);
const mx = results.mixing as Awaited<ReturnType<typeof mixingMs>>;
const best = mx.fused.reduce((a, b) => (b.ms < a.ms ? b : a));
add('mixingFused', `mixing ${PEERS}×${PEERS}·${PEERS}×${mlp.layout.size}, ms (our gemm ${best.tile.TM}×${best.tile.TN}, rel. err ${best.relErr.toExponential(1)})`, best.ms, t.mixingMs, undefined, false);
add('mixingTfjs', 'mixing, ms (tf.matMul)', mx.tfjsMs, t.mixingMs, undefined, false);
results.ratios = ratios;
results.graphRatios = graphRatios;
results.gpu = (torch as { device?: string } | undefined)?.device ?? info.device;
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
const table = rows.map((r, i) => `| ${r.map((c, j) => c.padEnd(widths[j])).join(' | ')} |${i === 0 ? `\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |` : ''}`).join('\n');
results.table = table;
console.log(table);
if (outFile) writeFileSync(outFile, JSON.stringify(results, null, 2));
