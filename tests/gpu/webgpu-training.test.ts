// The Trainer's compiled WebGPU path against its tfjs path on the same steps.
//
// Runs where a WebGPU adapter exists: on a GPU host, or on any machine with a software Vulkan
// driver (SwiftShader: see docs/gpu.md, "Testing the kernels without a GPU"). Elsewhere the
// suite is skipped and says so; the tfjs path it compares against is tested everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/compute/tf.js';
import { initBackend } from '../../src/compute/backend.js';
import { buildModel, type Model } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { BatchedTrainer } from '../../src/model/batched.js';
import { initOptimizerState, type OptimizerSpec } from '../../src/model/optimizer.js';
import type { Batch } from '../../src/model/batch.js';
import { Rng } from '../../src/util/rng.js';

let webgpu = false;
let adapter = '';
beforeAll(async () => {
  try {
    adapter = (await initBackend('webgpu')).device ?? '';
    webgpu = true;
  } catch {
    webgpu = false;
  }
  await tf.setBackend('cpu');
}, 60_000);
afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Seeded batches whose sizes follow `sizes` (pixel-like inputs in [0, 1)). */
function batches(model: Model, sizes: readonly number[], seed: number): Batch[] {
  const rng = new Rng(seed);
  const f = model.inputShape.reduce((a, b) => a * b, 1);
  return sizes.map((size) => ({
    x: Float32Array.from({ length: size * f }, () => rng.next()),
    labels: Int32Array.from({ length: size }, () => rng.int(model.numClasses)),
    size,
  }));
}

async function run(backend: 'cpu' | 'webgpu', model: Model, opt: OptimizerSpec, data: Batch[]) {
  await tf.setBackend(backend);
  const trainer = new Trainer(model, opt);
  expect(trainer.kernels).toBe(backend === 'webgpu' ? 'webgpu' : 'tfjs');
  const params = model.init(3);
  const state = initOptimizerState(opt, model.layout);
  let i = 0;
  const result = await trainer.train(params, state, () => data[i++], data.length);
  const evalSet = data[0];
  const evaluation = await trainer.evaluate(params, { x: evalSet.x, y: evalSet.labels, n: evalSet.size });
  trainer.dispose();
  return { params: params.data, slots: state.slots, step: state.step, result, evaluation };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / scale;
}

const cases: { name: string; spec: Parameters<typeof buildModel>[0]; shape: number[]; opt: OptimizerSpec; sizes: number[] }[] = [
  { name: 'MLP, SGD, 35 steps (two submits), a short last batch', spec: { kind: 'mlp', hidden: [32, 16] }, shape: [20], opt: { kind: 'sgd', lr: 0.1 }, sizes: [...Array(34).fill(8), 5] },
  { name: 'MLP, momentum and weight decay', spec: { kind: 'mlp', hidden: [24] }, shape: [20], opt: { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }, sizes: Array(6).fill(16) },
  { name: 'logistic regression, Adam', spec: { kind: 'logreg' }, shape: [12], opt: { kind: 'adam', lr: 0.01, weightDecay: 1e-4 }, sizes: Array(5).fill(10) },
  { name: 'LeNet-style CNN on 16×16, SGD', spec: { kind: 'cnn', channels: [4, 8], hidden: [16] }, shape: [16, 16, 1], opt: { kind: 'sgd', lr: 0.05 }, sizes: [6, 6, 6, 3] },
  { name: 'CNN on 28×28 with two input channels, momentum', spec: { kind: 'cnn' }, shape: [28, 28, 2], opt: { kind: 'sgd', lr: 0.02, momentum: 0.5 }, sizes: [4, 4] },
  // 784 inputs at batch 300: the forward GEMM splits K = 784 over 7 workgroups and the weight
  // gradient K = 300 over 4 (the last one short), each summed by a second kernel.
  { name: 'MLP 784-64-10, batch 300 (split-K GEMMs), momentum', spec: { kind: 'mlp', hidden: [64] }, shape: [784], opt: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, sizes: [300, 300, 77] },
  { name: 'CNN, Adam (the update in the kernel-gradient sums), batch 40', spec: { kind: 'cnn', channels: [4, 8], hidden: [16] }, shape: [16, 16, 1], opt: { kind: 'adam', lr: 0.01, weightDecay: 1e-4 }, sizes: [40, 40, 40] },
];

describe('backend choice', () => {
  it('auto passes over a software WebGPU adapter (it would be slower than wasm)', async (ctx) => {
    if (!webgpu || !/swiftshader|llvmpipe|lavapipe/i.test(adapter)) ctx.skip();
    const picked = await initBackend('auto');
    expect(picked.name).not.toBe('webgpu');
    expect(picked.reason).toMatch(/software one/);
    await tf.setBackend('cpu');
  }, 60_000);
});

describe('Trainer: compiled WebGPU kernels vs tfjs ops', () => {
  for (const c of cases) {
    it(c.name, async (ctx) => {
      if (!webgpu) ctx.skip();
      const model = buildModel(c.spec, c.shape, 5);
      const data = batches(model, c.sizes, 11);
      const ref = await run('cpu', model, c.opt, data);
      const gpu = await run('webgpu', model, c.opt, data);
      expect(gpu.step).toBe(ref.step);
      expect(maxRelDiff(ref.params, gpu.params)).toBeLessThan(2e-4);
      ref.slots.forEach((s, i) => expect(maxRelDiff(s, gpu.slots[i])).toBeLessThan(2e-4));
      expect(gpu.result.loss).toBeCloseTo(ref.result.loss, 4);
      expect(gpu.result.samples).toBe(ref.result.samples);
      expect(gpu.evaluation.loss).toBeCloseTo(ref.evaluation.loss, 4);
      expect(gpu.evaluation.accuracy).toBe(ref.evaluation.accuracy);
      // The steps moved the weights (a comparison of two untouched models would prove nothing).
      expect(maxRelDiff(model.init(3).data, gpu.params)).toBeGreaterThan(1e-3);
    }, 120_000);
  }

  it('batches that are rows of a dataset train from a device copy of it, also when sources alternate', async (ctx) => {
    if (!webgpu) ctx.skip();
    const model = buildModel({ kind: 'mlp', hidden: [16] }, [10], 4);
    const rng = new Rng(21);
    const shard = (n: number) => ({ x: Float32Array.from({ length: n * 10 }, () => rng.next()), y: Int32Array.from({ length: n }, () => rng.int(4)), n });
    const sources = [shard(50), shard(30)];
    // 12 steps: 5 from the first shard, 4 from the second, 3 from the first again.
    const plan = [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0];
    const draws = plan.map((s) => {
      const src = sources[s];
      const rows = Int32Array.from({ length: 7 }, () => rng.int(src.n));
      const x = new Float32Array(7 * 10);
      rows.forEach((r, i) => x.set(src.x.subarray(r * 10, (r + 1) * 10), i * 10));
      return { x, labels: Int32Array.from(rows, (r) => src.y[r]), size: 7, source: src, rows };
    });
    const opt: OptimizerSpec = { kind: 'sgd', lr: 0.2, momentum: 0.5 };
    const ref = await run('cpu', model, opt, draws);
    // The device path must not read x: hand it batches whose x is garbage.
    const blind = draws.map((d) => ({ ...d, x: new Float32Array(d.x.length).fill(Number.NaN) }));
    const gpu = await run('webgpu', model, opt, blind.map((b, i) => (i === 0 ? draws[0] : b)));
    expect(maxRelDiff(ref.params, gpu.params)).toBeLessThan(2e-4);
    expect(gpu.result.loss).toBeCloseTo(ref.result.loss, 4);
  }, 60_000);

  it('evaluates a set larger than one chunk with a partial last chunk', async (ctx) => {
    if (!webgpu) ctx.skip();
    const model = buildModel({ kind: 'mlp', hidden: [8] }, [6], 3);
    const [set] = batches(model, [2500], 5);
    const params = model.init(9);
    const out: number[][] = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      await tf.setBackend(backend);
      const t = new Trainer(model, { kind: 'sgd', lr: 0.1 });
      const e = await t.evaluate(params, { x: set.x, y: set.labels, n: set.size });
      t.dispose();
      out.push([e.loss, e.accuracy, e.samples]);
    }
    expect(out[1][0]).toBeCloseTo(out[0][0], 4);
    expect(out[1][1]).toBe(out[0][1]);
    expect(out[1][2]).toBe(2500);
  }, 60_000);
});

describe('BatchedTrainer: compiled WebGPU step vs tfjs ops', () => {
  async function runStack(backend: 'cpu' | 'webgpu', model: Model, opt: OptimizerSpec, peers: number) {
    await tf.setBackend(backend);
    const engine = new BatchedTrainer(model, opt, peers);
    expect(engine.kernels).toBe(backend === 'webgpu' ? 'webgpu-fused' : 'tfjs');
    const d = model.layout.size;
    const all = new Float32Array(peers * d);
    for (let p = 0; p < peers; p++) all.set(model.init(40 + p).data, p * d);
    engine.loadAll(all);
    const rng = new Rng(4);
    const f = model.inputShape.reduce((a, b) => a * b, 1);
    const n = 40;
    const x = Float32Array.from({ length: n * f }, () => rng.next());
    const y = Int32Array.from({ length: n }, () => rng.int(model.numClasses));
    engine.setData(x, y, n);
    for (let s = 0; s < 3; s++) await engine.stepIndices(Int32Array.from({ length: peers * 5 }, () => rng.int(n)));
    // Each peer's own dataset, batches as dataset rows (the simulator's batches).
    const shards = Array.from({ length: peers }, (_, p) => ({ x: x.subarray(p * 10 * f, (p + 1) * 10 * f), y: y.subarray(p * 10, (p + 1) * 10), n: 10 }));
    for (let s = 0; s < 2; s++) {
      await engine.stepBatches(
        shards.map((src) => {
          const rows = Int32Array.from({ length: 4 }, () => rng.int(src.n));
          const bx = new Float32Array(4 * f);
          rows.forEach((r, i) => bx.set(src.x.subarray(r * f, (r + 1) * f), i * f));
          return { x: bx, labels: Int32Array.from(rows, (r) => src.y[r]), size: 4, source: src, rows };
        }),
      );
    }
    const W = Float32Array.from({ length: peers * peers }, (_, i) => (Math.floor(i / peers) === i % peers ? 0.5 : 0.5 / (peers - 1)));
    await engine.mix(W);
    await engine.stepIndices(Int32Array.from({ length: peers * 5 }, () => rng.int(n)));
    const out = { stack: await engine.readAll(), peer1: (await engine.readPeer(1)).data, loss: await engine.takeLoss(), slots: await engine.readSlots() };
    engine.dispose();
    return out;
  }

  it('a replaced dataset and plain batches (no dataset rows) are read afresh on every step', async (ctx) => {
    if (!webgpu) ctx.skip();
    const model = buildModel({ kind: 'mlp', hidden: [8] }, [6], 3);
    const out: Float32Array[] = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      await tf.setBackend(backend);
      const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 2);
      engine.loadAll(Float32Array.from({ length: 2 * model.layout.size }, (_, i) => Math.sin(i)));
      const rng = new Rng(8);
      const data = () => ({ x: Float32Array.from({ length: 20 * 6 }, () => rng.next()), y: Int32Array.from({ length: 20 }, () => rng.int(3)) });
      for (let round = 0; round < 2; round++) {
        // Same size each time: a plan cached for the first dataset must not read the old buffers.
        const d = data();
        engine.setData(d.x, d.y, 20);
        await engine.stepIndices(Int32Array.from({ length: 8 }, () => rng.int(20)));
      }
      for (let step = 0; step < 2; step++) {
        const d = data();
        await engine.stepBatches([0, 1].map((p) => ({ x: d.x.subarray(p * 24, (p + 1) * 24), labels: d.y.subarray(p * 4, (p + 1) * 4), size: 4 })));
      }
      await engine.stepIndices(Int32Array.from({ length: 8 }, () => rng.int(20)));
      out.push(await engine.readAll());
      engine.dispose();
    }
    expect(maxRelDiff(out[0], out[1])).toBeLessThan(2e-4);
  }, 60_000);

  const stackCases: { name: string; spec: Parameters<typeof buildModel>[0]; shape: number[]; opt: OptimizerSpec }[] = [
    { name: 'MLP, momentum', spec: { kind: 'mlp', hidden: [16] }, shape: [12], opt: { kind: 'sgd', lr: 0.1, momentum: 0.9 } },
    { name: 'MLP, Adam', spec: { kind: 'mlp', hidden: [8, 8] }, shape: [12], opt: { kind: 'adam', lr: 0.01 } },
    { name: 'CNN, SGD', spec: { kind: 'cnn', channels: [3, 4], hidden: [8] }, shape: [12, 12, 1], opt: { kind: 'sgd', lr: 0.05 } },
  ];
  for (const c of stackCases) {
    it(c.name, async (ctx) => {
      if (!webgpu) ctx.skip();
      const model = buildModel(c.spec, c.shape, 3);
      const ref = await runStack('cpu', model, c.opt, 3);
      const gpu = await runStack('webgpu', model, c.opt, 3);
      expect(maxRelDiff(ref.stack, gpu.stack)).toBeLessThan(2e-4);
      expect(maxRelDiff(ref.peer1, gpu.peer1)).toBeLessThan(2e-4);
      ref.slots.forEach((s, i) => expect(maxRelDiff(s, gpu.slots[i])).toBeLessThan(2e-4));
      ref.loss.forEach((l, i) => expect(gpu.loss[i]).toBeCloseTo(l, 4));
    }, 120_000);
  }
});
