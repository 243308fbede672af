// simulate() with engine: batched (the BatchedWorld) against engine: per-peer on the same config
// and seed (cpu backend), end to end: per-round metrics within float tolerance, identical bytes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { initBackend } from '../../src/compute/backend.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { buildRun } from '../../src/peer/run.js';
import { BatchedWorld, checkBatchedWorld } from '../../src/sim/batched-world.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

// Label-skewed shards, an Adam step and two gossip steps per round, evaluated every other round.
const base: RunConfigInput = {
  seed: 9,
  peers: 7,
  rounds: 4,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 700, test: 150, features: 10, classes: 4, partition: { kind: 'shards', shardsPerPeer: 2 } },
  model: { kind: 'mlp', hidden: [6] },
  training: { batchSize: 5, optimizer: { kind: 'adam', lr: 0.01 } },
  topology: { name: 'ring' },
  schedule: { localSteps: 2, gossipSteps: 2, merge: { final: true } },
  eval: { every: 2 },
};

async function batchedRun(input: RunConfigInput): Promise<{ metrics: RoundMetrics[]; models: Float32Array[]; merged: Float32Array }> {
  const r = await simulate(parseConfig({ ...input, engine: 'batched' }));
  return { metrics: r.metrics, models: r.finalModels.map((m) => m.data), merged: r.merged.data };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

function expectAgreement(perPeer: RoundMetrics[], batched: RoundMetrics[], tolerance: { loss: number; accuracy: number }): void {
  expect(batched.length).toBe(perPeer.length);
  expect(perPeer[0].bytesSent).toBeGreaterThan(0);
  expect(perPeer.some((m) => m.mergedAccuracy !== null && m.localAccuracyMean !== null)).toBe(true);
  perPeer.forEach((m, r) => {
    const b = batched[r];
    expect(b.bytesSent).toBe(m.bytesSent);
    expect(b.bytesReceived).toBe(m.bytesReceived);
    expect(b.perPeer?.bytesSent).toEqual(m.perPeer?.bytesSent);
    expect(b.perPeer?.bytesReceived).toEqual(m.perPeer?.bytesReceived);
    expect(b.activePeers).toBe(m.activePeers);
    expect(b.globalMerge).toBe(m.globalMerge);
    expect(b.simSeconds).toBeCloseTo(m.simSeconds, 9);
    expect(Math.abs(b.trainLoss - m.trainLoss)).toBeLessThan(tolerance.loss);
    expect(Math.abs(b.consensusDistance - m.consensusDistance)).toBeLessThan(tolerance.loss * Math.max(1, m.consensusDistance));
    if (m.mergedAccuracy === null) expect(b.mergedAccuracy).toBeNull();
    else expect(Math.abs(b.mergedAccuracy! - m.mergedAccuracy)).toBeLessThanOrEqual(tolerance.accuracy);
    if (m.localAccuracyMean === null) expect(b.localAccuracyMean).toBeNull();
    else expect(Math.abs(b.localAccuracyMean! - m.localAccuracyMean)).toBeLessThanOrEqual(tolerance.accuracy);
    if (m.mergedLoss !== null) expect(Math.abs(b.mergedLoss! - m.mergedLoss)).toBeLessThan(tolerance.loss);
  });
}

describe('batched world vs per-peer simulator', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('ring gossip with a final exact merge: same metrics, same bytes, same final models', async () => {
    const perPeer = await simulate(parseConfig({ ...base, engine: 'per-peer' }));
    const batched = await batchedRun(base);
    expectAgreement(perPeer.metrics, batched.metrics, { loss: 1e-4, accuracy: 0.006 });
    // The last round merges exactly: every model is the same.
    expect(perPeer.metrics.at(-1)!.globalMerge).toBe(true);
    perPeer.finalModels.forEach((m, i) => expect(maxDifference(m.data, batched.models[i])).toBeLessThan(1e-4));
    expect(maxDifference(perPeer.merged.data, batched.merged)).toBeLessThan(1e-4);
  });

  it('FedAvg server rounds (Dirichlet shares, so the mean is sample-weighted): same metrics, bytes and server model', async () => {
    const input: RunConfigInput = {
      ...base,
      mode: 'federated',
      data: { ...base.data!, partition: { kind: 'dirichlet', alpha: 0.5 } },
      training: { batchSize: 5, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
      schedule: { localSteps: 3 },
      eval: { every: 1 },
    };
    const perPeer = await simulate(parseConfig({ ...input, engine: 'per-peer' }));
    const batched = await batchedRun(input);
    expectAgreement(perPeer.metrics, batched.metrics, { loss: 1e-4, accuracy: 0.006 });
    expect(perPeer.metrics.every((m) => m.mergedAccuracy !== null)).toBe(true);
    expect(maxDifference(perPeer.merged.data, batched.merged)).toBeLessThan(1e-4);
    perPeer.finalModels.forEach((m, i) => expect(maxDifference(m.data, batched.models[i])).toBeLessThan(1e-4));
  });

  it("finalModels: 'merged' brings back only the merged model, computed where the stack lives (gossip mean, FedAvg server row)", async () => {
    const gossip = { ...base, schedule: { localSteps: 2, gossipSteps: 2 } };
    const federated: RunConfigInput = { ...base, mode: 'federated', schedule: { localSteps: 2 } };
    for (const input of [gossip, federated]) {
      const all = await simulate(parseConfig({ ...input, engine: 'batched' }));
      const merged = await simulate(parseConfig({ ...input, engine: 'batched' }), { finalModels: 'merged' });
      expect(merged.finalModels).toEqual([]);
      expect(merged.metrics).toEqual(all.metrics.map((m) => ({ ...m, wallSeconds: merged.metrics[m.round - 1].wallSeconds })));
      // The host average and the stack's own mean sum the same rows in another order.
      expect(maxDifference(merged.merged.data, all.merged.data)).toBeLessThan(1e-6);
      // Without a final merge the peers differ: the gossip mean is none of their rows.
      if (input.mode !== 'federated') expect(maxDifference(merged.merged.data, all.finalModels[0].data)).toBeGreaterThan(1e-6);
    }
  });

  it('fp16 whole models: neighbours average decoded models, bytes as the codec writes them', async () => {
    const input = { ...base, compression: { method: 'fp16' as const } };
    const perPeer = await simulate(parseConfig(input));
    const batched = await batchedRun(input);
    expectAgreement(perPeer.metrics, batched.metrics, { loss: 1e-3, accuracy: 0.006 });
  });

  it('CHOCO-Gossip with rand-k: public copies, compressed differences, the same bytes', async () => {
    const input: RunConfigInput = { ...base, compression: { method: 'rand-k', ratio: 0.25 }, aggregation: { name: 'choco-gossip', stepSize: 0.5 } };
    const perPeer = await simulate(parseConfig(input));
    const batched = await batchedRun(input);
    expectAgreement(perPeer.metrics, batched.metrics, { loss: 1e-3, accuracy: 0.006 });
  });

  it('CHOCO-Gossip with top-k: the kept entries (and so the bytes) follow the same models', async () => {
    const input: RunConfigInput = { ...base, compression: { method: 'top-k', ratio: 0.2 }, aggregation: { name: 'choco-gossip' } };
    const perPeer = await simulate(parseConfig(input));
    const batched = await batchedRun(input);
    expectAgreement(perPeer.metrics, batched.metrics, { loss: 1e-3, accuracy: 0.006 });
  });

  it('refuses what it cannot run before it starts, naming the key and the per-peer engine', async () => {
    const refused = async (extra: RunConfigInput, key: RegExp) => {
      const config = parseConfig({ ...base, ...extra, engine: 'batched' });
      expect(() => checkBatchedWorld(config)).toThrow(key);
      expect(() => checkBatchedWorld(config)).toThrow(/use engine: per-peer/);
      await expect(simulate(config)).rejects.toThrow(key);
      const run = await buildRun(config);
      expect(() => new BatchedWorld(run)).toThrow(key);
    };
    await refused({ heterogeneity: { participation: 0.5 } }, /^heterogeneity\.participation:/);
    await refused({ aggregation: { name: 'vca' } }, /^aggregation\.name:/);
    await refused({ network: { loss: 0.1 } }, /^network\.loss:/);
    await refused({ mode: 'federated', federated: { participation: 0.5 } }, /^federated\.participation:/);
    await refused({ mode: 'federated', aggregation: { name: 'median' } }, /^aggregation\.name:/);
    await refused({ mode: 'modest', modest: { trainers: 3 } }, /^mode:/);
    await refused({ topology: { name: 'one-peer-exponential' }, compression: { method: 'top-k', ratio: 0.1 }, aggregation: { name: 'choco-gossip' } }, /^topology:/);
  });

  it('the CLI refuses a misfit before --out exists: exit 2, one line naming the key and the per-peer engine', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gossipfl-batched-'));
    try {
      const file = join(root, 'run.yaml');
      writeFileSync(file, 'peers: 4\nrounds: 2\nbackend: cpu\nengine: batched\ndata: { dataset: mnist, train: 400, test: 100 }\nheterogeneity: { participation: 0.5 }\n');
      const out = join(root, 'out');
      let err = '';
      vi.spyOn(process.stderr, 'write').mockImplementation((line) => ((err += String(line)), true));
      let code: number;
      try {
        code = await main(['simulate', file, '--out', out, '--quiet']);
      } finally {
        vi.restoreAllMocks();
      }
      expect(code).toBe(2);
      expect(err).toMatch(/heterogeneity\.participation: engine: batched cannot run this config .*use engine: per-peer/);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
