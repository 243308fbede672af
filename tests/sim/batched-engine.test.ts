import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { initBackend } from '../../src/compute/backend.js';

const base: RunConfigInput = {
  seed: 5,
  peers: 6,
  rounds: 5,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 12, classes: 3, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
  topology: { name: 'ring' },
  schedule: { localSteps: 3, gossipSteps: 2, merge: { final: true } },
  eval: { every: 1 },
};

describe('batched engine', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('agrees with the per-peer engine: same models, same metrics, same bytes (cpu backend)', async () => {
    const perPeer = await simulate(parseConfig({ ...base, engine: 'per-peer' }));
    const batched = await simulate(parseConfig({ ...base, engine: 'batched' }));
    let maxDiff = 0;
    perPeer.finalModels.forEach((m, i) => {
      const b = batched.finalModels[i].data;
      for (let k = 0; k < m.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(m.data[k] - b[k]));
    });
    expect(maxDiff).toBeLessThan(1e-4);
    perPeer.metrics.forEach((m, r) => {
      const b = batched.metrics[r];
      expect(b.bytesSent).toBe(m.bytesSent);
      expect(b.bytesReceived).toBe(m.bytesReceived);
      expect(b.trainLoss).toBeCloseTo(m.trainLoss, 4);
      expect(b.mergedAccuracy!).toBeCloseTo(m.mergedAccuracy!, 2);
      expect(b.consensusDistance).toBeCloseTo(m.consensusDistance, 4);
    });
  });

  it('refuses configs it cannot run, naming why', async () => {
    await expect(simulate(parseConfig({ ...base, engine: 'batched', aggregation: { name: 'vca' } }))).rejects.toThrow(/engine: batched cannot run this config: aggregation 'vca'/);
    await expect(simulate(parseConfig({ ...base, engine: 'batched', mode: 'federated' }))).rejects.toThrow(/gossip mode only/);
  });
});
