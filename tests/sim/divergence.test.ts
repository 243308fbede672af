// A learning rate that diverges stops the run at the first round with a non-finite loss or
// weights, naming the round and the peers, instead of running to the end at chance accuracy.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { DivergenceError } from '../../src/peer/divergence.js';

describe('divergence stops the simulation', () => {
  it('names the round and the peers of the first non-finite loss or weights', async () => {
    const config = parseConfig({
      seed: 1,
      peers: 4,
      rounds: 30,
      backend: 'cpu',
      data: { dataset: 'synthetic', train: 400, test: 100, features: 8, classes: 3, partition: { kind: 'iid' } },
      model: { kind: 'mlp', hidden: [8] },
      training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 1e6 } },
      topology: { name: 'ring' },
      schedule: { localSteps: 5 },
      eval: { every: 10 },
    });
    const rounds: number[] = [];
    const err = await simulate(config, { onRound: (m) => rounds.push(m.round) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    const d = err as DivergenceError;
    expect(d.round).toBeLessThanOrEqual(3);
    expect(rounds).toEqual(Array.from({ length: d.round - 1 }, (_, i) => i + 1));
    expect(d.message).toMatch(/^round \d+: training diverged — non-finite .* at peers? [\d, ]+.*lower training\.optimizer\.lr \(now 1000000\)/);
  });
});
