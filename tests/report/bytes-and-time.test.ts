// Per-peer bytes and simulated time in the report: the rows the plots draw (exact values), when a
// run's clock counts as more than rounds, and the plots from what the simulator records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { smallRun } from '../sim/small-run.js';
import type { RoundMetrics } from '../../src/report/metrics.js';
import { buildPlots } from '../../src/report/plots.js';
import { hasSimulatedDelays, perPeerBytesRows, perPeerBytesSpreadRows, withSimSeconds, type NamedRun } from '../../src/report/series.js';
import { writeReport } from '../../src/report/write-report.js';
import { simulate } from '../../src/sim/simulator.js';
import { syntheticMetrics, writeSyntheticRun } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-report-bytes-time-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const withBytes = (round: number, peer: number[], bytesSent?: number[]): RoundMetrics => ({
  ...syntheticMetrics({ rounds: round, peers: 3, seed: 1 })[round - 1],
  perPeer: { peer, trainLoss: peer.map(() => 1), accuracy: peer.map(() => null), loss: peer.map(() => null), ...(bytesSent ? { bytesSent, bytesReceived: bytesSent } : {}) },
});

describe('per-peer bytes rows', () => {
  const run: NamedRun = {
    name: 'r',
    metrics: [withBytes(1, [0, 1, 2], [10, 30, 20]), withBytes(2, [0, 2], [0, 40]), withBytes(3, [1])],
    partition: null,
  };

  it('one row per listed peer and round, capped at the first peers listed', () => {
    expect(perPeerBytesRows([run])).toEqual([
      { run: 'r', round: 1, peer: 0, value: 10 },
      { run: 'r', round: 1, peer: 1, value: 30 },
      { run: 'r', round: 1, peer: 2, value: 20 },
      { run: 'r', round: 2, peer: 0, value: 0 },
      { run: 'r', round: 2, peer: 2, value: 40 },
    ]);
    expect(perPeerBytesRows([run], 2).map((r) => [r.round, r.peer])).toEqual([[1, 0], [1, 1], [2, 0]]);
  });

  it('mean, min and max over the listed peers of each round that recorded bytes', () => {
    expect(perPeerBytesSpreadRows([run])).toEqual([
      { run: 'r', round: 1, value: 20, lo: 10, hi: 30 },
      { run: 'r', round: 2, value: 20, lo: 0, hi: 40 },
    ]);
  });
});

describe('simulated time', () => {
  it('counts a network that delays messages and stragglers, not the defaults or a lossy link alone', () => {
    const defaults = { network: { latencyMs: 0, jitterMs: 0, loss: 0 }, timing: { slowPeers: [] }, heterogeneity: { stepMs: 5, speedSpread: 0 } };
    expect(hasSimulatedDelays(undefined)).toBe(false);
    expect(hasSimulatedDelays({})).toBe(false);
    expect(hasSimulatedDelays(defaults)).toBe(false);
    expect(hasSimulatedDelays({ ...defaults, network: { latencyMs: 0, jitterMs: 0, loss: 0.2 } })).toBe(false);
    expect(hasSimulatedDelays({ ...defaults, timing: { slowPeers: [{ peer: 1, delayMs: 100 }] } })).toBe(true);
    expect(hasSimulatedDelays({ ...defaults, network: { latencyMs: 20, jitterMs: 0, loss: 0 } })).toBe(true);
    expect(hasSimulatedDelays({ ...defaults, network: { latencyMs: 0, jitterMs: 3, loss: 0 } })).toBe(true);
    expect(hasSimulatedDelays({ ...defaults, network: { latencyMs: 0, jitterMs: 0, loss: 0, bandwidthMbps: 10 } })).toBe(true);
    expect(hasSimulatedDelays({ ...defaults, heterogeneity: { stepMs: 5, speedSpread: 0.5 } })).toBe(true);
  });

  it("gives rows their round's simSeconds", () => {
    const runs: NamedRun[] = [{ name: 'a', metrics: syntheticMetrics({ rounds: 3, peers: 2, seed: 1 }), partition: null }];
    expect(withSimSeconds(runs, [{ run: 'a', round: 2 }, { run: 'a', round: 3 }])).toEqual([
      { run: 'a', round: 2, seconds: 3 },
      { run: 'a', round: 3, seconds: 4.5 },
    ]);
  });
});

describe('the report', () => {
  it('writes the PNGs of accuracy vs simulated time and bytes per peer where the runs call for them', async () => {
    const slow = join(root, 'slow');
    const plain = join(root, 'plain');
    writeSyntheticRun(slow, { rounds: 6, peers: 4, seed: 1, perPeer: true, perPeerBytes: true, config: { timing: { slowPeers: [{ peer: 2, delayMs: 300 }] } } });
    writeSyntheticRun(plain, { rounds: 6, peers: 4, seed: 2 });
    const both = await writeReport([slow, plain], join(root, 'both.html'));
    expect(both.pngs.map((p) => basename(p))).toEqual([
      'both-accuracy.png', 'both-accuracy-vs-bytes.png', 'both-accuracy-vs-time.png', 'both-consensus.png', 'both-loss.png', 'both-bytes-per-peer.png', 'both-label-histograms.png',
    ]);
    const alone = await writeReport([plain], join(root, 'plain.html'));
    expect(alone.pngs.map((p) => basename(p))).toEqual(['plain-accuracy.png', 'plain-accuracy-vs-bytes.png', 'plain-consensus.png', 'plain-loss.png', 'plain-label-histograms.png']);
  });
});

describe('plots from simulated runs', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  // Six peers on a ring, 2 rounds of 2 local steps at 5 ms each.
  const plotsOf = async (over: Partial<RunConfigInput>) => {
    const r = await simulate(parseConfig(smallRun({ rounds: 2, schedule: { localSteps: 2, gossipSteps: 1 }, heterogeneity: { stepMs: 5 }, ...over })));
    return { metrics: r.metrics, plots: buildPlots([{ name: 'run', metrics: r.metrics, partition: r.partition, summary: r.summary }]) };
  };

  it('with a straggler: accuracy vs simulated time, at the clock the simulator kept; without one: no such plot', async () => {
    const slow = await plotsOf({ timing: { slowPeers: [{ peer: 1, delayMs: 1000 }] } });
    expect(slow.metrics.map((m) => m.simSeconds)).toEqual([1.01, 2.02]);
    const time = slow.plots.find((p) => p.id === 'accuracy-vs-time');
    expect(time).toBeDefined();
    const layers = (time!.spec as { layer: Array<{ data: { values: Array<{ round: number; seconds: number }> } }> }).layer;
    expect(layers[3].data.values.map((r) => [r.round, r.seconds])).toEqual([[1, 1.01], [1, 1.01], [2, 2.02], [2, 2.02]]);
    const plain = await plotsOf({});
    expect(plain.plots.map((p) => p.id)).not.toContain('accuracy-vs-time');
  });

  it('draws each peer\'s bytes per round from what the simulator recorded', async () => {
    const { metrics, plots } = await plotsOf({});
    const bytes = plots.find((p) => p.id === 'bytes-per-peer')!;
    const layers = (bytes.spec as { layer: Array<{ data: { values: Array<{ round: number; peer?: number; value: number }> } }> }).layer;
    // Layers: merges, band, each peer, mean. A ring: each of 6 peers sends its model to 2 neighbours.
    const perPeerSent = metrics[0].bytesSent / 6;
    expect(layers[2].data.values.filter((r) => r.round === 1).map((r) => [r.peer, r.value])).toEqual([0, 1, 2, 3, 4, 5].map((p) => [p, perPeerSent]));
    expect(layers[3].data.values.map((r) => r.value)).toEqual([perPeerSent, metrics[1].bytesSent / 6]);
  });
});
