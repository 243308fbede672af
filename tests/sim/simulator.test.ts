import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { initBackend } from '../../src/compute/backend.js';
import { buildModel } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { initOptimizerState } from '../../src/model/optimizer.js';
import { loadDataSource, partition, subset, batchIterator } from '../../src/data/index.js';
import { Rng } from '../../src/util/rng.js';

const small = (over: Partial<RunConfigInput> = {}): RunConfigInput => ({
  seed: 3,
  peers: 4,
  rounds: 4,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 400, test: 200, features: 10, classes: 3, partition: { kind: 'iid' } },
  model: { kind: 'logreg' },
  training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 } },
  schedule: { localSteps: 2 },
  eval: { every: 1 },
  ...over,
});

describe('simulator', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('FedAvg with one local step, IID data and full participation equals centralized SGD on the union of the batches', async () => {
    const cfg = parseConfig(
      small({ mode: 'federated', peers: 4, rounds: 5, schedule: { localSteps: 1 }, data: { dataset: 'synthetic', train: 400, test: 100, features: 10, classes: 3, partition: { kind: 'iid' } } }),
    );
    const result = await simulate(cfg);

    // Rebuild what the simulator did, centrally: same split, same init, same per-peer batch streams.
    const { train } = loadDataSource(cfg.data, cfg.seed);
    const parts = partition(train, cfg.data.partition, cfg.peers, Rng.derive(cfg.seed, 'partition').nextUint32());
    const peerData = parts.indices.map((idx, i) => subset(train, idx, `p${i}`));
    expect(new Set(peerData.map((d) => d.n)).size).toBe(1); // equal shares, so FedAvg weights are equal
    const streams = peerData.map((d, i) => batchIterator(d, cfg.training.batchSize, Rng.derive(cfg.seed, 'batches', i).nextUint32()));
    const model = buildModel(cfg.model, train.featureShape, train.numClasses);
    const params = model.init(Rng.derive(cfg.seed, 'init').nextUint32());
    const b = cfg.training.batchSize;
    const big = { x: new Float32Array(cfg.peers * b * train.featureSize), labels: new Int32Array(cfg.peers * b), size: cfg.peers * b };
    const union = () => {
      streams.forEach((s, i) => {
        const batch = s.next();
        big.x.set(batch.x, i * b * train.featureSize);
        big.labels.set(batch.labels, i * b);
      });
      return big;
    };
    const trainer = new Trainer(model, cfg.training.optimizer);
    await trainer.train(params, initOptimizerState(cfg.training.optimizer, model.layout), union, cfg.rounds);
    trainer.dispose();

    const got = result.merged.data;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - params.data[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('is deterministic: same config and seed give identical metrics (wall time aside)', async () => {
    const cfg = parseConfig(small({ topology: { name: 'ring' }, heterogeneity: { speedSpread: 0.5 } }));
    const strip = (ms: Awaited<ReturnType<typeof simulate>>['metrics']) => ms.map(({ wallSeconds: _w, ...rest }) => rest);
    const a = await simulate(cfg);
    const b = await simulate(cfg);
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
    expect(a.metrics).toHaveLength(cfg.rounds);
  });

  it('gossip on a ring learns and shrinks the consensus distance; the final merge makes every model equal', async () => {
    const cfg = parseConfig(small({ rounds: 8, topology: { name: 'ring' }, schedule: { localSteps: 3, merge: { final: true } } }));
    const r = await simulate(cfg);
    const last = r.metrics[r.metrics.length - 1];
    expect(last.globalMerge).toBe(true);
    expect(last.consensusDistance).toBeLessThan(1e-10);
    expect(last.mergedAccuracy!).toBeGreaterThan(0.8);
    expect(last.bytesSent).toBeGreaterThan(0);
  });

  it('counts bytes exactly: a ring of n peers sends 2n models per gossip round', async () => {
    const cfg = parseConfig(small({ rounds: 1, topology: { name: 'ring' } }));
    const r = await simulate(cfg);
    const d = buildModel(cfg.model, [10], 3).layout.size;
    const perMessage = r.metrics[0].bytesSent / (2 * cfg.peers);
    expect(Number.isInteger(perMessage)).toBe(true);
    expect(perMessage).toBeGreaterThanOrEqual(d * 4); // dense float32 body plus a header
    expect(perMessage).toBeLessThan(d * 4 + 1024);
  });

  it('survives churn: half the peers crash at mid-run and the rest finish', async () => {
    const cfg = parseConfig(small({ peers: 8, rounds: 6, topology: { name: 'ring' }, heterogeneity: { churn: [{ round: 3, crash: 0.5 }] } }));
    const r = await simulate(cfg);
    expect(r.metrics).toHaveLength(6);
    expect(r.metrics[1].activePeers).toBe(8);
    expect(r.metrics[5].activePeers).toBe(4);
    expect(r.finalModels).toHaveLength(4);
  });

  it('leaves stragglers out at the deadline', async () => {
    const cfg = parseConfig(
      small({ peers: 6, rounds: 2, topology: { name: 'complete' }, heterogeneity: { speedSpread: 2, stepMs: 50, deadlineMs: 10 } }),
    );
    const r = await simulate(cfg);
    const full = 6 * 5; // messages if nobody were late
    const d = buildModel(cfg.model, [10], 3).layout.size * 4;
    expect(r.metrics[0].bytesReceived).toBeLessThan(full * d);
  });
});

describe('simulator under attack', () => {
  const attacked = (aggregation: RunConfigInput['aggregation']) =>
    parseConfig(
      small({
        peers: 8,
        rounds: 6,
        topology: { name: 'complete' },
        attack: { kind: 'sign-flip', fraction: 0.25, scale: 10 },
        ...(aggregation ? { aggregation } : {}),
      }),
    );

  it('a sign-flip attack wrecks plain gossip averaging but not the coordinate median', async () => {
    const clean = await simulate(parseConfig(small({ peers: 8, rounds: 6, topology: { name: 'complete' } })));
    const plain = await simulate(attacked(undefined));
    const median = await simulate(attacked({ name: 'median', f: 2 }));
    const acc = (r: typeof clean) => r.metrics[r.metrics.length - 1].mergedAccuracy!;
    expect(acc(plain)).toBeLessThan(acc(clean) - 0.2);
    expect(acc(median)).toBeGreaterThan(acc(clean) - 0.05);
  });
});

describe('simulator with compression', () => {
  const fed = (compression: RunConfigInput['compression']) =>
    parseConfig(small({ mode: 'federated', peers: 4, rounds: 6, model: { kind: 'mlp', hidden: [16] }, compression }));
  const finalAcc = (r: Awaited<ReturnType<typeof simulate>>) => r.metrics[r.metrics.length - 1].mergedAccuracy!;

  it('federated uploads with top-k + EF14, rand-k, sign + EF21 and int8 learn and send fewer bytes than dense', async () => {
    const dense = await simulate(fed({ method: 'identity' }));
    for (const compression of [
      { method: 'top-k', ratio: 0.1, errorFeedback: 'ef14' },
      { method: 'rand-k', ratio: 0.25 },
      { method: 'sign', errorFeedback: 'ef21' },
      { method: 'int8' },
    ] as const) {
      const r = await simulate(fed(compression));
      expect(finalAcc(r), compression.method).toBeGreaterThan(0.7);
      expect(r.summary.bytesSent, compression.method).toBeLessThan(dense.summary.bytesSent);
    }
  });

  it.each(['powersgd', 'arc-top-k', 'greedylore'] as const)('federated %s runs its phases all-to-all and learns', async (method) => {
    const r = await simulate(fed({ method, rank: 2, rho: 0.5 }));
    expect(finalAcc(r)).toBeGreaterThan(0.7);
    expect(r.metrics.every((m) => m.bytesSent > 0)).toBe(true);
  });

  it('gossip with top-k sends compressed differences (CHOCO) and still converges to consensus', async () => {
    const r = await simulate(
      parseConfig(
        small({
          rounds: 10,
          topology: { name: 'ring' },
          aggregation: { name: 'choco-gossip', stepSize: 0.5 },
          compression: { method: 'top-k', ratio: 0.3 },
          model: { kind: 'mlp', hidden: [16] },
        }),
      ),
    );
    expect(finalAcc(r)).toBeGreaterThan(0.7);
    const dense = await simulate(parseConfig(small({ rounds: 10, topology: { name: 'ring' }, model: { kind: 'mlp', hidden: [16] } })));
    expect(r.summary.bytesSent).toBeLessThan(dense.summary.bytesSent * 0.6);
  });

  it('refuses combinations that cannot work, naming the fix', async () => {
    await expect(simulate(parseConfig(small({ topology: { name: 'ring' }, compression: { method: 'powersgd' } })))).rejects.toThrow(/mode: federated/);
    await expect(simulate(parseConfig(small({ topology: { name: 'ring' }, compression: { method: 'top-k', ratio: 0.1 } })))).rejects.toThrow(/choco-gossip/);
    expect(() => parseConfig(small({ rounds: 3, schedule: { localSteps: 1, merge: { final: false, rounds: [5] } } }))).toThrow(/merge.rounds/);
    expect(() => parseConfig({ ...small(), peerz: 3 })).toThrow(/Unrecognized key.*peerz/);
  });
});

describe('MoDeST (decentralized sampling)', () => {
  it('samples s trainers per round by hash, aggregates at the next round\'s first peers, and learns', async () => {
    const cfg = parseConfig(small({ mode: 'modest', peers: 8, rounds: 12, modest: { trainers: 3, aggregators: 1 } }));
    const r = await simulate(cfg);
    expect(r.metrics.every((m) => m.activePeers === 3)).toBe(true);
    expect(r.metrics.at(-1)!.mergedAccuracy!).toBeGreaterThan(0.8);
  });

  it('the roles are the same at every peer and change with the round', async () => {
    const { modestRoles, modestOrder } = await import('../../src/peer/modest.js');
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const spec = { trainers: 2, aggregators: 1, successFraction: 1 };
    expect(modestRoles(ids, 4, 9, spec)).toEqual(modestRoles([...ids].reverse(), 4, 9, spec));
    expect(modestOrder(ids, 4, 9)).not.toEqual(modestOrder(ids, 5, 9));
    // Round k's aggregator is the first of round k+1's order, i.e. a trainer-candidate of the next round.
    expect(modestRoles(ids, 4, 9, spec).aggregators[0]).toBe(modestOrder(ids, 5, 9)[0]);
  });
});

describe('robust rules when refused messages shrink the group', () => {
  it('Krum with NaN senders refused: peers keep their model that round instead of stopping the run', async () => {
    const r = await simulate(
      parseConfig(small({ peers: 8, rounds: 3, topology: { name: 'complete' }, aggregation: { name: 'krum', f: 2 }, attack: { kind: 'nan', fraction: 0.25 } })),
    );
    expect(r.metrics).toHaveLength(3);
    expect(r.finalModels.every((m) => m.data.every(Number.isFinite))).toBe(true);
  });
});
