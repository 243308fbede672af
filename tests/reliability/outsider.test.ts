// Attacks from outside and from one insider on a live run (3 honest members on loopback, in this
// process), sent by a hostile libp2p client that learns the run's identity from what is in
// clear: a forged announcement changes nothing; a ghost member (accepted, never sends) is waited
// for only twice; slow update streams are cut at their deadline (a non-member's at once); a
// flood of junk costs a few log lines, not one per message. The same attacks on real peer
// processes: attacks.long.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import type { InboundVerdict } from '../../src/node/transport.js';
import { concatBytes } from '../../src/node/wire.js';
import { Rng } from '../../src/util/rng.js';
import { payloadOf, startCluster, stopAll, until, type Member } from '../node/cluster.js';
import { HostileClient } from './hostile.js';

const FRAME_TIMEOUT_MS = 1500;
const DEADLINE_MS = 800;
let members: Member[] = [];
const hostiles: HostileClient[] = [];
afterAll(async () => {
  await Promise.all(hostiles.map((h) => h.stop()));
  await stopAll(members);
});

/** One exchange of `round` among all members, each expecting every other run member (the ghost too); returns each member's wall time. */
async function exchangeRound(round: number, ghost: string): Promise<number[]> {
  const ids = [...members.map((m) => m.node.peerId), ghost];
  return Promise.all(
    members.map(async (m, i) => {
      m.transport.beginRound(round);
      const others = ids.filter((p) => p !== m.node.peerId);
      const t0 = Date.now();
      const r = await m.transport.exchange({ round, phase: 0, payload: payloadOf(i, round, 0, 64), sendTo: others, expectFrom: others, deadlineMs: DEADLINE_MS });
      expect(r.missing).toEqual([ghost]);
      return Date.now() - t0;
    }),
  );
}

describe('a hostile client against a live run', () => {
  it('forged announcements, a ghost member, slow streams and a flood: no skipped round, bounded waits, cut streams, few log lines', async () => {
    const verdicts: InboundVerdict[] = [];
    members = await startCluster(3, (i) => ({ transport: { frameTimeoutMs: FRAME_TIMEOUT_MS, ...(i === 0 ? { onVerdict: (v: InboundVerdict) => verdicts.push(v) } : {}) } }));
    await Promise.all(members.map((m) => m.transport.waitForMembers(3, 10_000)));
    const honest = members.map((m) => m.node.peerId).sort();
    for (let t = 0; t <= 8; t++) for (const m of members) m.transport.beginRound(t);

    // 1. An outsider copies the run identity from the topic and claims round 19, running since round 0.
    const outsider = await HostileClient.connect(members[0].node.addresses()[0]);
    hostiles.push(outsider);
    await outsider.learn();
    await outsider.untilRound(8, 10_000);
    await outsider.publish(outsider.announcement({ round: 19, joinRound: 0, peers: members.map((m) => m.node.addresses()[0]) }));
    await until(() => verdicts.some((v) => v.from === outsider.peerId && v.kind === 'announce'), 5000, 'the forged announcement');
    await new Promise((r) => setTimeout(r, 500));
    for (const m of members) {
      expect(m.transport.confirmedRoundAhead(9)).toBeNull();
      expect(m.transport.members()).toEqual(honest);
    }
    expect(verdicts.find((v) => v.from === outsider.peerId && v.kind === 'announce')).toMatchObject({ result: 'ignore', reason: 'held back: not a member yet' });

    // 2. A ghost: it asks to join at a future round (so it is accepted), keeps announcing, never sends an update.
    const ghost = await HostileClient.connect(members[1].node.addresses()[0]);
    hostiles.push(ghost);
    await ghost.learn();
    await ghost.untilRound(8, 10_000);
    ghost.startGhost(300);
    const joinAt = ghost.heardRound + 3;
    await until(() => members.every((m) => m.transport.members().length === 3 && m.logs.some((l) => l.startsWith(`peer ${ghost.peerId} accepted`))), 5000, 'the ghost accepted');
    for (let t = 9; t < joinAt; t++) for (const m of members) m.transport.beginRound(t);
    const times: number[][] = [];
    for (let t = joinAt; t < joinAt + 5; t++) times.push(await exchangeRound(t, ghost.peerId));
    // As a member it claims round 40: one member's claim is not enough to skip.
    await ghost.publish(ghost.announcement({ round: 40, joinRound: joinAt }));
    await until(() => verdicts.filter((v) => v.from === ghost.peerId && v.kind === 'announce').length > 0, 5000, 'the claim');
    await new Promise((r) => setTimeout(r, 500));
    for (const m of members) expect(m.transport.confirmedRoundAhead(joinAt + 5)).toBeNull();
    for (const m of members) expect(m.transport.members()).toEqual([...honest, ghost.peerId].sort());
    // Waited for (the deadline) twice, then not at all.
    for (const round of times.slice(0, 2)) for (const ms of round) expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    for (const round of times.slice(2)) for (const ms of round) expect(ms).toBeLessThan(DEADLINE_MS / 2);
    expect(members[0].logs).toContain(`member ${ghost.peerId} sent no update in 2 rounds in a row: not waiting for it until it sends again`);

    // 3. Slow streams: the member's trickle is cut at the frame deadline; the outsider's is refused unread.
    const [slowMember, slowOutsider] = await Promise.all([
      ghost.slowStream(members[0].node.peerId, 1000, 100, 10_000),
      outsider.slowStream(members[0].node.peerId, 1000, 100, 10_000),
    ]);
    expect(slowMember.closedAfterMs).not.toBeNull();
    expect(slowMember.closedAfterMs!).toBeGreaterThanOrEqual(FRAME_TIMEOUT_MS - 100);
    expect(slowMember.closedAfterMs!).toBeLessThan(FRAME_TIMEOUT_MS + 3000);
    expect(slowOutsider.closedAfterMs).not.toBeNull();
    expect(slowOutsider.closedAfterMs!).toBeLessThan(FRAME_TIMEOUT_MS);
    expect(slowOutsider.bytesSent).toBeLessThan(10);
    expect(members[0].logs.some((l) => l.startsWith(`update from ${ghost.peerId} aborted: frame not complete within`))).toBe(true);
    expect(members[0].logs).toContain(`update stream from ${outsider.peerId} refused: not a member of the run`);

    // 4. A flood of 3,000 junk messages: each gets a verdict, the log gets a few lines.
    const linesBefore = members[0].logs.length;
    const rng = new Rng(21);
    const junk = () => concatBytes([Uint8Array.of(0x47, 0x46, 2, 2), Uint8Array.from({ length: 16 + rng.int(64) }, () => rng.int(256))]);
    const judged = () => verdicts.filter((v) => v.from === outsider.peerId && v.kind === 'malformed').length;
    for (let i = 0; i < 3000; i++) await outsider.publish(junk());
    await until(() => judged() >= 3000, 30_000, 'verdicts on 3,000 junk messages');
    expect(members[0].logs.length - linesBefore).toBeLessThanOrEqual(5);
  }, 120_000);
});
