// A small synthetic run for tests that need the simulator's real metrics and little time.
import type { RunConfigInput } from '../../src/peer/config.js';

/** Six peers on a ring, 3 rounds of one local step and two gossip steps, cpu backend, evaluated every round. */
export const smallRun = (over: Partial<RunConfigInput> = {}): RunConfigInput => ({
  seed: 5,
  peers: 6,
  rounds: 3,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 300, test: 60, features: 8, classes: 3, partition: { kind: 'iid' } },
  model: { kind: 'mlp', hidden: [5] },
  training: { batchSize: 5, optimizer: { kind: 'sgd', lr: 0.1 } },
  topology: { name: 'ring' },
  schedule: { localSteps: 1, gossipSteps: 2 },
  eval: { every: 1 },
  ...over,
});
