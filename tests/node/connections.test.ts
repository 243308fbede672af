// Connections follow the topology: peers that all bootstrap through one hub still learn every
// member (announcements relayed over the run topic), then keep only their topology and
// member-ring neighbours (and chords); the next round's neighbours are dialled ahead; a non-neighbour is
// dialled on demand and closed again once idle.
import { afterEach, describe, expect, it } from 'vitest';
import { compareIds } from '../../src/node/membership.js';
import type { NeighboursOf } from '../../src/node/transport.js';
import { chordOf } from '../../src/node/dialer.js';
import { payloadOf, startCluster, stopAll, until, type Member } from './cluster.js';

const N = 8;
const GRACE_MS = 3000;

/** Round r: the peers at distance 2, 3, 4, 2, … in member order, so neighbours rotate. */
function hop(round: number): number {
  return 2 + (round % 3);
}

function neighboursAt(self: string): NeighboursOf {
  return (round, members) => {
    const i = members.indexOf(self);
    const n = members.length;
    const d = hop(round);
    return [members[(i + d) % n], members[(i - d + n) % n]];
  };
}

const peersOf = (m: Member): string[] => m.node.libp2p.getPeers().map((p) => p.toString()).sort(compareIds);

/** Waits until every member is connected to exactly the peers `want` names; the error lists who differs. */
async function settle(members: readonly Member[], want: (m: Member) => string[], ids: readonly string[], what: string): Promise<void> {
  const off = () => members.filter((m) => peersOf(m).join() !== want(m).join());
  const name = (id: string) => ids.indexOf(id);
  try {
    await until(() => off().length === 0, 30_000, what);
  } catch (err) {
    const lines = off().map((m) => `peer ${name(m.node.peerId)}: connected ${peersOf(m).map(name).join(',')} wanted ${want(m).map(name).join(',')}; ${m.logs.filter((l) => !l.includes('accepted')).join(' | ')}`);
    throw new Error(`${(err as Error).message}\n${lines.join('\n')}`);
  }
}

describe('connections follow the topology', () => {
  let running: Member[] = [];
  afterEach(async () => {
    await stopAll(running);
    running = [];
  });

  it('hub bootstrap → full membership by gossip → only neighbours kept, next round dialled ahead, on-demand dial closed after grace', async () => {
    const selfOf: string[] = [];
    running = await startCluster(N, (i) => ({
      node: { memoryTransport: true },
      transport: { neighbours: (r, ms) => neighboursAt(selfOf[i])(r, ms), connectionGraceMs: GRACE_MS, announceIntervalMs: 2000 },
    }));
    running.forEach((m, i) => (selfOf[i] = m.node.peerId));
    await Promise.all(running.map((m) => m.transport.waitForMembers(N, 120_000)));
    const ids = running.map((m) => m.node.peerId).sort(compareIds);
    for (const m of running) expect(m.transport.members()).toEqual(ids);
    // The hub (member 0 of the start order) was everyone's first contact.
    expect(running[0].transport.connectionStats().maxSeen).toBe(N - 1);

    const wantAt = (m: Member, rounds: number[]): string[] => {
      const i = ids.indexOf(m.node.peerId);
      const set = new Set<string>([ids[(i + 1) % N], ids[(i - 1 + N) % N]]);
      // The member ring's chords: its own, and those landing on it.
      const own = chordOf(ids[i], ids);
      if (own) set.add(own);
      for (const id of ids) if (id !== ids[i] && chordOf(id, ids) === ids[i]) set.add(id);
      for (const r of rounds) for (const j of [i + hop(r), i - hop(r)]) set.add(ids[((j % N) + N) % N]);
      return [...set].sort(compareIds);
    };
    for (const m of running) m.transport.beginRound(0);
    // Round 0 and, ahead of time, round 1: ring ±1 and chords, ±2 (round 0) and ±3 (round 1); the hub's others go after the grace period.
    await settle(running, (m) => wantAt(m, [0, 1]), ids, 'connections to exactly the wanted peers');

    // A non-neighbour (distance 4) is reached on demand within the deadline.
    // A pair at distance 4 that no chord joins (chords depend on the ids, so look for one).
    const k = ids.findIndex((id, i) => !wantAt(running.find((m) => m.node.peerId === id)!, []).includes(ids[(i + 4) % N]));
    expect(k).toBeGreaterThanOrEqual(0);
    const a = running.find((m) => m.node.peerId === ids[k])!;
    const far = running.find((m) => m.node.peerId === ids[(k + 4) % N])!;
    expect(peersOf(a)).not.toContain(far.node.peerId);
    const [ra, rf] = await Promise.all([
      a.transport.exchange({ round: 0, phase: 0, payload: payloadOf(k, 0, 0, 64 * 1024), sendTo: [far.node.peerId], expectFrom: [], deadlineMs: 5000 }),
      far.transport.exchange({ round: 0, phase: 0, payload: new Uint8Array(0), sendTo: [], expectFrom: [a.node.peerId], deadlineMs: 5000 }),
    ]);
    expect(ra.missing).toEqual([]);
    expect(rf.missing).toEqual([]);
    expect(rf.received[0].bytes).toEqual(payloadOf(k, 0, 0, 64 * 1024));
    expect(a.transport.connectionStats().dialsOnDemand).toBe(1);

    // Round 1: ±1, ±3 and ±4 (round 2 ahead: ±4); round 0's ±2 go once idle.
    for (const m of running) m.transport.beginRound(1);
    await settle(running, (m) => wantAt(m, [1, 2]), ids, 'the round-1 neighbour set');
    // Round 3: ±1, ±2 and ±3 again; the distance-4 peer (used on demand in round 0, a neighbour in rounds 1-2) goes.
    for (const m of running) m.transport.beginRound(3);
    await settle(running, (m) => wantAt(m, [3, 4]), ids, 'the round-3 neighbour set');
    expect(peersOf(a)).not.toContain(far.node.peerId);
    // Both ends stop wanting it at the same boundary and either may close it first (the other then
    // finds nothing to close): one of them closed it, as unneeded, not the far peer leaving.
    expect(a.transport.connectionStats().closed + far.transport.connectionStats().closed).toBeGreaterThan(0);
  }, 240_000);
});
