// SCAFFOLD over gossip through the round driver's per-peer world: over the complete topology it
// is server SCAFFOLD; on a ring at Dirichlet α = 0.1 it trains, sends its estimates next to its
// models, and keeps mean ĉ_i = mean c_i; ĉ_i survives a checkpoint; what it cannot run is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { buildRun, makePeer, type Run } from '../../src/peer/run.js';
import { PeerWorld } from '../../src/peer/peer-world.js';
import { runRounds } from '../../src/peer/driver.js';
import { Trainer } from '../../src/model/trainer.js';
import { SimNetwork } from '../../src/sim/memory-transport.js';
import { IDEAL_NETWORK } from '../../src/sim/network.js';
import { simulate } from '../../src/sim/simulator.js';
import { preflightSimulation } from '../../src/sim/preflight.js';
import { decodeCheckpoint, encodeCheckpoint, restoreMemory } from '../../src/node/checkpoint.js';
import { ConfigError } from '../../src/util/errors.js';

const base = (over: Partial<RunConfigInput>): RunConfigInput => ({
  seed: 5,
  peers: 3,
  rounds: 3,
  backend: 'cpu',
  mode: 'gossip',
  topology: { name: 'complete' },
  data: { dataset: 'synthetic', train: 240, test: 120, features: 6, classes: 3, partition: { kind: 'dirichlet', alpha: 0.1 } },
  model: { kind: 'logreg' },
  training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.2 } },
  schedule: { localSteps: 4 },
  eval: { every: 1 },
  aggregation: { name: 'scaffold-gossip' },
  ...over,
});

function world(run: Run, trainer: Trainer, peers: ReturnType<typeof makePeer>[]): PeerWorld {
  const members = peers.map((p) => p.id);
  const net = new SimNetwork(IDEAL_NETWORK, 1);
  net.setMembers(members);
  const all = members.map((_, i) => i);
  return new PeerWorld(run, trainer, peers, { hub: net, seesAll: true, roster: () => ({ members, live: all, local: all, honest: all }), log: () => {} });
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, k) => Math.abs(v - b[k])));

describe('scaffold-gossip in the simulator (per-peer engine)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('over the complete topology every peer holds server SCAFFOLD’s model (W = 11ᵀ/n: ĉ_i = c, x_i = the mean)', async () => {
    const gossip = await simulate(parseConfig(base({})));
    const server = await simulate(parseConfig(base({ mode: 'federated', topology: undefined, aggregation: { name: 'scaffold' } })));
    for (const m of gossip.finalModels) expect(maxDiff(m.data, server.merged.data)).toBeLessThan(1e-5);
    // SCAFFOLD's correction is not plain gossip's: the runs differ from round 2 on.
    const plain = await simulate(parseConfig(base({ aggregation: { name: 'gossip' } })));
    expect(maxDiff(plain.merged.data, gossip.merged.data)).toBeGreaterThan(1e-3);
  });

  it('η_s = ½ over the complete topology is server SCAFFOLD with serverLr ½', async () => {
    const gossip = await simulate(parseConfig(base({ aggregation: { name: 'scaffold-gossip', stepSize: 0.5 } })));
    const server = await simulate(parseConfig(base({ mode: 'federated', topology: undefined, aggregation: { name: 'scaffold', serverLr: 0.5 } })));
    for (const m of gossip.finalModels) expect(maxDiff(m.data, server.merged.data)).toBeLessThan(1e-5);
  });

  it('ring of 6 at Dirichlet α = 0.1: trains, sends one estimate per model, and mean ĉ_i = mean c_i every round', async () => {
    const config = parseConfig(base({ peers: 6, rounds: 12, topology: { name: 'ring' }, data: { dataset: 'synthetic', train: 600, test: 300, features: 6, classes: 3, partition: { kind: 'dirichlet', alpha: 0.1 } } }));
    const run = await buildRun(config);
    const trainer = new Trainer(run.model, config.training.optimizer);
    try {
      const peers = Array.from({ length: 6 }, (_, i) => makePeer(run, { id: `p${i}`, shard: i }));
      const w = world(run, trainer, peers);
      const gaps: number[] = [];
      const spreads: number[] = [];
      const { metrics } = await runRounds(run, w, 'gossip', {
        elapsedSeconds: () => 0,
        afterRound: () => {
          const mem = peers.map((p) => w.peerMemory(p.id));
          const size = mem[0].clientControl!.length;
          let gap = 0;
          let spread = 0;
          for (let k = 0; k < size; k++) {
            const est = mem.map((m) => m.controlEstimate![k]);
            const meanEst = est.reduce((s, v) => s + v, 0) / est.length;
            const meanC = mem.reduce((s, m) => s + m.clientControl![k], 0) / mem.length;
            gap = Math.max(gap, Math.abs(meanEst - meanC));
            spread = Math.max(spread, Math.max(...est) - Math.min(...est));
          }
          gaps.push(gap);
          spreads.push(spread);
        },
      });
      // Ring weights are doubly stochastic and no message is lost: the tracked mean is exact (to float32).
      for (const g of gaps) expect(g).toBeLessThan(1e-5);
      expect(spreads.some((s) => s > 1e-3)).toBe(true); // the estimates are not trivially equal
      const first = metrics[0].mergedAccuracy!;
      const last = metrics.at(-1)!.mergedAccuracy!;
      expect(last).toBeGreaterThan(0.6); // three classes: chance is 1/3
      expect(last).toBeGreaterThan(first);
      expect(metrics.every((m) => Number.isFinite(m.localAccuracyMean ?? 0))).toBe(true);
      // Each peer sends its model and its estimate ĉ_i (whole, same size) to both ring neighbours.
      const plain = await simulate(parseConfig({ ...base({ peers: 6, rounds: 1, topology: { name: 'ring' } }), aggregation: { name: 'gossip' } }));
      expect(metrics[0].bytesSent).toBe(2 * plain.metrics[0].bytesSent);
    } finally {
      trainer.dispose();
    }
  }, 60_000);

  it('ĉ_i and c_i survive a checkpoint: saved after 2 rounds and restored into a fresh world, bit for bit', async () => {
    const config = parseConfig(base({ rounds: 2, topology: { name: 'ring' } }));
    const run = await buildRun(config);
    const trainer = new Trainer(run.model, config.training.optimizer);
    try {
      const peers = [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i }));
      const before = world(run, trainer, peers);
      await runRounds(run, before, 'gossip', { elapsedSeconds: () => 0 });
      const had = before.peerMemory('p1');
      expect(had.controlEstimate!.some((v) => v !== 0)).toBe(true);
      const ck = decodeCheckpoint(encodeCheckpoint({ round: 1, peerId: 'p1', params: peers[1].params, optimizer: peers[1].optimizer, state: had }), run.model.layout);
      const after = world(run, trainer, [0, 1, 2].map((i) => makePeer(run, { id: `p${i}`, shard: i })));
      expect(after.peerMemory('p1').controlEstimate).toBeUndefined();
      restoreMemory(after, 'p1', ck, 'checkpoint.bin', () => {});
      const got = after.peerMemory('p1');
      expect(Array.from(got.controlEstimate!)).toEqual(Array.from(had.controlEstimate!));
      expect(Array.from(got.clientControl!)).toEqual(Array.from(had.clientControl!));
    } finally {
      trainer.dispose();
    }
  }, 60_000);

  it('refuses what it cannot run, naming the key', () => {
    const refuses = (over: Partial<RunConfigInput>, what: RegExp) => expect(() => preflightSimulation(parseConfig(base(over)))).toThrow(what);
    refuses({ training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.2, momentum: 0.9 } } }, /option II/);
    refuses({ schedule: { localSteps: 4, gossipSteps: 2 } }, /schedule\.gossipSteps/);
    refuses({ timing: { mode: 'async' } }, /timing\.mode: sync/);
    refuses({ privacy: { mode: 'local', clipNorm: 1, noiseMultiplier: 1 } }, /privacy/);
    refuses({ mode: 'federated', topology: undefined }, /gossip rule/);
    refuses({ engine: 'batched' }, /engine: per-peer/);
    expect(() => preflightSimulation(parseConfig(base({ engine: 'batched' })))).toThrow(ConfigError);
  });
});
