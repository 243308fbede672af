// The simulator and real peers run one algorithm: the same config and seed through the
// in-memory simulator and through real libp2p nodes (memory transport, one process) give the
// same per-round numbers, bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { runPeer } from '../../src/node/run-peer.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const input: RunConfigInput = {
  name: 'parity',
  seed: 11,
  peers: 3,
  rounds: 4,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 16, classes: 4, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
  topology: { name: 'ring' },
  // Compressed differences (CHOCO keeps the compression error in the public copies) and one exact merge at the end.
  compression: { method: 'top-k', ratio: 0.25 },
  aggregation: { name: 'choco-gossip' },
  schedule: { localSteps: 3, merge: { final: true } },
  eval: { every: 1 },
};

/** Runs the config as `n` real peers in this process over libp2p's memory transport; metrics per member position. */
async function realPeers(n: number): Promise<RoundMetrics[][]> {
  const config = parseConfig(input);
  const rounds = Array.from({ length: n }, () => [] as RoundMetrics[]);
  const ids: string[] = [];
  let bootstrap: string | undefined;
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const runs = Array.from({ length: n }, async (_, k) => {
    if (k > 0) await listening;
    const outDir = mkdtempSync(join(tmpdir(), `gossipfl-parity-${k}-`));
    dirs.push(outDir);
    const got: RoundMetrics[] = [];
    await runPeer({
      config,
      outDir,
      node: { memoryTransport: true, ...(bootstrap ? { bootstrap: [bootstrap] } : {}) },
      startGraceMs: 500,
      startTimeoutMs: 30_000,
      log: () => {},
      onListening: (id, addrs) => {
        ids[k] = id;
        if (k === 0) {
          bootstrap = `${addrs[0]}`;
          ready();
        }
      },
      onRound: (m) => got.push(m),
    });
    return got;
  });
  const results = await Promise.all(runs);
  // Member order is the sorted peer ids: position k of the run is the peer whose id sorts k-th.
  const order = [...ids].sort();
  results.forEach((got, k) => (rounds[order.indexOf(ids[k])] = got));
  return rounds;
}

describe('one algorithm in the simulator and between real peers', () => {
  it('gives bit-identical per-round losses, accuracies and bytes (ring, top-k with CHOCO, final merge)', async () => {
    const sim = await simulate(parseConfig(input));
    const peers = await realPeers(input.peers as number);
    expect(sim.metrics).toHaveLength(input.rounds as number);
    sim.metrics.forEach((s, r) => {
      const perPeer = s.perPeer!;
      peers.forEach((metrics, k) => {
        const m = metrics[r];
        expect(m.round).toBe(s.round);
        expect(Object.is(m.trainLoss, perPeer.trainLoss[k])).toBe(true);
        expect(m.localAccuracyMean).toBe(perPeer.accuracy[k]);
        expect(m.globalMerge).toBe(s.globalMerge);
      });
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesSent, 0)).toBe(s.bytesSent);
      expect(peers.reduce((n, metrics) => n + metrics[r].bytesReceived, 0)).toBe(s.bytesReceived);
    });
    // After the final merge every real peer holds the simulator's merged model.
    const last = sim.metrics.at(-1)!;
    for (const metrics of peers) expect(metrics.at(-1)!.mergedAccuracy).toBe(last.mergedAccuracy);
  }, 120_000);
});
