// timing.slowPeers in the simulator: a straggler's extra time per round is simulated time. It
// changes the clock, not the models, unless a deadline leaves the straggler out.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { initBackend } from '../../src/compute/backend.js';
import { ConfigError } from '../../src/util/errors.js';

const config = (over: Partial<RunConfigInput> = {}) =>
  parseConfig({
    seed: 4,
    peers: 4,
    rounds: 2,
    backend: 'cpu',
    data: { dataset: 'synthetic', train: 200, test: 50, features: 6, classes: 3, partition: { kind: 'iid' } },
    model: { kind: 'logreg' },
    training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 } },
    topology: { name: 'ring' },
    schedule: { localSteps: 2 },
    eval: { every: 2 },
    ...over,
  });

const bits = (models: { data: Float32Array }[]) => models.map((m) => Buffer.from(m.data.buffer).toString('base64'));

describe('simulator: timing.slowPeers', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('adds the straggler\'s delay to the simulated clock every round; without a deadline the models are unchanged', async () => {
    const plain = await simulate(config({ heterogeneity: { stepMs: 5 } }));
    const slow = await simulate(config({ heterogeneity: { stepMs: 5 }, timing: { slowPeers: [{ peer: 1, delayMs: 1000 }] } }));
    expect(plain.metrics.map((m) => m.simSeconds)).toEqual([0.01, 0.02]);
    // Everyone waits for the straggler: 2 steps × 5 ms + 1000 ms per round.
    expect(slow.metrics.map((m) => m.simSeconds)).toEqual([1.01, 2.02]);
    expect(bits(slow.finalModels)).toEqual(bits(plain.finalModels));
  });

  it('with a deadline the straggler\'s neighbours leave it out, so their models change', async () => {
    const plain = await simulate(config({ heterogeneity: { stepMs: 5, deadlineMs: 100 } }));
    const slow = await simulate(config({ heterogeneity: { stepMs: 5, deadlineMs: 100 }, timing: { slowPeers: [{ peer: 1, delayMs: 1000 }] } }));
    const changed = bits(slow.finalModels).map((b, i) => b !== bits(plain.finalModels)[i]);
    // Ring 0-1-2-3: peers 0 and 2 miss peer 1's model (and peer 1 then drifts apart); peer 3 sees
    // the change only through its neighbours in round 2.
    expect(changed.slice(0, 3)).toEqual([true, true, true]);
  });

  it('runs timing.mode async (tests/sim/async.test.ts) but refuses it with churn, saying what to use', async () => {
    const churn = { heterogeneity: { churn: [{ round: 2, crash: 0.25 }] } };
    await expect(simulate(config({ timing: { mode: 'async' }, ...churn }))).rejects.toThrow(ConfigError);
    await expect(simulate(config({ timing: { mode: 'async' }, ...churn }))).rejects.toThrow(/churn with timing.mode async.*timing.mode sync/);
  });
});
