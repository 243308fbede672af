// Suite `batched`: the batched engine against the per-peer Trainer loop on this machine's
// backend (wasm or cpu here; the GPU numbers come from bench/gpu.ts). Same model, peers, batch
// and one SGD step per peer.
import { initBackend } from '../src/compute/backend.js';
import { buildModel } from '../src/model/zoo.js';
import { Trainer } from '../src/model/trainer.js';
import { BatchedTrainer } from '../src/model/batched.js';
import { initOptimizerState, type OptimizerSpec } from '../src/model/optimizer.js';
import { Rng } from '../src/util/rng.js';
import { timeMs, type BenchRow, type BenchSuite } from './lib.js';

export const batchedSuite: BenchSuite = {
  name: 'batched',
  async run({ quick }) {
    const backend = await initBackend('auto');
    const peers = quick ? 8 : 32;
    const batch = 32;
    const n = 2048;
    const model = buildModel({ kind: 'mlp', hidden: [32] }, [784], 10);
    const opt: OptimizerSpec = { kind: 'sgd', lr: 0.01 };
    const rng = new Rng(1);
    const x = Float32Array.from({ length: n * 784 }, () => rng.next());
    const labels = Int32Array.from({ length: n }, () => rng.int(10));
    const idx = () => Int32Array.from({ length: peers * batch }, () => rng.int(n));

    const engine = new BatchedTrainer(model, opt, peers);
    const all = new Float32Array(peers * model.layout.size);
    for (let p = 0; p < peers; p++) all.set(model.init(p).data, p * model.layout.size);
    engine.loadAll(all);
    engine.setData(x, labels, n);
    const batchedMs = await timeMs(async () => {
      await engine.stepIndices(idx());
      await engine.takeLoss();
    });
    engine.dispose();

    const trainer = new Trainer(model, opt);
    const params = Array.from({ length: peers }, (_, p) => model.init(p));
    const states = params.map(() => initOptimizerState(opt, model.layout));
    const bx = new Float32Array(batch * 784);
    const by = new Int32Array(batch);
    const next = () => {
      for (let i = 0; i < batch; i++) {
        const j = rng.int(n);
        bx.set(x.subarray(j * 784, (j + 1) * 784), i * 784);
        by[i] = labels[j];
      }
      return { x: bx, labels: by, size: batch };
    };
    const loopMs = await timeMs(async () => {
      for (let p = 0; p < peers; p++) await trainer.train(params[p], states[p], next, 1);
    });
    trainer.dispose();

    const note = `${backend.name}, MLP 784-32-10, ${peers} peers × batch ${batch}, 1 SGD step each`;
    const rows: BenchRow[] = [
      { suite: 'batched', name: 'per-peer Trainer loop', value: (peers * 1000) / loopMs, unit: 'peer-steps/s', note },
      {
        suite: 'batched',
        name: 'batched engine',
        value: (peers * 1000) / batchedMs,
        unit: 'peer-steps/s',
        baseline: 'per-peer Trainer loop',
        ratio: loopMs / batchedMs,
        note,
      },
    ];
    return rows;
  },
};
