// Suite `simulator`: how much of the batched engine's own speed a whole simulated run keeps.
// For one config (MLP 784-128-10 on MNIST digits, ring gossip, batch 32, k local steps per
// round, evaluation every 5 rounds, a final exact merge) it measures in one process:
//   engine      the batched engine alone: k steps of all P peers on their minibatch streams;
//   end to end  `simulate` with engine: batched (data, world, train, gossip, evaluate, merge,
//               metrics, final models): P·rounds·k peer-steps over its wall time;
// and their ratio, by wall time and by this process's CPU time (the second does not move when
// other processes share the cores); then 1,000 MLP peers for a few rounds with the process's
// peak RSS.
// bench/gpu-sim.ts runs the same measures on a GPU host.
import type { BenchRow, BenchSuite } from './lib.js';
import { parseConfig, type RunConfig, type RunConfigInput } from '../src/peer/config.js';
import { buildRun } from '../src/peer/run.js';
import { simulate } from '../src/sim/simulator.js';
import { BatchedWorld } from '../src/sim/batched-world.js';
import { runRounds, strategyOf } from '../src/peer/driver.js';
import type { World } from '../src/peer/world.js';
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

/** A rate by wall time and by this process's CPU time. */
export interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/** Runs fn and returns its wall and CPU seconds. */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Every peer's minibatch stream of the run, as the batched world draws them. */
export function peerStreams(config: RunConfig, shards: readonly Uint32Array[]): BatchStreams {
  return new BatchStreams(
    shards.map((rows, i) => ({ rows, seed: Rng.derive(config.seed, 'batches', i).nextUint32() })),
    config.training.batchSize,
  );
}

/** Peer-steps per second of the batched engine alone on the run's data and streams (after 2 warm-up steps; the best of `repeats`). */
export async function engineRate(config: RunConfig, steps: number, repeats = 1): Promise<Rate & { kernels: string }> {
  const run = await buildRun(config);
  const { model, train, partition } = run;
  const engine = new BatchedTrainer(model, config.training.optimizer, config.peers);
  const P = config.peers;
  const init = new Float32Array(P * model.layout.size);
  for (let i = 0; i < P; i++) init.set(run.sharedInit.data, i * model.layout.size);
  engine.loadAll(init);
  engine.setData(train.x, train.y, train.n);
  const streams = peerStreams(config, partition.indices);
  for (let s = 0; s < 2; s++) await engine.stepIndices(streams.next());
  await engine.takeLoss();
  // The best of `repeats` timings: the baseline the whole run is held against is the engine at its fastest.
  let best = { wall: 0, cpu: 0 };
  for (let k = 0; k < repeats; k++) {
    const t = await timed(async () => {
      for (let s = 0; s < steps; s++) await engine.stepIndices(streams.next());
      await engine.takeLoss(); // waits for the device: the steps are done
    });
    best = { wall: Math.max(best.wall, (P * steps) / t.wall), cpu: Math.max(best.cpu, (P * steps) / t.cpu) };
  }
  const kernels = engine.kernels;
  engine.dispose();
  return { ...best, kernels };
}

/** `simulate` of the config, timed from loading the data to the final models. */
export async function endToEnd(config: RunConfig): Promise<Rate & { seconds: number; mergedAccuracy: number | null; peakRssMiB: number }> {
  let merged: number | null = null;
  const t = await timed(async () => {
    const r = await simulate(config, { finalModels: 'merged' }); // as the CLI runs it
    merged = r.summary.mergedAccuracy;
  });
  const peerSteps = config.peers * config.rounds * config.schedule.localSteps;
  return { seconds: t.wall, wall: peerSteps / t.wall, cpu: peerSteps / t.cpu, mergedAccuracy: merged, peakRssMiB: peakRssMiB() };
}

/** Seconds of each part of a batched simulation, and the ratio its rounds alone keep of the engine. */
export interface PhaseTimes {
  /** Data (loaded or generated), partition, model, codec: buildRun. */
  readonly setupSeconds: number;
  /** The stack on the device: initial rows, dataset upload (the world's constructor). */
  readonly worldSeconds: number;
  /** The rounds, and within them the seconds in each World call (a call's time includes the device work it waits for). */
  readonly roundsSeconds: number;
  readonly calls: Readonly<Record<string, { readonly count: number; readonly seconds: number }>>;
  /** The final models read back. */
  readonly finalSeconds: number;
  /** Peer-steps per second of the rounds alone. */
  readonly roundsPeerStepsPerSecond: number;
}

/**
 * Where the time of `simulate` (engine: batched, gossip or federated, no churn or network model)
 * goes: the same parts simulate() runs (buildRun, a BatchedWorld, the round driver, the final
 * models), each timed, with every World call timed through a wrapper.
 */
export async function phaseTimes(config: RunConfig): Promise<PhaseTimes> {
  let t0 = performance.now();
  const run = await buildRun(config);
  const setupSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const world = new BatchedWorld(run);
  const worldSeconds = (performance.now() - t0) / 1000;
  const calls: Record<string, { count: number; seconds: number }> = {};
  const timedWorld = new Proxy(world, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        const start = performance.now();
        const done = (r: unknown) => {
          const c = (calls[key] ??= { count: 0, seconds: 0 });
          c.count += 1;
          c.seconds += (performance.now() - start) / 1000;
          return r;
        };
        const r = (value as (...a: unknown[]) => unknown).apply(target, args);
        return r instanceof Promise ? r.then(done) : done(r);
      };
    },
  }) as World;
  try {
    t0 = performance.now();
    await runRounds(run, timedWorld, strategyOf(config), { elapsedSeconds: () => 0 });
    const roundsSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await world.finalModels('merged');
    const finalSeconds = (performance.now() - t0) / 1000;
    const peerSteps = config.peers * config.rounds * config.schedule.localSteps;
    return { setupSeconds, worldSeconds, roundsSeconds, calls, finalSeconds, roundsPeerStepsPerSecond: peerSteps / roundsSeconds };
  } finally {
    world.dispose();
  }
}

/** The process's peak resident set so far. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Engine and end-to-end rows of one config, with their ratio. */
export async function scaleRows(suite: string, label: string, config: RunConfig, engineSteps: number): Promise<BenchRow[]> {
  const engine = await engineRate(config, engineSteps);
  const e2e = await endToEnd(config);
  const note = `${config.backend} (${engine.kernels} kernels), ${config.peers} peers, ${config.rounds} rounds × ${config.schedule.localSteps} steps, batch ${config.training.batchSize}, eval every ${config.eval.every}, final merge; ${e2e.seconds.toFixed(1)} s; merged accuracy ${e2e.mergedAccuracy === null ? 'n/a' : (100 * e2e.mergedAccuracy).toFixed(1) + '%'}; by CPU time: engine ${engine.cpu.toFixed(1)}, whole run ${e2e.cpu.toFixed(1)} peer-steps/s, ratio ${(e2e.cpu / engine.cpu).toFixed(2)}`;
  const base = `${label}: batched engine alone`;
  return [
    { suite, name: base, value: engine.wall, unit: 'peer-steps/s', note },
    { suite, name: `${label}: simulate end to end (engine: batched)`, value: e2e.wall, unit: 'peer-steps/s', baseline: base, ratio: e2e.wall / engine.wall, note },
  ];
}

/**
 * Many MLP peers (784-128-10) on synthetic 784-feature data, `perPeer` training samples each:
 * the memory case (a few short rounds; the first 50 peers and the mean model evaluated).
 */
export function manyPeersConfig(
  backend: 'wasm' | 'webgpu' | 'cpu',
  peers: number,
  rounds: number,
  localSteps: number,
  perPeer = 64,
  evaluation: { every: number; localPeers?: number } = { every: rounds, localPeers: 50 },
  name = `many-${peers}`,
): RunConfig {
  return parseConfig({
    name,
    seed: 1,
    peers,
    rounds,
    backend,
    engine: 'batched',
    data: { dataset: 'synthetic', train: peers * perPeer, test: 500, features: 784, classes: 10, partition: { kind: 'iid' } },
    model: { kind: 'mlp', hidden: [128] },
    training: { batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 } },
    topology: { name: 'ring' },
    schedule: { localSteps, merge: { final: true } },
    eval: evaluation,
  });
}

export const simulatorSuite: BenchSuite = {
  name: 'simulator',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    rows.push(...(await scaleRows('simulator', '64 MLP peers', scaleConfig('wasm', 64, quick ? 5 : 20, 10), quick ? 10 : 40)));
    const rounds = quick ? 1 : 3;
    const big = await endToEnd(manyPeersConfig('wasm', 1000, rounds, 2));
    const note = `wasm; synthetic, 64 samples per peer; merged accuracy ${big.mergedAccuracy === null ? 'n/a' : (100 * big.mergedAccuracy).toFixed(1) + '%'}`;
    rows.push({ suite: 'simulator', name: `1000 MLP peers, ${rounds} rounds × 2 steps: simulate end to end`, value: big.seconds, unit: 's', note });
    rows.push({ suite: 'simulator', name: '1000 MLP peers: peak RSS of the process', value: big.peakRssMiB, unit: 'MiB', note: 'limit 24 GiB' });
    return rows;
  },
};
