import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/compute/tf.js';
import { initBackend } from '../../src/compute/backend.js';
import { buildModel, type Model } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { BatchedTrainer } from '../../src/model/batched.js';
import { initOptimizerState, type OptimizerSpec } from '../../src/model/optimizer.js';
import { paramsFrom } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';

/** A seeded dataset of n samples (features ~ N(0,1), labels uniform in [0, classes)). */
function dataset(n: number, features: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * features }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, () => rng.int(classes));
  return { x, labels, n };
}

/** idx[s][p·B + b]: step s, peer p, sample b. */
function schedule(steps: number, peers: number, batch: number, n: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => Int32Array.from({ length: peers * batch }, () => rng.int(n)));
}

/** Runs the same steps with the per-peer Trainer and with the batched engine; returns both weight stacks. */
async function bothEngines(model: Model, opt: OptimizerSpec, peers: number, batch: number, steps: number) {
  const f = model.inputShape.reduce((a, b) => a * b, 1);
  const data = dataset(64, f, model.numClasses, 7);
  const idx = schedule(steps, peers, batch, data.n, 8);
  const inits = Array.from({ length: peers }, (_, p) => model.init(100 + p));

  const trainer = new Trainer(model, opt);
  const perPeer = new Float32Array(peers * model.layout.size);
  const perPeerLoss = new Float32Array(peers);
  for (let p = 0; p < peers; p++) {
    const params = { layout: model.layout, data: inits[p].data.slice() };
    const state = initOptimizerState(opt, model.layout);
    let s = 0;
    const next = () => {
      const rows = idx[s++].subarray(p * batch, (p + 1) * batch);
      const x = new Float32Array(batch * f);
      rows.forEach((r, i) => x.set(data.x.subarray(r * f, (r + 1) * f), i * f));
      return { x, labels: Int32Array.from(rows, (r) => data.labels[r]), size: batch };
    };
    const r = await trainer.train(params, state, next, steps);
    perPeer.set(params.data, p * model.layout.size);
    perPeerLoss[p] = r.loss;
  }
  trainer.dispose();

  const engine = new BatchedTrainer(model, opt, peers);
  const all = new Float32Array(peers * model.layout.size);
  inits.forEach((p, i) => all.set(p.data, i * model.layout.size));
  engine.loadAll(all);
  engine.setData(data.x, data.labels, data.n);
  for (const s of idx) await engine.stepIndices(s);
  const batched = await engine.readAll();
  const batchedLoss = await engine.takeLoss();
  engine.dispose();
  return { perPeer, batched, perPeerLoss, batchedLoss };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('batched engine on the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each<OptimizerSpec>([
    { kind: 'sgd', lr: 0.1 },
    { kind: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-3 },
    { kind: 'adam', lr: 0.01 },
  ])('MLP: equals the per-peer Trainer with %o', async (opt) => {
    const model = buildModel({ kind: 'mlp', hidden: [8, 6] }, [10], 3);
    const r = await bothEngines(model, opt, 3, 4, 5);
    expect(maxAbsDiff(r.batched, r.perPeer)).toBeLessThan(1e-5);
    r.batchedLoss.forEach((l, p) => expect(l).toBeCloseTo(r.perPeerLoss[p], 5));
    // The steps moved the weights (the comparison is not between two untouched copies).
    const init = new Float32Array(3 * model.layout.size);
    [0, 1, 2].forEach((p) => init.set(model.init(100 + p).data, p * model.layout.size));
    expect(maxAbsDiff(r.batched, init)).toBeGreaterThan(1e-3);
  });

  it('CNN: equals the per-peer Trainer (autograd path)', async () => {
    const model = buildModel({ kind: 'cnn', channels: [2, 3], hidden: [5] }, [12, 12, 1], 3);
    const r = await bothEngines(model, { kind: 'sgd', lr: 0.1, momentum: 0.5 }, 2, 3, 2);
    expect(maxAbsDiff(r.batched, r.perPeer)).toBeLessThan(1e-5);
    r.batchedLoss.forEach((l, p) => expect(l).toBeCloseTo(r.perPeerLoss[p], 5));
  });

  it('stepBatches equals stepIndices on the same samples', async () => {
    const model = buildModel({ kind: 'logreg' }, [4], 2);
    const data = dataset(10, 4, 2, 3);
    const idx = Int32Array.of(0, 3, 5, 9);
    const a = new BatchedTrainer(model, { kind: 'sgd', lr: 0.5 }, 2);
    const b = new BatchedTrainer(model, { kind: 'sgd', lr: 0.5 }, 2);
    const init = new Float32Array(2 * model.layout.size).map((_, i) => (i % 5) * 0.1);
    a.loadAll(init);
    b.loadAll(init);
    a.setData(data.x, data.labels, data.n);
    await a.stepIndices(idx);
    const batches = [0, 1].map((p) => {
      const rows = idx.subarray(2 * p, 2 * p + 2);
      const x = new Float32Array(8);
      rows.forEach((r, i) => x.set(data.x.subarray(4 * r, 4 * r + 4), 4 * i));
      return { x, labels: Int32Array.from(rows, (r) => data.labels[r]), size: 2 };
    });
    await b.stepBatches(batches);
    expect(await b.readAll()).toEqual(await a.readAll());
    a.dispose();
    b.dispose();
  });

  it('mix computes W·X exactly for a hand-built W', async () => {
    const model = buildModel({ kind: 'logreg' }, [1], 2); // d = 4
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 3);
    const X = Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400);
    engine.loadAll(X);
    // Row 0 averages peers 0 and 1; row 1 keeps itself; row 2 takes ¼ of 0 and ¾ of 2.
    await engine.mix(Float32Array.of(0.5, 0.5, 0, 0, 1, 0, 0.25, 0, 0.75));
    expect(Array.from(await engine.readAll())).toEqual([5.5, 11, 16.5, 22, 10, 20, 30, 40, 75.25, 150.5, 225.75, 301]);
    engine.dispose();
  });

  it('loadPeer/readPeer move one row and leave the others', async () => {
    const model = buildModel({ kind: 'logreg' }, [1], 2);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 3);
    engine.loadAll(new Float32Array(12).map((_, i) => i));
    engine.loadPeer(1, paramsFrom(model.layout, Float32Array.of(-1, -2, -3, -4)));
    expect(Array.from((await engine.readPeer(1)).data)).toEqual([-1, -2, -3, -4]);
    expect(Array.from(await engine.readAll())).toEqual([0, 1, 2, 3, -1, -2, -3, -4, 8, 9, 10, 11]);
    engine.dispose();
  });

  it('keeps memory flat over many steps and mixes', async () => {
    const model = buildModel({ kind: 'mlp', hidden: [4] }, [6], 2);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.05, momentum: 0.9 }, 4);
    engine.loadAll(new Float32Array(4 * model.layout.size).fill(0.01));
    const data = dataset(32, 6, 2, 1);
    engine.setData(data.x, data.labels, data.n);
    const idx = schedule(300, 4, 2, data.n, 2);
    const W = new Float32Array(16).fill(0.25);
    await engine.stepIndices(idx[0]);
    await engine.mix(W);
    const before = tf.memory().numTensors;
    for (let s = 1; s < idx.length; s++) {
      await engine.stepIndices(idx[s]);
      if (s % 10 === 0) await engine.mix(W);
    }
    await engine.takeLoss();
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
  });

  it('refuses bad input with one clear error', async () => {
    const model = buildModel({ kind: 'logreg' }, [2], 2);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 2);
    expect(() => engine.loadAll(new Float32Array(5))).toThrow(/loadAll needs 2×6 = 12 values, got 5/);
    await expect(engine.mix(new Float32Array(3))).rejects.toThrow(/mixing matrix needs 2×2/);
    await expect(engine.mix(Float32Array.of(1, 0, NaN, 1))).rejects.toThrow(/non-finite/);
    await expect(engine.stepIndices(Int32Array.of(0, 1))).rejects.toThrow(/call setData/);
    engine.setData(new Float32Array(4), [0, 1], 2);
    await expect(engine.stepIndices(Int32Array.of(0, 1, 2))).rejects.toThrow(/do not split into 2/);
    await expect(engine.stepIndices(Int32Array.of(0, 5))).rejects.toThrow(/index 5 outside/);
    expect(() => new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 2, { kernels: 'webgpu-fused' })).toThrow(/need the webgpu backend/);
    engine.dispose();
  });
});

describe('webgpu backend without a GPU', () => {
  it('initBackend("webgpu") fails with one line naming the cause', async () => {
    let message = '';
    try {
      await initBackend('webgpu');
    } catch (err) {
      message = (err as Error).message;
    }
    // This test runs where there is no Vulkan GPU (CI); on a GPU host the backend starts instead.
    if (message === '') return;
    expect(message).toMatch(/^backend 'webgpu' is not available: /);
    expect(message).not.toContain('\n');
  });
});
