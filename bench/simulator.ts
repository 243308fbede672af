// Suite `simulator`: how much of the batched engine's own speed a whole simulated run keeps.
// For one config (MLP 784-128-10 on MNIST digits, ring gossip, batch 32, k local steps per
// round, evaluation every 5 rounds, a final exact merge) it measures in one process:
//   engine      the batched engine alone: k steps of all P peers on their minibatch streams;
//   end to end  the run through the round driver over the batched world (build, train, gossip,
//               evaluate, merge, metrics, final models): P·rounds·k peer-steps over its wall time;
// and their ratio; then 1,000 MLP peers for a few rounds with the process's peak RSS.
// bench/gpu-sim.ts runs the same measures on a GPU host.
import type { BenchRow, BenchSuite } from './lib.js';
import { parseConfig, type RunConfig, type RunConfigInput } from '../src/peer/config.js';
import { buildRun } from '../src/peer/run.js';
import { runRounds } from '../src/peer/driver.js';
import { BatchedWorld } from '../src/sim/batched-world.js';
import { BatchStreams } from '../src/sim/batched-streams.js';
import { BatchedTrainer } from '../src/model/batched.js';
import { Rng } from '../src/util/rng.js';

/** The measured config: P MLP peers on the digits, ring gossip, a final merge. */
export function scaleConfig(backend: 'wasm' | 'webgpu' | 'cpu', peers: number, rounds: number, localSteps: number, extra: RunConfigInput = {}): RunConfig {
  return parseConfig({
    name: `scale-${peers}`,
    seed: 1,
    peers,
    rounds,
    backend,
    engine: 'batched',
    data: { dataset: 'mnist', train: 8000, test: 1000, partition: { kind: 'iid' } },
    model: { kind: 'mlp', hidden: [128] },
    training: { batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 } },
    topology: { name: 'ring' },
    schedule: { localSteps, merge: { final: true } },
    eval: { every: 5 },
    ...extra,
  });
}

/** Peer-steps per second of the batched engine alone on the run's data and streams (after 2 warm-up steps). */
export async function engineRate(config: RunConfig, steps: number): Promise<number> {
  const run = await buildRun(config);
  const { model, train, partition } = run;
  const engine = new BatchedTrainer(model, config.training.optimizer, config.peers);
  const P = config.peers;
  const init = new Float32Array(P * model.layout.size);
  for (let i = 0; i < P; i++) init.set(run.sharedInit.data, i * model.layout.size);
  engine.loadAll(init);
  engine.setData(train.x, train.y, train.n);
  const streams = new BatchStreams(
    partition.indices.map((rows, i) => ({ rows, seed: Rng.derive(config.seed, 'batches', i).nextUint32() })),
    config.training.batchSize,
  );
  for (let s = 0; s < 2; s++) await engine.stepIndices(streams.next());
  await engine.takeLoss();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await engine.stepIndices(streams.next());
  await engine.takeLoss(); // waits for the device: the steps are done
  const seconds = (performance.now() - t0) / 1000;
  engine.dispose();
  return (P * steps) / seconds;
}

/** A whole run through the round driver over the batched world, timed from loading the data to the final models. */
export async function endToEnd(config: RunConfig): Promise<{ seconds: number; peerStepsPerSecond: number; mergedAccuracy: number | null; peakRssMiB: number }> {
  const t0 = performance.now();
  const run = await buildRun(config);
  const world = new BatchedWorld(run);
  let merged: number | null = null;
  try {
    const { metrics } = await runRounds(run, world, 'gossip', { elapsedSeconds: () => 0 });
    merged = metrics.at(-1)?.mergedAccuracy ?? null;
    await world.finalModels();
  } finally {
    world.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const peerSteps = config.peers * config.rounds * config.schedule.localSteps;
  return { seconds, peerStepsPerSecond: peerSteps / seconds, mergedAccuracy: merged, peakRssMiB: peakRssMiB() };
}

/** The process's peak resident set so far. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Engine and end-to-end rows of one config, with their ratio. */
export async function scaleRows(suite: string, label: string, config: RunConfig, engineSteps: number): Promise<BenchRow[]> {
  const engine = await engineRate(config, engineSteps);
  const e2e = await endToEnd(config);
  const note = `${config.backend}, ${config.peers} peers, ${config.rounds} rounds × ${config.schedule.localSteps} steps, batch ${config.training.batchSize}, eval every ${config.eval.every}, final merge; ${e2e.seconds.toFixed(1)} s; merged accuracy ${e2e.mergedAccuracy === null ? 'n/a' : (100 * e2e.mergedAccuracy).toFixed(1) + '%'}`;
  return [
    { suite, name: `${label}: batched engine alone`, value: engine, unit: 'peer-steps/s', note },
    { suite, name: `${label}: whole run (driver + batched world)`, value: e2e.peerStepsPerSecond, unit: 'peer-steps/s', baseline: `${label}: batched engine alone`, ratio: e2e.peerStepsPerSecond / engine, note },
  ];
}

export const simulatorSuite: BenchSuite = {
  name: 'simulator',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    rows.push(...(await scaleRows('simulator', '64 MLP peers', scaleConfig('wasm', 64, quick ? 5 : 20, 10), quick ? 10 : 40)));
    const big = await endToEnd(scaleConfig('wasm', 1000, quick ? 1 : 3, 2));
    rows.push({ suite: 'simulator', name: `1000 MLP peers, ${quick ? 1 : 3} rounds × 2 steps: whole run`, value: big.seconds, unit: 's', note: `wasm; merged accuracy ${big.mergedAccuracy === null ? 'n/a' : (100 * big.mergedAccuracy).toFixed(1) + '%'}` });
    rows.push({ suite: 'simulator', name: '1000 MLP peers: peak RSS of the process', value: big.peakRssMiB, unit: 'MiB', note: 'limit 24 GiB' });
    return rows;
  },
};
