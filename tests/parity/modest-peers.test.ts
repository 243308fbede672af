// MoDeST between real peers: every member computes the round's roles from the member list, the
// round's trainers (and only they) train, and the model the aggregators hold learns.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/peer/config.js';
import { modestRoles } from '../../src/peer/modest.js';
import { runRealPeers } from './real-peers.js';

describe('MoDeST between real peers', () => {
  it('trains exactly the round\'s sampled trainers and the aggregators\' model learns', async () => {
    const config = parseConfig({
      name: 'modest-real',
      seed: 3,
      peers: 4,
      rounds: 8,
      mode: 'modest',
      modest: { trainers: 2, aggregators: 1 },
      backend: 'cpu',
      data: { dataset: 'synthetic', train: 800, test: 200, features: 16, classes: 4, partition: { kind: 'iid' } },
      model: { kind: 'mlp', hidden: [8] },
      training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } },
      schedule: { localSteps: 5 },
      eval: { every: 1 },
    });
    const { ids, metrics } = await runRealPeers(config);
    // Every member runs every round (none skips ahead in MoDeST).
    for (const rounds of metrics) expect(rounds.map((m) => m.round)).toEqual(Array.from({ length: config.rounds }, (_, i) => i + 1));
    for (let r = 0; r < config.rounds; r++) {
      const { trainers } = modestRoles(ids, r, config.seed, config.modest);
      metrics.forEach((rounds, k) => {
        const m = rounds.find((x) => x.round === r + 1)!;
        expect(m.activePeers).toBe(2);
        // A member's own training loss is in its metrics exactly in the rounds it trained.
        expect(Number.isFinite(m.trainLoss)).toBe(trainers.includes(ids[k]));
      });
    }
    // The last round's aggregator holds the run's model: better than its first-round model.
    const last = config.rounds - 1;
    const holder = ids.indexOf(modestRoles(ids, last, config.seed, config.modest).aggregators[0]);
    expect(metrics[holder][last].localAccuracyMean!).toBeGreaterThan(metrics[holder][0].localAccuracyMean! + 0.1);
  }, 120_000);
});
