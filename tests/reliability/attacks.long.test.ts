// Attacks and faults on real `gossipfl peer` processes (6 peers on loopback, MNIST, MLP, ring),
// each compared with a clean run of the same config in the same test: a hostile client that
// forges an announcement of a far round, joins as a ghost that never sends, floods junk and
// trickles a slow update stream; a peer stopped (SIGSTOP) for longer than the silence limit and
// resumed; the bootstrap peer SIGKILLed mid-run. Run by `npm run test:reliability`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/node/wire.js';
import { loadConfigFile } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { Rng } from '../../src/util/rng.js';
import { HostileClient } from './hostile.js';
import { preparePeers, roundGaps, until, type PeerProcesses } from './peer-processes.js';
import { recordRow } from './record.js';
import { skipsOf, unconfirmedSkips, unexplainedGaps } from './skips.js';

const N = 6;
const ROUNDS = 20;
const DEADLINE_S = 1.5;
const config = (rounds = ROUNDS) => `name: attacks
seed: 11
peers: ${N}
rounds: ${rounds}
backend: wasm
data: { dataset: mnist, train: 3000, test: 500, partition: { kind: iid } }
model: { kind: mlp, hidden: [32] }
training: { batchSize: 32, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ring }
schedule: { localSteps: 5 }
heterogeneity: { deadlineMs: ${DEADLINE_S * 1000} }
eval: { every: 5 }
`;

const runs: PeerProcesses[] = [];
afterAll(() => runs.forEach((r) => r.cleanup()));

interface Finished {
  readonly codes: number[];
  /** Final accuracy of each peer (from its last metrics row). */
  readonly accuracy: number[];
  /** The rounds each peer reported, in order. */
  readonly rounds: number[][];
  readonly gaps: number[][];
}

async function finish(p: PeerProcesses, peers: readonly number[]): Promise<Finished> {
  const codes = await Promise.all(peers.map((i) => p.exit(i)));
  const metrics = peers.map((i) => p.metrics(i));
  return {
    codes,
    accuracy: metrics.map((m) => m.at(-1)?.localAccuracyMean ?? 0),
    rounds: metrics.map((m) => m.map((r) => r.round)),
    gaps: metrics.map(roundGaps),
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const every = Array.from({ length: N }, (_, i) => i);
/**
 * Every peer of `peers` trained every round up to the last, except rounds it skipped to catch up
 * with a round at least two of the others had reached (it fell behind: stopped, or starved of CPU
 * on a busy machine). A skip to a round the others had not reached — what a forged announcement
 * did — or a round missing without a skip fails. Returns the rounds each peer skipped.
 */
function expectEveryRoundOrConfirmedSkip(p: PeerProcesses, f: Finished, peers: readonly number[], text: string): number[] {
  return peers.map((i, k) => {
    const skips = skipsOf(p, i);
    expect(unconfirmedSkips(p, i, peers.filter((j) => j !== i)), text).toEqual([]);
    expect(unexplainedGaps(f.rounds[k], skips, ROUNDS), text).toEqual([]);
    expect(f.rounds[k].at(-1), text).toBe(ROUNDS);
    return ROUNDS - f.rounds[k].length;
  });
}

const tails = (p: PeerProcesses, peers: readonly number[]) => peers.map((i) => `[${i}] ${p.logs[i].slice(-5).join('\n    ')}`).join('\n');

let clean: Finished;
let cleanRun: PeerProcesses;
let loneAccuracy = 0;

describe('attacks and faults on 6 real peer processes (long)', () => {
  beforeAll(async () => {
    const p = (cleanRun = await preparePeers(N, config(), 'clean'));
    runs.push(p);
    await p.startAll();
    clean = await finish(p, every);
    // What a peer reaches alone on its shard: the same config with (almost) every message lost.
    const lone = await simulate({ ...loadConfigFile(p.configFile), network: { latencyMs: 0, jitterMs: 0, loss: 0.9999 } });
    loneAccuracy = lone.summary.localAccuracyMean ?? 0;
  }, 600_000);

  it('the clean run trains every round and beats a lone peer', () => {
    expect(clean.codes, 'see runs/reliability/logs/clean').toEqual(every.map(() => 0));
    expectEveryRoundOrConfirmedSkip(cleanRun, clean, every, 'see runs/reliability/logs/clean');
    expect(mean(clean.accuracy)).toBeGreaterThan(loneAccuracy + 0.01);
  });

  it('a forged far-round announcement, a ghost member, a junk flood and a slow stream: every round trained, accuracy within 1 point, no wait for the ghost after 2 rounds', async () => {
    const t0 = performance.now();
    const p = await preparePeers(N, config(), 'hostile');
    runs.push(p);
    await p.startAll();
    const outsider = await HostileClient.connect(p.bootstrap);
    const ghost = await HostileClient.connect(p.bootstrap);
    try {
      await Promise.all([outsider.learn(120_000), ghost.learn(120_000)]);
      await ghost.untilRound(1, 120_000);
      // A ghost: accepted at a future round, announcing, never sending an update.
      ghost.startGhost(1000);
      const ghostJoins = ghost.heardRound + 3;
      await until(() => ghost.listedBy.size >= N - 1, 60_000, 'the ghost listed as a member');
      // The attack: the run's identity and round 19, claimed by a stranger, to every peer.
      await outsider.publish(outsider.announcement({ round: 19, joinRound: 0 }));
      const rng = new Rng(5);
      for (let k = 0; k < 3000; k++) {
        await outsider.publish(concatBytes([Uint8Array.of(0x47, 0x46, 2, 1), Uint8Array.from({ length: 8 + rng.int(40) }, () => rng.int(256))]));
        // Keep this process's own timers (the ghost's announcements) running during the flood.
        if (k % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const slow = await ghost.slowStream(p.ids[1], 4096, 1000, 60_000);
      const attacked = await finish(p, every);
      const text = tails(p, every);
      expect(attacked.codes, text).toEqual(every.map(() => 0));
      const skipped = expectEveryRoundOrConfirmedSkip(p, attacked, every, text);
      // Once suspected (2 rounds after it joined, + 2 for slack in when each peer saw the join), no round waits for the ghost.
      const waits = attacked.gaps.map((g) => g.slice(ghostJoins + 4).filter((s) => s >= DEADLINE_S).length);
      expect(waits, text).toEqual(every.map(() => 0));
      const cost = mean(clean.accuracy) - mean(attacked.accuracy);
      expect(Math.abs(cost), `clean ${clean.accuracy} attacked ${attacked.accuracy}`).toBeLessThanOrEqual(0.01);
      expect(slow.closedAfterMs, 'slow stream cut').not.toBeNull();
      expect(slow.closedAfterMs!).toBeLessThan(45_000);
      const lines = p.logs.map((l) => l.filter((x) => x.includes(outsider.peerId)).length);
      for (const n of lines) expect(n).toBeLessThan(30);
      recordRow({
        check: `hostile client vs ${N} peer processes: forged round-19 announcement, ghost member, 3,000 junk messages, 1-byte/s update stream`,
        faults: 4,
        inputs: 3002 + 1,
        crashes: attacked.codes.filter((c) => c !== 0).length,
        dataLost: attacked.rounds.filter((r) => r.length !== ROUNDS).length,
        accuracyCostPts: cost * 100,
        seconds: (performance.now() - t0) / 1000,
        notes: `rounds skipped to catch up (confirmed by the others) per peer ${skipped.join('/')}, none to the forged round; rounds waiting >= ${DEADLINE_S} s after the ghost was suspected: ${waits.join('/')}; slow stream cut after ${((slow.closedAfterMs ?? 0) / 1000).toFixed(1)} s; log lines naming the outsider per peer ${lines.join('/')}; accuracy ${attacked.accuracy.map((a) => (a * 100).toFixed(1)).join('/')}% vs clean ${clean.accuracy.map((a) => (a * 100).toFixed(1)).join('/')}%, lone peer ${(loneAccuracy * 100).toFixed(1)}%`,
      });
    } finally {
      await outsider.stop();
      await ghost.stop();
    }
  }, 600_000);

  it('a peer stopped for 15 s (SIGSTOP) and resumed: the others finish every round; it re-joins or stops with a clear line and a summary, never crashes', async () => {
    const t0 = performance.now();
    const p = await preparePeers(N, config(), 'sigstop');
    runs.push(p);
    await p.startAll();
    await until(() => p.lastRound(3) >= 4, 240_000, 'peer 3 at round 4');
    p.procs[3]!.kill('SIGSTOP');
    const stoppedAt = p.lastRound(0);
    await new Promise((r) => setTimeout(r, 15_000));
    p.procs[3]!.kill('SIGCONT');
    const others = every.filter((i) => i !== 3);
    const done = await finish(p, others);
    const code3 = await p.exit(3);
    const text = tails(p, every);
    expect(done.codes, text).toEqual(others.map(() => 0));
    const skipped = expectEveryRoundOrConfirmedSkip(p, done, others, text);
    expect(code3, text).toBe(0);
    expect(p.logs[3].some((l) => /re-joins at round|stopping before round/.test(l)), text).toBe(true);
    expect(p.logs[3].some((l) => /at least 2/.test(l)), text).toBe(false);
    expect(existsSync(join(p.dirs[3], 'summary.json'))).toBe(true);
    // The others wait for the stopped peer at most twice (liveness), then carry on at full pace.
    const slowRounds = done.gaps.map((g) => g.filter((s) => s >= 2 * DEADLINE_S).length);
    for (const n of slowRounds) expect(n, text).toBeLessThanOrEqual(3);
    const cost = mean(clean.accuracy) - mean(done.accuracy);
    recordRow({
      check: `SIGSTOP one of ${N} peer processes for 15 s at round ${stoppedAt}, then SIGCONT`,
      faults: 1,
      inputs: N * ROUNDS,
      crashes: [...done.codes, code3].filter((c) => c !== 0).length,
      dataLost: done.rounds.filter((r) => r.length !== ROUNDS).length,
      accuracyCostPts: cost * 100,
      seconds: (performance.now() - t0) / 1000,
      notes: `the other ${others.length} trained rounds 1-${ROUNDS} (rounds skipped to catch up, confirmed: ${skipped.join('/')}), slow rounds (>= ${2 * DEADLINE_S} s) per peer ${slowRounds.join('/')}; the resumed peer: "${p.logs[3].find((l) => /re-joins at round|stopping before round/.test(l))?.replace(/^.*?: /, '')}", exit 0, last round ${p.lastRound(3)}`,
    });
  }, 600_000);

  it('the bootstrap peer SIGKILLed at round 5: the others finish every round above a lone peer', async () => {
    const t0 = performance.now();
    const p = await preparePeers(N, config(), 'bootstrap-kill');
    runs.push(p);
    await p.startAll();
    await until(() => p.lastRound(0) >= 5, 240_000, 'peer 0 at round 5');
    p.procs[0]!.kill('SIGKILL');
    await p.exit(0);
    const others = every.slice(1);
    const done = await finish(p, others);
    const text = tails(p, others);
    expect(done.codes, text).toEqual(others.map(() => 0));
    const skipped = expectEveryRoundOrConfirmedSkip(p, done, others, text);
    expect(mean(done.accuracy)).toBeGreaterThan(loneAccuracy + 0.01);
    recordRow({
      check: `SIGKILL the bootstrap peer of ${N} peer processes at round 5`,
      faults: 1,
      inputs: others.length * ROUNDS,
      crashes: done.codes.filter((c) => c !== 0).length,
      dataLost: done.rounds.filter((r) => r.length !== ROUNDS).length,
      accuracyCostPts: (mean(clean.accuracy) - mean(done.accuracy)) * 100,
      seconds: (performance.now() - t0) / 1000,
      notes: `the other ${others.length} trained rounds 1-${ROUNDS} (rounds skipped to catch up, confirmed: ${skipped.join('/')}); accuracy ${done.accuracy.map((a) => (a * 100).toFixed(1)).join('/')}% vs clean ${(mean(clean.accuracy) * 100).toFixed(1)}%, lone peer ${(loneAccuracy * 100).toFixed(1)}%`,
    });
  }, 600_000);
});
