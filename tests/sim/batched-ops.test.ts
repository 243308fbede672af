// The batched engine's round operations against the per-peer reference on the same data:
// minibatch streams vs batchIterator, mixing by compressed rows vs gossipMix, exact merge vs
// globalAverage, batched evaluation vs Trainer.evaluate, consensus vs consensusDistance.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { buildModel } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { BatchedTrainer } from '../../src/model/batched.js';
import { BatchStreams } from '../../src/sim/batched-streams.js';
import { compressedRows } from '../../src/sim/batched-world.js';
import { batchIterator, subset, type Dataset } from '../../src/data/index.js';
import { gossipMix } from '../../src/aggregation/gossip.js';
import { globalAverage } from '../../src/aggregation/fedavg.js';
import { consensusDistance } from '../../src/peer/consensus.js';
import { buildTopology } from '../../src/topology/spec.js';
import type { Params } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';

function dataset(n: number, features: number, classes: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * features }, () => rng.normal());
  const y = Int32Array.from({ length: n }, () => rng.int(classes));
  return { name: 'gauss', x, y, n, featureShape: [features], featureSize: features, numClasses: classes } as unknown as Dataset;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const model = buildModel({ kind: 'mlp', hidden: [7] }, [5], 3);
const d = model.layout.size;

/** P models with different weights, as Params and as one stack. */
function models(P: number, seed: number): { params: Params[]; stack: Float32Array } {
  const params = Array.from({ length: P }, (_, i) => model.init(seed + i));
  const stack = new Float32Array(P * d);
  params.forEach((p, i) => stack.set(p.data, i * d));
  return { params, stack };
}

describe('batched engine operations on the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('minibatch streams give every peer the rows its batchIterator gives, across epochs', () => {
    const train = dataset(50, 5, 3, 1);
    const parts = [Uint32Array.from([3, 7, 9, 20, 21, 40, 41]), Uint32Array.from([0, 1, 2]), Uint32Array.from(Array.from({ length: 30 }, (_, i) => 10 + i))];
    const seeds = [11, 12, 13];
    const B = 4;
    const streams = new BatchStreams(parts.map((rows, i) => ({ rows, seed: seeds[i] })), B);
    const iterators = parts.map((rows, i) => batchIterator(subset(train, rows), B, seeds[i]));
    for (let step = 0; step < 12; step++) {
      const idx = streams.next();
      parts.forEach((rows, p) => {
        const batch = iterators[p].next();
        expect(Array.from(idx.subarray(p * B, (p + 1) * B))).toEqual(Array.from(batch.rows, (r) => rows[r]));
      });
    }
  });

  it.each([
    ['ring, 16 peers (compressed rows)', { name: 'ring' as const }, 16],
    ['ring, 6 peers (dense product)', { name: 'ring' as const }, 6],
    ['exponential, 16 peers', { name: 'exponential' as const }, 16],
  ])('mixing %s equals gossipMix row by row', async (_label, spec, P) => {
    const mixing = buildTopology({ ...spec, peers: P }, { seed: 3 }).at(0);
    const { params, stack } = models(P, 10);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, P);
    engine.loadAll(stack);
    await engine.mixRows({ ...compressedRows(mixing), scale: 1 });
    const out = await engine.readAll();
    engine.dispose();
    for (let i = 0; i < P; i++) {
      const row = mixing.row(i);
      const expected = gossipMix(params[i], Array.from(row.peers, (j, k) => ({ from: `p${j}`, params: params[j], weight: row.weights[k] })));
      expect(maxAbsDiff(out.subarray(i * d, (i + 1) * d), expected.data)).toBeLessThan(1e-6);
    }
  });

  it('mixing with other neighbour and reference rows follows the CHOCO formula', async () => {
    const P = 16;
    const mixing = buildTopology({ name: 'ring', peers: P }, { seed: 3 }).at(0);
    const { stack } = models(P, 30);
    const { stack: copies } = models(P, 60);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, P);
    engine.loadAll(stack);
    await engine.mixRows({ ...compressedRows(mixing), scale: 0.5, neighbours: copies, reference: 'neighbours' });
    const out = await engine.readAll();
    engine.dispose();
    for (let i = 0; i < P; i++) {
      const row = mixing.row(i);
      for (let c = 0; c < d; c += 7) {
        let acc = 0;
        row.peers.forEach((j, k) => (acc += row.weights[k] * (copies[j * d + c] - copies[i * d + c])));
        expect(out[i * d + c]).toBeCloseTo(stack[i * d + c] + 0.5 * acc, 5);
      }
    }
  });

  it('an exact merge replaces the group rows by their mean and leaves the others', async () => {
    const P = 6;
    const { params, stack } = models(P, 90);
    const group = [0, 2, 3, 5];
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, P);
    engine.loadAll(stack);
    await engine.mergeRows(group);
    const out = await engine.readAll();
    engine.dispose();
    const mean = globalAverage(group.map((i) => params[i]));
    for (const i of group) expect(maxAbsDiff(out.subarray(i * d, (i + 1) * d), mean.data)).toBeLessThan(1e-6);
    for (const i of [1, 4]) expect(Array.from(out.subarray(i * d, (i + 1) * d))).toEqual(Array.from(params[i].data));
  });

  it('evaluates all rows at once as the Trainer evaluates each, and summarizes their mean and spread', async () => {
    const P = 5;
    const { params, stack } = models(P, 120);
    const test = dataset(230, 5, 3, 4);
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, P);
    engine.loadAll(stack);
    const rows = [4, 1, 2];
    const batched = await engine.evaluate(rows, test);
    const summary = await engine.summarize([0, 1, 2, 3, 4], test);
    engine.dispose();
    const trainer = new Trainer(model, { kind: 'sgd', lr: 0.1 });
    for (const [k, r] of rows.entries()) {
      const e = await trainer.evaluate(params[r], test);
      expect(batched.accuracy[k]).toBeCloseTo(e.accuracy, 10);
      expect(batched.loss[k]).toBeCloseTo(e.loss, 5);
    }
    const mean = globalAverage(params);
    const merged = await trainer.evaluate(mean, test);
    trainer.dispose();
    expect(summary.mean!.accuracy).toBeCloseTo(merged.accuracy, 10);
    expect(summary.mean!.loss).toBeCloseTo(merged.loss, 5);
    const cd = consensusDistance(params, mean);
    expect(Math.abs(summary.consensus - cd) / cd).toBeLessThan(1e-4);
  });

  it('the host stack (auto on cpu for dense models) and the tfjs ops take the same steps, mixes and merges', async () => {
    const train = dataset(60, 5, 3, 4);
    const P = 4;
    const { stack } = models(P, 30);
    const engines = (['auto', 'tfjs'] as const).map((kernels) => new BatchedTrainer(model, { kind: 'adam', lr: 0.02, weightDecay: 1e-3 }, P, { kernels }));
    expect(engines.map((e) => e.kernels)).toEqual(['host', 'tfjs']);
    const ring = compressedRows(buildTopology({ name: 'ring', peers: P }, { seed: 3 }).at(0));
    const rng = new Rng(5);
    const steps = Array.from({ length: 6 }, () => Int32Array.from({ length: P * 3 }, () => rng.int(train.n)));
    const out = await Promise.all(
      engines.map(async (e) => {
        e.loadAll(stack);
        e.setData(train.x, train.y, train.n);
        for (const idx of steps) await e.stepIndices(idx);
        const loss = await e.takeLoss();
        await e.mixRows({ ...ring, scale: 1 });
        await e.mergeRows([1, 2]);
        const w = await e.readAll();
        e.dispose();
        return { loss, w };
      }),
    );
    expect(maxAbsDiff(out[0].w, out[1].w)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out[0].loss, out[1].loss)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out[0].w, stack)).toBeGreaterThan(1e-3);
  });

  it('refuses malformed mixing rows with an error that names the problem', async () => {
    const engine = new BatchedTrainer(model, { kind: 'sgd', lr: 0.1 }, 3);
    await expect(engine.mixRows({ rowStart: Int32Array.from([0, 1, 1, 1]), cols: Int32Array.from([5]), vals: Float32Array.from([0.5]), scale: 1 })).rejects.toThrow(/column 5 outside \[0, 3\)/);
    await expect(engine.mixRows({ rowStart: Int32Array.from([0, 1]), cols: new Int32Array(1), vals: new Float32Array(1), scale: 1 })).rejects.toThrow(/rowStart needs 4 entries/);
    engine.dispose();
  });
});



