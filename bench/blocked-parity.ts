// The WebGPU stack split into blocks (src/model/webgpu-blocks.ts) against the same stack in one
// buffer, op by op, on one run's data: steps, ring mixing in the difference form, CHOCO-style
// mixing against host neighbours, a dense W·X, an exact merge of rows spanning blocks, the mean
// row, consensus, the mean model's and every peer's evaluation. Run on the GPU host (bench/gpu-sim.ts);
// the blocks are forced small so that a few hundred peers span several of them.
import type { RunConfig } from '../src/peer/config.js';
import { buildRun } from '../src/peer/run.js';
import { BatchedTrainer } from '../src/model/batched.js';
import { peerStreams } from './simulator.js';
import { Rng } from '../src/util/rng.js';

/** Largest differences between the two, and whether each is within float tolerance. */
export interface BlockedParity {
  readonly peers: number;
  readonly blocks: number;
  readonly maxWeightDiff: number;
  readonly maxLossDiff: number;
  readonly maxAccuracyDiff: number;
  readonly consensusRelDiff: number;
  readonly meanRowDiff: number;
  readonly pass: boolean;
}

export async function blockedParity(config: RunConfig, maxBlockPeers: number): Promise<BlockedParity> {
  const run = await buildRun(config);
  const { model, train, partition, test } = run;
  const P = config.peers;
  const d = model.layout.size;
  const rng = new Rng(7);
  const init = new Float32Array(P * d);
  for (let i = 0; i < init.length; i++) init[i] = run.sharedInit.data[i % d] + 0.01 * rng.normal();
  const engines = [new BatchedTrainer(model, config.training.optimizer, P), new BatchedTrainer(model, config.training.optimizer, P, { maxBlockPeers })];
  // Ring in the difference form: row i gets (x_{i-1} − x_i)/3 + (x_{i+1} − x_i)/3.
  const rowStart = Int32Array.from({ length: P + 1 }, (_, i) => 2 * i);
  const cols = new Int32Array(2 * P);
  const vals = new Float32Array(2 * P).fill(1 / 3);
  for (let i = 0; i < P; i++) [cols[2 * i], cols[2 * i + 1]] = [(i + P - 1) % P, (i + 1) % P];
  const dense = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (const j of [i, (i + 1) % P, (i + 7) % P]) dense[i * P + j] += 1 / 3;
  const neighbours = new Float32Array(P * d);
  for (let i = 0; i < neighbours.length; i++) neighbours[i] = init[i] + 0.001 * rng.normal();
  const merged = Array.from({ length: Math.ceil(P / 3) }, (_, k) => (5 + 3 * k) % P);
  const results = [];
  for (const engine of engines) {
    engine.loadAll(init);
    engine.setData(train.x, train.y, train.n);
    const streams = peerStreams(config, partition.indices);
    for (let s = 0; s < 3; s++) await engine.stepIndices(streams.next());
    const loss = await engine.takeLoss();
    await engine.mixRows({ rowStart, cols, vals, scale: 1 });
    await engine.mixRows({ rowStart, cols, vals, scale: 0.5, neighbours, reference: 'neighbours' });
    await engine.mix(dense);
    await engine.mergeRows(merged);
    const all = Array.from({ length: P }, (_, i) => i);
    const mean = await engine.meanRows(all);
    const summary = await engine.summarize(all, test);
    const evaluated = await engine.evaluate(all, test);
    results.push({ loss, weights: await engine.readAll(), mean: mean.data, summary, evaluated });
  }
  const blocks = (engines[1] as unknown as { dev: { blockCount?: number } }).dev.blockCount ?? 1;
  engines.forEach((e) => e.dispose());
  const [one, split] = results;
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };
  const maxWeightDiff = maxDiff(one.weights, split.weights);
  const maxLossDiff = Math.max(maxDiff(one.loss, split.loss), maxDiff(one.evaluated.loss, split.evaluated.loss), Math.abs((one.summary.mean?.loss ?? 0) - (split.summary.mean?.loss ?? 0)));
  const maxAccuracyDiff = Math.max(maxDiff(one.evaluated.accuracy, split.evaluated.accuracy), Math.abs((one.summary.mean?.accuracy ?? 0) - (split.summary.mean?.accuracy ?? 0)));
  const consensusRelDiff = Math.abs(one.summary.consensus - split.summary.consensus) / Math.max(1e-12, one.summary.consensus);
  const meanRowDiff = maxDiff(one.mean, split.mean);
  // Summation order differs across blocks: float32 rounding, nothing more. An accuracy may move
  // by one test sample where a logit tie flips.
  const pass = blocks > 1 && maxWeightDiff < 1e-5 && maxLossDiff < 1e-4 && maxAccuracyDiff <= 2 / test.n && consensusRelDiff < 1e-4 && meanRowDiff < 1e-5;
  return { peers: P, blocks, maxWeightDiff, maxLossDiff, maxAccuracyDiff, consensusRelDiff, meanRowDiff, pass };
}
