import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { buildModel, initParams } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { initOptimizerState, type LocalStepOptions } from '../../src/model/optimizer.js';
import type { Batch } from '../../src/model/batch.js';
import { cloneParams } from '../../src/params/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const model = buildModel({ kind: 'mlp', hidden: [6] }, [5], 3);
const size = model.layout.size;
const rng = new Rng(3);
const batch: Batch = {
  x: Float32Array.from({ length: 8 * 5 }, () => rng.normal()),
  labels: Int32Array.from({ length: 8 }, (_, i) => i % 3),
  size: 8,
};
const lr = 0.5;

async function oneStep(local?: LocalStepOptions): Promise<{ before: Float32Array; after: Float32Array }> {
  const trainer = new Trainer(model, { kind: 'sgd', lr }, 'tfjs');
  const params = initParams(model.layout, 11);
  const before = cloneParams(params).data;
  try {
    await trainer.train(params, initOptimizerState({ kind: 'sgd', lr }, model.layout), () => batch, 1, local);
  } finally {
    trainer.dispose();
  }
  return { before, after: params.data };
}

describe('local step options (FedProx proximal term, SCAFFOLD correction)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('one SGD step moves by −lr·μ·(w − anchor) more with the proximal term', async () => {
    const plain = await oneStep();
    const anchor = Float32Array.from({ length: size }, (_, k) => Math.sin(k));
    const mu = 0.3;
    const prox = await oneStep({ proximal: { mu, anchor } });
    for (let k = 0; k < size; k++) {
      expect(prox.after[k]).toBeCloseTo(plain.after[k] - lr * mu * (plain.before[k] - anchor[k]), 5);
    }
    // μ = 0 is plain local training, bit for bit.
    expect(Array.from((await oneStep({ proximal: { mu: 0, anchor } })).after)).toEqual(Array.from(plain.after));
  });

  it('one SGD step moves by −lr·correction more with a correction', async () => {
    const plain = await oneStep();
    const correction = Float32Array.from({ length: size }, (_, k) => (k % 7) / 10 - 0.3);
    const corrected = await oneStep({ correction });
    for (let k = 0; k < size; k++) expect(corrected.after[k]).toBeCloseTo(plain.after[k] - lr * correction[k], 5);
  });

  it('pulls many local steps toward the anchor as μ grows', async () => {
    const anchor = initParams(model.layout, 11).data; // the starting model
    const drift = async (mu: number) => {
      const trainer = new Trainer(model, { kind: 'sgd', lr: 0.1 }, 'tfjs');
      const params = initParams(model.layout, 11);
      await trainer.train(params, initOptimizerState({ kind: 'sgd', lr: 0.1 }, model.layout), () => batch, 50, { proximal: { mu, anchor } });
      trainer.dispose();
      let d = 0;
      for (let k = 0; k < size; k++) d += (params.data[k] - anchor[k]) ** 2;
      return d;
    };
    const [free, some, strong] = [await drift(0), await drift(1), await drift(5)];
    expect(some).toBeLessThan(free);
    expect(strong).toBeLessThan(some);
  });

  it('refuses an anchor or correction of the wrong size, or a negative μ', async () => {
    await expect(oneStep({ correction: new Float32Array(3) })).rejects.toThrow(ConfigError);
    await expect(oneStep({ proximal: { mu: 1, anchor: new Float32Array(size + 1) } })).rejects.toThrow(/anchor has/);
    await expect(oneStep({ proximal: { mu: -1, anchor: new Float32Array(size) } })).rejects.toThrow(/mu/);
  });
});
