// timing.mode async in the simulator: peers run at their own simulated pace, ordered by an
// event scheduler. With equal speeds and no latency it is the synchronous run, bit for bit; a
// straggler changes what its neighbours mix, and the exact final merge is still a barrier.
import { describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import type { RoundMetrics } from '../../src/report/metrics.js';

const base: RunConfigInput = {
  seed: 4,
  peers: 4,
  rounds: 6,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 800, test: 200, features: 12, classes: 3, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } },
  topology: { name: 'ring' },
  schedule: { localSteps: 4, merge: { final: true } },
  eval: { every: 1 },
};

describe('asynchronous rounds in the simulator', () => {
  it('equals the synchronous run bit for bit when every peer runs at the same speed', async () => {
    const sync = await simulate(parseConfig(base));
    const async = await simulate(parseConfig({ ...base, timing: { mode: 'async', maxStaleness: 0 } }));
    expect(async.metrics).toHaveLength(base.rounds as number);
    async.metrics.forEach((a, r) => {
      const s = sync.metrics[r];
      expect(a.perPeer!.trainLoss).toEqual(s.perPeer!.trainLoss);
      expect(a.perPeer!.accuracy).toEqual(s.perPeer!.accuracy);
      expect([a.bytesSent, a.bytesReceived]).toEqual([s.bytesSent, s.bytesReceived]);
      expect([a.perPeer!.bytesSent, a.perPeer!.bytesReceived]).toEqual([s.perPeer!.bytesSent, s.perPeer!.bytesReceived]);
      expect(a.simSeconds).toBe(s.simSeconds);
    });
    expect(async.summary.mergedAccuracy).toBe(sync.summary.mergedAccuracy);
  });

  it('a straggler: its neighbours go on without waiting and mix what they hold; deterministic; the final merge waits for it', async () => {
    const cfg = parseConfig({ ...base, timing: { mode: 'async', maxStaleness: 2, slowPeers: [{ peer: 0, delayMs: 200 }] } });
    const a = await simulate(cfg);
    const b = await simulate(cfg);
    expect(a.metrics).toEqual(b.metrics.map((m, r) => ({ ...m, wallSeconds: a.metrics[r].wallSeconds })));
    const sync = await simulate(parseConfig({ ...base, timing: { mode: 'sync', slowPeers: [{ peer: 0, delayMs: 200 }] } }));
    // Not the synchronous run: the fast peers mixed stale models of peer 0 (or none) in early rounds.
    expect(a.metrics[1].perPeer!.trainLoss).not.toEqual(sync.metrics[1].perPeer!.trainLoss);
    // The straggler reaches the merge after 6 rounds of 4 steps (5 ms each) plus its 200 ms delay; everyone merges then.
    expect(a.metrics.at(-1)!.simSeconds).toBeCloseTo((6 * (4 * 5 + 200)) / 1000, 9);
    const last = a.metrics.at(-1)!;
    expect(last.globalMerge).toBe(true);
    expect(last.localAccuracyStd).toBe(0);
    expect(last.mergedAccuracy).toBe(last.localAccuracyMean);
  });

  it.each(['sign-flip', 'label-flip'] as const)('with %s attackers at equal speeds: the synchronous run bit for bit (attackers corrupt what they publish)', async (kind) => {
    const attacked = { ...base, attack: { kind, fraction: 0.25 } };
    const sync = await simulate(parseConfig(attacked));
    const async = await simulate(parseConfig({ ...attacked, timing: { mode: 'async', maxStaleness: 0 } }));
    // The synchronous simulator lists the honest peers; an asynchronous peer reports itself, attacker or not.
    const honest = (m: RoundMetrics, peers: readonly number[]) => peers.map((i) => ({ loss: m.perPeer!.trainLoss[m.perPeer!.peer.indexOf(i)], accuracy: m.perPeer!.accuracy[m.perPeer!.peer.indexOf(i)] }));
    async.metrics.forEach((a, r) => {
      const s = sync.metrics[r];
      expect(s.perPeer!.peer.length).toBe(3);
      expect(honest(a, s.perPeer!.peer)).toEqual(honest(s, s.perPeer!.peer));
    });
    expect(async.summary.mergedAccuracy).toBe(sync.summary.mergedAccuracy);
    // The attack did something: the honest run differs.
    const clean = await simulate(parseConfig({ ...base, timing: { mode: 'async', maxStaleness: 0 } }));
    expect(clean.metrics.at(-1)!.perPeer!.trainLoss).not.toEqual(async.metrics.at(-1)!.perPeer!.trainLoss);
  });

  it.each(['alie', 'nan'] as const)('refuses attack.kind %s with async rounds, naming the key', async (kind) => {
    await expect(simulate(parseConfig({ ...base, attack: { kind, fraction: 0.25 }, timing: { mode: 'async' } }))).rejects.toThrow(`attack.kind ${kind} with timing.mode async`);
  });
});
