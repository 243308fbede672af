// The batched world through the round driver against the per-peer simulator on the same config
// and seed (cpu backend): per-round metrics within float tolerance, identical bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { buildRun } from '../../src/peer/run.js';
import { runRounds } from '../../src/peer/driver.js';
import { BatchedWorld } from '../../src/sim/batched-world.js';
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

async function batchedRun(input: RunConfigInput): Promise<{ metrics: RoundMetrics[]; models: Float32Array[] }> {
  const run = await buildRun(parseConfig(input));
  const world = new BatchedWorld(run);
  try {
    const { metrics } = await runRounds(run, world, 'gossip', { elapsedSeconds: () => 0 });
    const final = await world.finalModels();
    return { metrics, models: final.models.map((m) => m.data.slice()) };
  } finally {
    world.dispose();
  }
}

function expectAgreement(perPeer: RoundMetrics[], batched: RoundMetrics[], tolerance: { loss: number; accuracy: number }): void {
  expect(batched.length).toBe(perPeer.length);
  expect(perPeer[0].bytesSent).toBeGreaterThan(0);
  expect(perPeer.some((m) => m.mergedAccuracy !== null && m.localAccuracyMean !== null)).toBe(true);
  perPeer.forEach((m, r) => {
    const b = batched[r];
    expect(b.bytesSent).toBe(m.bytesSent);
    expect(b.bytesReceived).toBe(m.bytesReceived);
    expect(b.activePeers).toBe(m.activePeers);
    expect(b.globalMerge).toBe(m.globalMerge);
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
    let maxDiff = 0;
    perPeer.finalModels.forEach((m, i) => {
      for (let k = 0; k < m.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(m.data[k] - batched.models[i][k]));
    });
    expect(maxDiff).toBeLessThan(1e-4);
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
      const run = await buildRun(parseConfig({ ...base, ...extra }));
      expect(() => new BatchedWorld(run)).toThrow(key);
      expect(() => new BatchedWorld(run)).toThrow(/use engine: per-peer/);
    };
    await refused({ heterogeneity: { participation: 0.5 } }, /^heterogeneity\.participation:/);
    await refused({ aggregation: { name: 'vca' } }, /^aggregation\.name:/);
    await refused({ network: { loss: 0.1 } }, /^network\.loss:/);
    await refused({ topology: { name: 'one-peer-exponential' }, compression: { method: 'top-k', ratio: 0.1 }, aggregation: { name: 'choco-gossip' } }, /^topology:/);
  });
});
