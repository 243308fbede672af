// The adaptive server optimizers inside a simulated federated run: the server must hand the
// rule its global model as own and the clients' models with their sample counts.
import { beforeAll, describe, expect, it } from 'vitest';
import { serverOptimizer, serverOptimizerInitialState } from '../../src/aggregation/index.js';
import { initBackend } from '../../src/compute/backend.js';
import { loadDataSource } from '../../src/data/index.js';
import { buildModel } from '../../src/model/zoo.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const config = (aggregation: RunConfigInput['aggregation'], rounds = 1): RunConfigInput => ({
  seed: 5,
  peers: 4,
  rounds,
  backend: 'cpu',
  mode: 'federated',
  data: { dataset: 'synthetic', train: 400, test: 200, features: 10, classes: 3, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'logreg' },
  training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 } },
  schedule: { localSteps: 3 },
  eval: { every: 1 },
  aggregation,
});

describe('server optimizers in the simulator', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('one FedAdam round is the adaptive step on FedAvg’s pseudo-gradient of the same round', async () => {
    const opts = { serverLr: 0.05, beta1: 0.9, beta2: 0.99, tau: 1e-3 };
    const fedavg = await simulate(parseConfig(config({ name: 'fedavg' })));
    const fedadam = await simulate(parseConfig(config({ name: 'fedadam', ...opts })));
    // The round's clients train from the same initial model with the same batches under both
    // rules, so FedAvg's result is x0 + Δ with Δ the sample-weighted mean change.
    const cfg = parseConfig(config({ name: 'fedavg' }));
    const { train } = loadDataSource(cfg.data, cfg.seed);
    const model = buildModel(cfg.model, train.featureShape, train.numClasses);
    const x0 = model.init(Rng.derive(cfg.seed, 'init').nextUint32());
    const expected = serverOptimizer('fedadam', opts)(serverOptimizerInitialState('fedadam'), x0, [{ from: 'mean', params: fedavg.merged, weight: 1 }]).params;
    let worst = 0;
    for (let k = 0; k < x0.data.length; k++) worst = Math.max(worst, Math.abs(fedadam.merged.data[k] - expected.data[k]));
    // Δ itself is rounded once to float32 in FedAvg's output; the adaptive step divides by ~|Δ|.
    expect(worst).toBeLessThan(1e-4);
    expect(fedadam.merged.data).not.toEqual(fedavg.merged.data);
  });

  it('FedYogi and FedAdagrad learn over rounds; server rules are refused in gossip mode', async () => {
    for (const name of ['fedyogi', 'fedadagrad'] as const) {
      const r = await simulate(parseConfig(config({ name, serverLr: 0.1 }, 8)));
      const acc = r.metrics.map((m) => m.mergedAccuracy!);
      expect(acc[acc.length - 1]).toBeGreaterThan(0.5); // 3 classes: chance is 1/3
    }
    expect(() => parseConfig({ ...config({ name: 'fedprox', mu: 0.1 }), mode: 'gossip', topology: { name: 'ring' } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...config({ name: 'fedadam', serverLr: 1 }), mode: 'gossip', topology: { name: 'ring' } })).toThrow(/needs mode: federated/);
  });
});
