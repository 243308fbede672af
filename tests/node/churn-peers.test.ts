// Churn on real peers: each peer follows its shard's line of the config's churn schedule (the
// simulator's draws), leaving with a leave message, sitting out and rejoining, while the others go on.
import { describe, expect, it } from 'vitest';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { churnPlan } from '../../src/peer/churn.js';
import { runRealPeers } from '../parity/real-peers.js';

const ROUNDS = 10;
const input: RunConfigInput = {
  name: 'churn-real',
  seed: 3,
  peers: 4,
  rounds: ROUNDS,
  backend: 'cpu',
  data: { dataset: 'synthetic', train: 800, test: 200, features: 16, classes: 4, partition: { kind: 'iid' } },
  model: { kind: 'mlp', hidden: [8] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } },
  topology: { name: 'complete' },
  schedule: { localSteps: 2 },
  eval: { every: 1 },
  // One peer leaves at round 3 and comes back at round 6; another crashes at round 9.
  heterogeneity: { deadlineMs: 4000, churn: [{ round: 3, leave: 0.25 }, { round: 6, rejoin: 1 }, { round: 9, crash: 0.34 }] },
  // Rounds of about 0.8 s, so that a rejoin announced at the 2 s announcement interval lands in
  // time; a deadline, so that no exchange waits without end for a peer that sits out.
  timing: { slowPeers: [0, 1, 2, 3].map((peer) => ({ peer, delayMs: 800 })) },
};

describe('churn between real peers', () => {
  it('the schedule\'s leaver sits out and rejoins, the crashed one stops, the others train every round', async () => {
    const config = parseConfig(input);
    const plans = [0, 1, 2, 3].map((k) => churnPlan(config, k));
    const leaver = plans.findIndex((p) => !p.live(2));
    const crasher = plans.findIndex((p) => p.live(7) && !p.live(8));
    expect(leaver).toBeGreaterThanOrEqual(0);
    expect(crasher).toBeGreaterThanOrEqual(0);
    expect(plans[leaver].nextLive(2)).toBe(5);
    const logs: string[][] = [[], [], [], []];
    const real = await runRealPeers(config, {}, 4, { member: (k) => ({ log: (l: string) => logs[k].push(l) }) });
    // Logs are per process; each names its shard.
    const byShard: string[][] = [];
    for (const lines of logs) byShard[Number(/: shard (\d)\/4/.exec(lines.join('\n'))![1])] = lines;
    // Shard k is the k-th member (default shards), so metrics[k] is shard k's.
    const rounds = real.metrics.map((m) => m.map((r) => r.round));
    const back = rounds[leaver][2];
    const all = Array.from({ length: ROUNDS }, (_, i) => i + 1);
    for (let k = 0; k < 4; k++) {
      if (k === leaver || k === crasher) continue;
      expect(rounds[k], byShard[k].join('\n')).toEqual(all);
      // Everyone in rounds 1-2, three while the leaver is out (at least rounds 3-5), four once it is back, three after the crash.
      const active = real.metrics[k].map((r) => r.activePeers);
      expect(active.slice(0, 2)).toEqual([4, 4]);
      expect(active.slice(2, back - 1)).toEqual(Array.from({ length: back - 3 }, () => 3));
      expect(active.slice(back - 1, 8)).toEqual(Array.from({ length: 9 - back }, () => 4));
    }
    // The leaver: rounds 1-2, then from its rejoin round (the schedule's 6, or later if the others were too far on) to the end.
    expect(rounds[leaver].slice(0, 2)).toEqual([1, 2]);
    expect(back).toBeGreaterThanOrEqual(6);
    expect(back).toBeLessThanOrEqual(8);
    expect(rounds[leaver].slice(2)).toEqual(all.slice(back - 1));
    expect(byShard[leaver].some((l) => /churn: shard \d leaves after round 2/.test(l)), byShard[leaver].join("\n")).toBe(true);
    expect(byShard[leaver].some((l) => /churn: shard \d sits out from round 3; rejoins at round \d+/.test(l))).toBe(true);
    // The crashed shard: rounds 1-8, then a clean stop.
    expect(rounds[crasher]).toEqual(all.slice(0, 8));
    expect(byShard[crasher].some((l) => /churn: shard \d is out from round 9 to the end: stopping/.test(l))).toBe(true);
    // The others' last rounds count the rejoined leaver and not the crashed peer.
    const other = [0, 1, 2, 3].find((k) => k !== leaver && k !== crasher)!;
    expect(real.metrics[other].at(-1)!.activePeers).toBe(3);
  }, 120_000);
});
