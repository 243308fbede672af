import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/compute/tf.js';
import { initBackend } from '../../src/compute/backend.js';
import { conv2dFilterGradient } from '../../src/compute/wasm-kernels.js';
import { buildModel, initParams } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { initOptimizerState, type OptimizerSpec } from '../../src/model/optimizer.js';
import type { Batch } from '../../src/model/batch.js';
import { cloneParams } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';

/** A linearly separable 2-class problem in 20 dimensions, seeded. */
function separable(n: number, seed: number) {
  const rng = new Rng(seed);
  const d = 20;
  const w = Float32Array.from({ length: d }, () => rng.normal());
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = rng.normal();
      s += x[i * d + j] * w[j];
    }
    labels[i] = s > 0 ? 1 : 0;
  }
  return { x, labels, y: labels, n, d };
}

function batches(data: ReturnType<typeof separable>, size: number, seed: number): () => Batch {
  const rng = new Rng(seed);
  const x = new Float32Array(size * data.d);
  const labels = new Int32Array(size);
  return () => {
    for (let i = 0; i < size; i++) {
      const j = rng.int(data.n);
      x.set(data.x.subarray(j * data.d, (j + 1) * data.d), i * data.d);
      labels[i] = data.labels[j];
    }
    return { x, labels, size };
  };
}

describe('model zoo', () => {
  it('lays out parameters with the expected shapes and counts', () => {
    const mlp = buildModel({ kind: 'mlp', hidden: [128] }, [28, 28, 1], 10);
    expect(mlp.layout.size).toBe(784 * 128 + 128 + 128 * 10 + 10); // 101,770
    const cnn = buildModel({ kind: 'cnn' }, [28, 28, 1], 10);
    expect(cnn.layout.tensors.map((t) => t.shape)).toEqual([
      [5, 5, 1, 6], [6], [5, 5, 6, 16], [16], [400, 120], [120], [120, 84], [84], [84, 10], [10],
    ]);
    expect(buildModel({ kind: 'logreg' }, [20], 2).layout.size).toBe(42);
  });

  it('initialises deterministically per seed within the He/Glorot limits', () => {
    const m = buildModel({ kind: 'mlp', hidden: [16] }, [20], 3);
    const a = initParams(m.layout, 5);
    expect(initParams(m.layout, 5).data).toEqual(a.data);
    expect(initParams(m.layout, 6).data).not.toEqual(a.data);
    const k0 = m.layout.tensors[0];
    const limit = Math.sqrt(6 / 20);
    const view = a.data.subarray(k0.offset, k0.offset + k0.size);
    expect(Math.max(...view.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(a.data.subarray(m.layout.tensors[1].offset, m.layout.tensors[1].offset + 16).every((v) => v === 0)).toBe(true);
  });

  it('refuses bad specs with a message naming the key', () => {
    expect(() => buildModel({ kind: 'mlp', hidden: [0] }, [4], 2)).toThrow(/model.hidden/);
    expect(() => buildModel({ kind: 'cnn' }, [8], 2)).toThrow(/CNN needs image inputs/);
  });
});

describe('Trainer on the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each<OptimizerSpec>([
    { kind: 'sgd', lr: 0.1 },
    { kind: 'sgd', lr: 0.05, momentum: 0.9 },
    { kind: 'adam', lr: 0.01 },
  ])('learns a separable problem with %o', async (opt) => {
    const data = separable(400, 1);
    const m = buildModel({ kind: 'logreg' }, [20], 2);
    const trainer = new Trainer(m, opt);
    const params = m.init(1);
    const state = initOptimizerState(opt, m.layout);
    const before = await trainer.evaluate(params, data);
    const r = await trainer.train(params, state, batches(data, 32, 2), 150);
    const after = await trainer.evaluate(params, data);
    expect(r.steps).toBe(150);
    expect(state.step).toBe(150);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(0.95);
    trainer.dispose();
  });

  it('one SGD step equals the hand-computed logistic-regression gradient step', async () => {
    // 1 sample, 2 features, 2 classes, zero weights: logits 0, p = (½, ½), label 1.
    // dL/dW = x ⊗ (p − onehot) = x ⊗ (½, −½); dL/db = (½, −½).
    const m = buildModel({ kind: 'logreg' }, [2], 2);
    const trainer = new Trainer(m, { kind: 'sgd', lr: 0.1 });
    const params = m.init(0);
    params.data.fill(0);
    const batch: Batch = { x: Float32Array.of(1, 2), labels: Int32Array.of(1), size: 1 };
    const r = await trainer.train(params, initOptimizerState({ kind: 'sgd', lr: 0.1 }, m.layout), () => batch, 1);
    expect(r.loss).toBeCloseTo(Math.log(2), 6);
    const expected = [-0.05, 0.05, -0.1, 0.1, -0.05, 0.05]; // W (2×2, row-major) then b
    Array.from(params.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 7));
    trainer.dispose();
  });

  it('keeps memory flat over 1,000 train / read / write cycles', async () => {
    const data = separable(64, 3);
    const m = buildModel({ kind: 'mlp', hidden: [8] }, [20], 2);
    const opt: OptimizerSpec = { kind: 'adam', lr: 0.01 };
    const trainer = new Trainer(m, opt);
    const params = m.init(2);
    const state = initOptimizerState(opt, m.layout);
    const next = batches(data, 8, 4);
    await trainer.train(params, state, next, 1);
    const baseline = tf.memory();
    for (let i = 0; i < 1000; i++) {
      await trainer.train(params, state, next, 1);
      if (i % 100 === 0) await trainer.evaluate(params, data);
    }
    const end = tf.memory();
    expect(end.numTensors).toBe(baseline.numTensors);
    expect(end.numBytes).toBe(baseline.numBytes);
    trainer.dispose();
  });

  it('is deterministic: same seed and batches give identical weights', async () => {
    const data = separable(100, 5);
    const m = buildModel({ kind: 'mlp', hidden: [8] }, [20], 2);
    const opt: OptimizerSpec = { kind: 'sgd', lr: 0.05, momentum: 0.9 };
    const run = async () => {
      const trainer = new Trainer(m, opt);
      const p = m.init(9);
      await trainer.train(p, initOptimizerState(opt, m.layout), batches(data, 16, 7), 20);
      trainer.dispose();
      return p.data;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses params of another model', async () => {
    const a = buildModel({ kind: 'logreg' }, [20], 2);
    const b = buildModel({ kind: 'logreg' }, [10], 2);
    const trainer = new Trainer(a, { kind: 'sgd', lr: 0.1 });
    await expect(trainer.evaluate(cloneParams(b.init(0)), { x: new Float32Array(10), y: [0], n: 1 })).rejects.toThrow(/layout/);
    trainer.dispose();
  });
});

describe('wasm backend with our Conv2DBackpropFilter kernel', () => {
  it('computes the filter gradient of a hand-sized case exactly', () => {
    // x: 1×3×3×1 = 1..9, dy: 1×2×2×1 all ones, 2×2 filter, stride 1, valid:
    // dW[fh,fw] = sum of the 2×2 window of x starting at (fh, fw).
    const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const dy = new Float32Array(4).fill(1);
    const dw = new Float32Array(4);
    conv2dFilterGradient(x, dy, dw, {
      batchSize: 1, inHeight: 3, inWidth: 3, inChannels: 1, outHeight: 2, outWidth: 2, outChannels: 1,
      filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padInfo: { top: 0, left: 0 },
    });
    expect(Array.from(dw)).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  });

  it('matches the cpu backend on CNN gradients, so a CNN trains on wasm', async () => {
    const m = buildModel({ kind: 'cnn', channels: [4, 8], hidden: [16] }, [28, 28, 1], 10);
    const p = m.init(1);
    const rng = new Rng(11);
    const xs = Float32Array.from({ length: 4 * 784 }, () => Math.max(0, rng.normal()));
    const grads = async (backend: 'cpu' | 'wasm') => {
      await initBackend(backend, { convGradients: true });
      return tf.tidy(() => {
        const ws = m.layout.tensors.map((t) => tf.variable(tf.tensor(p.data.subarray(t.offset, t.offset + t.size), t.shape as number[])));
        const x = tf.tensor2d(xs, [4, 784]);
        const { grads: g } = tf.variableGrads(() => tf.sum(tf.square(m.logits(ws, x))) as never, ws);
        const out = ws.map((w) => g[w.name].dataSync().slice());
        ws.forEach((w) => w.dispose());
        return out;
      });
    };
    const a = await grads('cpu');
    const b = await grads('wasm');
    for (let i = 0; i < a.length; i++) {
      const scale = Math.max(...a[i].map(Math.abs), 1);
      const diff = Math.max(...a[i].map((v, j) => Math.abs(v - b[i][j])));
      expect(diff / scale).toBeLessThan(1e-5);
    }
    await initBackend('cpu');
  });
});
