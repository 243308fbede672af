// Mode federated between real peers: one peer serves, the others are clients; the same config
// and seed give the simulator's rounds bit for bit (clients' losses and accuracies, the server's
// global-model accuracy, bytes summed over clients and server).
import { describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPeer } from '../../src/node/run-peer.js';
import { runRealPeers } from './real-peers.js';

const base: RunConfigInput = {
  name: 'parity-federated',
  seed: 5,
  peers: 3,
  rounds: 4,
  backend: 'cpu',
  mode: 'federated',
  data: { dataset: 'synthetic', train: 600, test: 200, features: 16, classes: 4, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } },
  aggregation: { name: 'fedavg' },
  schedule: { localSteps: 3 },
  eval: { every: 1 },
};

async function expectParity(input: RunConfigInput): Promise<void> {
  const sim = await simulate(parseConfig(input));
  const real = await runRealPeers(parseConfig(input));
  expect(sim.metrics).toHaveLength(input.rounds as number);
  expect(real.server).toHaveLength(input.rounds as number);
  sim.metrics.forEach((s, r) => {
    const perPeer = s.perPeer!;
    const server = real.server![r];
    expect(server.round).toBe(s.round);
    expect(server.activePeers).toBe(s.activePeers);
    // The server holds the global model: its accuracy is the simulator's merged accuracy.
    expect(server.mergedAccuracy).toBe(s.mergedAccuracy);
    expect(server.mergedLoss).toBe(s.mergedLoss);
    perPeer.peer.forEach((k, j) => {
      const m = real.metrics[k][r];
      expect(m.round).toBe(s.round);
      // A client's own row (its last local loss, also in rounds it was not sampled in).
      expect(m.perPeer!.peer).toEqual([k]);
      expect(Object.is(m.perPeer!.trainLoss[0], perPeer.trainLoss[j])).toBe(true);
      expect(m.localAccuracyMean).toBe(perPeer.accuracy[j]);
      expect([m.perPeer!.bytesSent, m.perPeer!.bytesReceived]).toEqual([[perPeer.bytesSent![j]], [perPeer.bytesReceived![j]]]);
    });
    // The real server's own bytes are the simulated server's; it lists no client.
    expect(server.perPeer!.peer).toEqual([]);
    expect(server.perPeer!.server).toEqual(perPeer.server);
    const sent = real.metrics.reduce((n, metrics) => n + metrics[r].bytesSent, server.bytesSent);
    const got = real.metrics.reduce((n, metrics) => n + metrics[r].bytesReceived, server.bytesReceived);
    expect(sent).toBe(s.bytesSent);
    expect(got).toBe(s.bytesReceived);
  });
}

describe('mode federated: the simulator and 3 real clients with a real server', () => {
  it('FedAvg gives bit-identical rounds', async () => {
    await expectParity(base);
  }, 120_000);

  it('FedAdam with top-k uploads and 2 of 3 clients sampled per round gives bit-identical rounds', async () => {
    await expectParity({
      ...base,
      name: 'parity-federated-adam',
      federated: { participation: 0.67 },
      compression: { method: 'top-k', ratio: 0.25 },
      aggregation: { name: 'fedadam', serverLr: 0.05 },
    });
  }, 120_000);
});

describe('mode federated between real peers: faults and refusals', () => {
  it('a server that stops after round 2: every client stops with an error naming the server, no hang', async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    const real = await runRealPeers(parseConfig({ ...base, name: 'federated-server-stops', rounds: 6 }), {}, 3, {
      settle: true,
      server: { signal: stop.signal, onRound: (m) => m.round === 2 && stop.abort() },
    });
    expect(real.server).toHaveLength(2);
    for (let k = 0; k < 3; k++) {
      expect(String(real.errors![k])).toMatch(/mode federated: (the server \S+ sent no global model for round 3 \(it left or went silent\)|no server among the members in round 3)/);
      expect(real.metrics[k]).toHaveLength(2);
    }
    expect(real.errors![3]).toBeUndefined();
    // The server's leave stops the clients at once, not after the silence limit (10 s).
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 120_000);

  it('refuses --serve outside mode federated, and a group compressor with a server, before it listens', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'gossipfl-serve-refused-'));
    try {
      const peer = (input: RunConfigInput, serve: boolean) => runPeer({ config: parseConfig(input), outDir, serve, node: { memoryTransport: true }, log: () => {} });
      await expect(peer({ ...base, mode: 'gossip', aggregation: { name: 'gossip' } }, true)).rejects.toThrow(/--serve: only a mode: federated run has a server/);
      await expect(peer({ ...base, compression: { method: 'powersgd', rank: 2 } }, false)).rejects.toThrow(/a group compressor in mode federated runs in the simulator only/);
      await expect(peer({ ...base, training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } }, aggregation: { name: 'scaffold' } }, true)).rejects.toThrow(/aggregation.name scaffold/);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 60_000);
});
