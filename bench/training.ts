// Local training throughput per backend on this machine: samples/s of the MLP (784-128-10) and
// the LeNet-style CNN with the Trainer, and each backend's matmul rate as the reference.
import type { BenchRow, BenchSuite } from './lib.js';
import { tf } from '../src/compute/tf.js';
import { initBackend, type BackendName } from '../src/compute/backend.js';
import { buildModel, type ModelSpec } from '../src/model/zoo.js';
import { Trainer } from '../src/model/trainer.js';
import { initOptimizerState } from '../src/model/optimizer.js';
import { Rng } from '../src/util/rng.js';

async function available(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const name of ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await initBackend(name);
      out.push(name);
    } catch {
      // not on this machine
    }
  }
  return out;
}

async function matmulGflops(n: number, repeats: number): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  await tf.matMul(a, b).data();
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  }
  const ms = (performance.now() - t0) / repeats;
  tf.dispose([a, b]);
  return (2 * n ** 3) / (ms * 1e6);
}

async function samplesPerSecond(spec: ModelSpec, batch: number, steps: number): Promise<number> {
  const model = buildModel(spec, [28, 28, 1], 10);
  const trainer = new Trainer(model, { kind: 'sgd', lr: 0.01 });
  const params = model.init(1);
  const state = initOptimizerState({ kind: 'sgd', lr: 0.01 }, model.layout);
  const rng = new Rng(2);
  const x = Float32Array.from({ length: batch * 784 }, () => rng.next());
  const labels = Int32Array.from({ length: batch }, () => rng.int(10));
  const next = () => ({ x, labels, size: batch });
  await trainer.train(params, state, next, 2);
  const t0 = performance.now();
  await trainer.train(params, state, next, steps);
  const s = (performance.now() - t0) / 1000;
  trainer.dispose();
  return (steps * batch) / s;
}

export const trainingSuite: BenchSuite = {
  name: 'training',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const backend of await available()) {
      await initBackend(backend, { convGradients: true });
      const gflops = await matmulGflops(512, quick ? 3 : 10);
      rows.push({ suite: 'training', name: `${backend}: matmul 512×512`, value: gflops, unit: 'GFLOP/s' });
      for (const [label, spec] of [
        ['MLP 784-128-10', { kind: 'mlp', hidden: [128] }],
        ['CNN LeNet-5', { kind: 'cnn' }],
      ] as const) {
        for (const batch of [32, 128]) {
          const steps = quick ? 3 : label.startsWith('CNN') && backend === 'cpu' ? 5 : 30;
          const sps = await samplesPerSecond(spec as ModelSpec, batch, steps);
          rows.push({ suite: 'training', name: `${backend}: ${label}, batch ${batch}`, value: sps, unit: 'samples/s' });
        }
      }
    }
    // Ratios against the cpu backend's MLP at batch 32, measured in this run.
    const base = rows.find((r) => r.name === 'cpu: MLP 784-128-10, batch 32');
    if (base) {
      for (const r of rows) {
        if (r.unit === 'samples/s' && r !== base) Object.assign(r, { baseline: base.name, ratio: r.value / base.value });
      }
    }
    return rows;
  },
};
