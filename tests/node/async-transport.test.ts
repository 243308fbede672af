// The transport's asynchronous gossip over real libp2p on loopback: publish without waiting,
// the latest valid update per in-neighbour, and the barrier that exact merges meet at.
import { afterEach, describe, expect, it } from 'vitest';
import type { ValidateUpdate } from '../../src/node/transport.js';
import { payloadOf, startCluster, stopAll, until, type Member } from './cluster.js';

let running: Member[] = [];
afterEach(async () => {
  await stopAll(running);
  running = [];
});

/** Refuses payloads whose first byte is 0xff (a stand-in for a corrupt update). */
const firstByteNotFF: ValidateUpdate = (bytes) => (bytes[0] === 0xff ? { ok: false, reason: 'corrupt' } : { ok: true });

const tagged = (round: number, size: number): Uint8Array => {
  const b = payloadOf(1, round, 0, size);
  b[0] = round;
  return b;
};

describe('Libp2pTransport, asynchronous gossip', () => {
  it.each([
    ['gossipsub', 512],
    ['the direct stream', 64 * 1024],
  ])('keeps the latest valid update per in-neighbour (via %s): newer replaces; older, stale and corrupt ones do not', async (_via, size) => {
    running = await startCluster(3, () => ({ transport: { validate: firstByteNotFF, asyncGossip: { maxStaleness: 2, sendTimeoutMs: 5000 } } }));
    await Promise.all(running.map((m) => m.transport.waitForMembers(3, 10_000)));
    const [a, b, c] = running;
    const A = a.node.peerId;
    b.transport.setAsyncSenders([A]); // b mixes a's model; c mixes nobody's
    c.transport.setAsyncSenders([]);
    const heldAt = (round: number) => b.transport.latest([A], round).map((e) => e.round);

    a.transport.publish({ round: 1, phase: 0, payload: tagged(1, size), sendTo: [b.node.peerId, c.node.peerId] });
    await until(() => heldAt(0).length === 1, 5000, 'round 1 at b');
    a.transport.publish({ round: 3, phase: 0, payload: tagged(3, size), sendTo: [b.node.peerId] });
    await until(() => heldAt(0)[0] === 3, 5000, 'round 3 at b');
    // An older update and a corrupt newer one: neither replaces round 3.
    a.transport.publish({ round: 2, phase: 0, payload: tagged(2, size), sendTo: [b.node.peerId] });
    const corrupt = tagged(4, size);
    corrupt[0] = 0xff;
    a.transport.publish({ round: 4, phase: 0, payload: corrupt, sendTo: [b.node.peerId] });
    await until(() => b.logs.some((l) => l.includes('(round 4 phase 0) rejected: corrupt')), 5000, 'the corrupt update refused');
    await new Promise((r) => setTimeout(r, 200));
    expect(heldAt(0)).toEqual([3]);
    expect(b.transport.latest([A], 0)[0].bytes).toEqual(tagged(3, size));
    expect(b.transport.takeAsyncTraffic().received).toBe(2 * size); // rounds 1 and 3 kept
    // c does not mix a's model: nothing kept there.
    expect(c.transport.latest([A], 0)).toEqual([]);
    // b moves on to round 6: round 3 is 3 > 2 rounds old and is dropped.
    expect(heldAt(6)).toEqual([]);
  });

  it('large updates go direct, latest first: a burst to a receiver leaves it the newest', async () => {
    running = await startCluster(2, () => ({ transport: { asyncGossip: { maxStaleness: 100, sendTimeoutMs: 5000 } } }));
    await Promise.all(running.map((m) => m.transport.waitForMembers(2, 10_000)));
    const [a, b] = running;
    b.transport.setAsyncSenders([a.node.peerId]);
    for (let r = 0; r < 20; r++) a.transport.publish({ round: r, phase: 0, payload: tagged(r, 256 * 1024), sendTo: [b.node.peerId] });
    await until(() => b.transport.latest([a.node.peerId], 0)[0]?.round === 19, 10_000, 'round 19 at b');
    // Latest wins at the sender: far fewer than 20 large updates crossed the wire. The sender
    // counts a send once the receiver's ack is back, which may be after b holds round 19.
    let sent = 0;
    await until(() => (sent += a.transport.takeAsyncTraffic().sent) >= 2 * 256 * 1024, 10_000, 'the acks of rounds 0 and 19 at a');
    await new Promise((r) => setTimeout(r, 200));
    sent += a.transport.takeAsyncTraffic().sent;
    expect(sent).toBeLessThan(20 * 256 * 1024);
  });

  it('waitForRound is a barrier: it returns once every other member announced that round', async () => {
    running = await startCluster(2, () => ({ transport: { asyncGossip: { maxStaleness: 2 } } }));
    await Promise.all(running.map((m) => m.transport.waitForMembers(2, 10_000)));
    const [a, b] = running;
    a.transport.beginRound(5);
    let passed = false;
    const barrier = a.transport.waitForRound(5).then(() => (passed = true));
    b.transport.beginRound(2);
    await b.transport.waitForRound(2); // a is past round 2 already: b does not wait
    await new Promise((r) => setTimeout(r, 300));
    expect(passed).toBe(false);
    b.transport.beginRound(5);
    await b.transport.waitForRound(5);
    await barrier;
    expect(passed).toBe(true);
  });
});
