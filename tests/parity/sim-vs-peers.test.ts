// The simulator and real peers run one algorithm: the same config and seed through the
// in-memory simulator and through real libp2p nodes (memory transport, one process) give the
// same per-round numbers, bit for bit.
import { describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { runRealPeers } from './real-peers.js';
import { topology } from '../../src/index.js';
import { buildAggregation, type AggregationState } from '../../src/aggregation/build.js';
import type { Contribution } from '../../src/aggregation/types.js';
import { cloneParams, type Params } from '../../src/params/index.js';

const input: RunConfigInput = {
  name: 'parity',
  seed: 11,
  peers: 3,
  rounds: 4,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 16, classes: 4, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
  topology: { name: 'ring' },
  // Compressed differences (CHOCO keeps the compression error in the public copies) and one exact merge at the end.
  compression: { method: 'top-k', ratio: 0.25 },
  aggregation: { name: 'choco-gossip' },
  schedule: { localSteps: 3, merge: { final: true } },
  eval: { every: 1 },
};

describe('one algorithm in the simulator and between real peers', () => {
  it('gives bit-identical per-round losses, accuracies and bytes (ring, top-k with CHOCO, final merge)', async () => {
    const sim = await simulate(parseConfig(input));
    const peers = (await runRealPeers(parseConfig(input))).metrics;
    expect(sim.metrics).toHaveLength(input.rounds as number);
    sim.metrics.forEach((s, r) => {
      const perPeer = s.perPeer!;
      peers.forEach((metrics, k) => {
        const m = metrics[r];
        expect(m.round).toBe(s.round);
        expect(Object.is(m.trainLoss, perPeer.trainLoss[k])).toBe(true);
        expect(m.localAccuracyMean).toBe(perPeer.accuracy[k]);
        expect(m.globalMerge).toBe(s.globalMerge);
        // A real peer's own row of bytes is the simulated peer's.
        expect([m.perPeer!.bytesSent, m.perPeer!.bytesReceived]).toEqual([[perPeer.bytesSent![k]], [perPeer.bytesReceived![k]]]);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesReceived, 0)).toBe(s.bytesReceived);
    });
    // After the final merge every real peer holds the simulator's merged model.
    const last = sim.metrics.at(-1)!;
    for (const metrics of peers) expect(metrics.at(-1)!.mergedAccuracy).toBe(last.mergedAccuracy);
  }, 120_000);

  it('keeps parity with a Byzantine member: the attacking real peer sends what the simulated one does (sign-flip, median)', async () => {
    const attacked: RunConfigInput = {
      ...input,
      name: 'parity-byzantine',
      peers: 4,
      topology: { name: 'complete' },
      compression: { method: 'identity' },
      aggregation: { name: 'median', f: 1 },
      attack: { kind: 'sign-flip', fraction: 0.25 },
    };
    const sim = await simulate(parseConfig(attacked));
    const peers = (await runRealPeers(parseConfig(attacked))).metrics;
    sim.metrics.forEach((s, r) => {
      const perPeer = s.perPeer!;
      // The simulator reports the honest peers; the same members report the same numbers.
      expect(perPeer.peer).toHaveLength(3);
      perPeer.peer.forEach((k, j) => {
        expect(Object.is(peers[k][r].trainLoss, perPeer.trainLoss[j])).toBe(true);
        expect(peers[k][r].localAccuracyMean).toBe(perPeer.accuracy[j]);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
    });
  }, 120_000);

  it('gives the same all-reduce (PowerSGD) in the simulator and between real peers', async () => {
    const allReduce: RunConfigInput = {
      ...input,
      name: 'parity-all-reduce',
      mode: 'all-reduce',
      topology: undefined,
      compression: { method: 'powersgd', rank: 2 },
      aggregation: undefined,
      schedule: { localSteps: 3 },
    };
    const sim = await simulate(parseConfig(allReduce));
    const peers = (await runRealPeers(parseConfig(allReduce))).metrics;
    sim.metrics.forEach((s, r) => {
      peers.forEach((metrics, k) => {
        expect(Object.is(metrics[r].trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
        expect(metrics[r].localAccuracyMean).toBe(s.perPeer!.accuracy[k]);
        // Every member ends each round with the group's model.
        expect(metrics[r].mergedAccuracy).toBe(s.mergedAccuracy);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
    });
  }, 120_000);

  it('runs a plug-in topology and aggregation rule the same on real peers as in the simulator', async () => {
    // A hand-made directed 3-cycle, and a rule that moves half-way to the neighbours' average.
    const cycle = topology.graphFromPairs(3, [0, 1, 2], [1, 2, 0], true);
    const plugins = {
      topology: topology.staticTopology('directed cycle', topology.uniformWeights(cycle), cycle),
      aggregation: {
        ...buildAggregation({ name: 'gossip' }),
        aggregate: (state: AggregationState, own: Params, received: readonly Contribution[]) => {
          const next = cloneParams(own);
          for (const { params } of received) for (let i = 0; i < next.data.length; i++) next.data[i] += (0.5 * (params.data[i] - own.data[i])) / received.length;
          return { params: next, state };
        },
      },
    };
    const plain: RunConfigInput = { ...input, name: 'parity-plugins', compression: { method: 'identity' }, aggregation: undefined };
    const sim = await simulate(parseConfig(plain), {}, plugins);
    const peers = (await runRealPeers(parseConfig(plain), plugins)).metrics;
    sim.metrics.forEach((s, r) =>
      peers.forEach((metrics, k) => {
        expect(Object.is(metrics[r].trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
        expect(metrics[r].localAccuracyMean).toBe(s.perPeer!.accuracy[k]);
      }),
    );
  }, 120_000);
});
