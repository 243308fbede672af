// The local-training hooks and differential privacy run the same between real peers as in the
// simulator: FedProx in serverless all-reduce, D² with local DP and SCAFFOLD over gossip (its
// control estimates in their own exchange) in ring gossip (the modes real peers run). Same config
// and seed, bit-identical per-round numbers and the same ε.
import { describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import type { RoundMetrics } from '../../src/report/metrics.js';
import { runRealPeers } from './real-peers.js';

const input: RunConfigInput = {
  name: 'parity-local-training',
  seed: 13,
  peers: 3,
  rounds: 3,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 16, classes: 4, partition: { kind: 'dirichlet', alpha: 0.3 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } },
  schedule: { localSteps: 4 },
  eval: { every: 1 },
};

/** Every real peer's round r equals the simulator's numbers for that member. */
function expectSame(sim: readonly RoundMetrics[], peers: readonly RoundMetrics[][]): void {
  expect(sim).toHaveLength(input.rounds as number);
  sim.forEach((s, r) => {
    peers.forEach((metrics, k) => {
      const m = metrics[r];
      expect(Object.is(m.trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
      expect(m.localAccuracyMean).toBe(s.perPeer!.accuracy[k]);
      expect(m.privacy).toEqual(s.privacy);
    });
    expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
  });
}

describe('local-training hooks between real peers', () => {
  it('FedProx in all-reduce (PowerSGD) gives the simulator\'s rounds, and differs from plain all-reduce', async () => {
    const config: RunConfigInput = { ...input, mode: 'all-reduce', compression: { method: 'powersgd', rank: 2 }, aggregation: { name: 'fedprox', mu: 1 } };
    const sim = await simulate(parseConfig(config));
    expectSame(sim.metrics, (await runRealPeers(parseConfig(config))).metrics);
    const plain = await simulate(parseConfig({ ...config, aggregation: undefined }));
    expect(plain.metrics.at(-1)!.trainLoss).not.toBe(sim.metrics.at(-1)!.trainLoss);
  }, 120_000);

  it('D² with local DP in ring gossip gives the simulator\'s rounds and ε', async () => {
    const config: RunConfigInput = {
      ...input,
      mode: 'gossip',
      topology: { name: 'ring' },
      aggregation: { name: 'd2' },
      privacy: { mode: 'local', clipNorm: 0.5, noiseMultiplier: 0.3 },
    };
    const sim = await simulate(parseConfig(config));
    expect(sim.metrics[0].privacy!.epsilon).toBeGreaterThan(0);
    expectSame(sim.metrics, (await runRealPeers(parseConfig(config))).metrics);
  }, 120_000);

  it('SCAFFOLD over gossip in ring gossip gives the simulator\'s rounds, estimates and all', async () => {
    const config: RunConfigInput = { ...input, mode: 'gossip', topology: { name: 'ring' }, aggregation: { name: 'scaffold-gossip' } };
    const sim = await simulate(parseConfig(config));
    expectSame(sim.metrics, (await runRealPeers(parseConfig(config))).metrics);
    const plain = await simulate(parseConfig({ ...config, aggregation: { name: 'gossip' } }));
    expect(plain.metrics.at(-1)!.trainLoss).not.toBe(sim.metrics.at(-1)!.trainLoss);
  }, 120_000);
});
