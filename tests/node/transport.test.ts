import { afterEach, describe, expect, it } from 'vitest';
import type { ExchangeResult } from '../../src/peer/transport.js';
import { sendUpdate } from '../../src/node/direct.js';
import { IDENTITY, payloadOf, startCluster, stopAll, until, type Member } from './cluster.js';

let running: Member[] = [];
afterEach(async () => {
  await stopAll(running);
  running = [];
});

/** Counts update messages gossipsub delivered to `m` (only messages that passed its validator are emitted). */
function countGossipDeliveries(m: Member): () => number {
  let n = 0;
  m.node.libp2p.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.topic === m.transport.topic && e.detail.data[3] === 2) n++;
  });
  return () => n;
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

describe('Libp2pTransport on loopback TCP', () => {
  it('two nodes agree on members and exchange both ways through gossipsub and through the stream (> 4 MiB)', async () => {
    running = await startCluster(2);
    const [a, b] = running;
    const infos = await Promise.all(running.map((m) => m.transport.waitForMembers(2, 8000)));
    const sorted = [a.node.peerId, b.node.peerId].sort();
    for (const info of infos) expect(info).toEqual({ members: sorted, startRound: 0 });
    const gossipAtB = countGossipDeliveries(b);
    const gossipAtA = countGossipDeliveries(a);

    // Round 0: 1 KiB, rides gossipsub.
    const small = (i: number) => payloadOf(i, 0, 0, 1024);
    const r0 = await Promise.all(
      running.map((m, i) => m.transport.exchange({ round: 0, phase: 0, payload: small(i), sendTo: [running[1 - i].node.peerId], expectFrom: [running[1 - i].node.peerId], deadlineMs: 5000 })),
    );
    expect(r0[0]).toEqual({ received: [{ from: b.node.peerId, round: 0, phase: 0, bytes: small(1) }], missing: [] });
    expect(r0[1]).toEqual({ received: [{ from: a.node.peerId, round: 0, phase: 0, bytes: small(0) }], missing: [] });
    expect([gossipAtA(), gossipAtB()]).toEqual([1, 1]);

    // Round 1: 5 MiB, over the direct stream (gossipsub cannot carry it).
    const big = (i: number) => payloadOf(i, 1, 0, 5 * 1024 * 1024);
    const r1 = await Promise.all(
      running.map((m, i) => m.transport.exchange({ round: 1, phase: 0, payload: big(i), sendTo: [running[1 - i].node.peerId], expectFrom: [running[1 - i].node.peerId], deadlineMs: 10_000 })),
    );
    expect(r1[0].missing).toEqual([]);
    expect(r1[1].missing).toEqual([]);
    // Compared as Buffers: a deep toEqual over 5 MiB takes most of a minute.
    expect(sameBytes(r1[0].received[0].bytes, big(1))).toBe(true);
    expect(sameBytes(r1[1].received[0].bytes, big(0))).toBe(true);
    expect(r1[0].received[0].bytes.constructor).toBe(Uint8Array);
    expect([gossipAtA(), gossipAtB()]).toEqual([1, 1]);
  });

  it('four nodes form membership; broadcast and per-recipient payloads arrive in two phases', async () => {
    running = await startCluster(4);
    await Promise.all(running.map((m) => m.transport.waitForMembers(4, 10_000)));
    const ids = running.map((m) => m.node.peerId);
    for (const m of running) expect(m.transport.members()).toEqual([...ids].sort());
    const others = (i: number) => ids.filter((_, j) => j !== i);

    // Phase 0: the same bytes to everyone (gossipsub). Phase 1: different bytes per recipient (stream).
    const results: ExchangeResult[][] = await Promise.all(
      running.map(async (m, i) => {
        const p0 = await m.transport.exchange({ round: 0, phase: 0, payload: payloadOf(i, 0, 0, 300), sendTo: others(i), expectFrom: others(i), deadlineMs: 8000 });
        const perPeer = new Map(others(i).map((to) => [to, payloadOf(i * 10 + ids.indexOf(to), 0, 1, 2000)]));
        const p1 = await m.transport.exchange({ round: 0, phase: 1, payload: perPeer, sendTo: others(i), expectFrom: others(i), deadlineMs: 8000 });
        return [p0, p1];
      }),
    );
    results.forEach(([p0, p1], i) => {
      const senders = others(i).sort();
      expect(p0.missing).toEqual([]);
      expect(p0.received.map((e) => e.from)).toEqual(senders);
      for (const e of p0.received) expect(e.bytes).toEqual(payloadOf(ids.indexOf(e.from), 0, 0, 300));
      expect(p1.missing).toEqual([]);
      for (const e of p1.received) expect(e.bytes).toEqual(payloadOf(ids.indexOf(e.from) * 10 + i, 0, 1, 2000));
    });
  });

  it('reports a silent peer missing at the deadline', async () => {
    running = await startCluster(3);
    await Promise.all(running.map((m) => m.transport.waitForMembers(3, 8000)));
    const [a, b, silent] = running;
    const peers = [a, b, silent].map((m) => m.node.peerId);
    const t0 = Date.now();
    const [ra, rb] = await Promise.all(
      [a, b].map((m, i) =>
        m.transport.exchange({ round: 0, phase: 0, payload: payloadOf(i, 0, 0, 64), sendTo: peers.filter((p) => p !== m.node.peerId), expectFrom: peers.filter((p) => p !== m.node.peerId), deadlineMs: 700 }),
      ),
    );
    const waited = Date.now() - t0;
    expect(ra.missing).toEqual([silent.node.peerId]);
    expect(rb.missing).toEqual([silent.node.peerId]);
    expect(ra.received.map((e) => e.from)).toEqual([b.node.peerId]);
    expect(waited).toBeGreaterThanOrEqual(650);
    expect(waited).toBeLessThan(3000);
  });

  it('a validate hook that rejects: nothing delivered, a log line, both on gossipsub and on the stream', async () => {
    // Refusals of one kind are logged once per interval: a short one, so each round's refusal is a line.
    running = await startCluster(2, (i) => (i === 1 ? { transport: { validate: () => ({ ok: false, reason: 'tensor 0 has NaN' }), refusalLogIntervalMs: 1 } } : {}));
    await Promise.all(running.map((m) => m.transport.waitForMembers(2, 8000)));
    const [a, b] = running;
    for (const [round, size] of [[0, 100], [1, 2 * 1024 * 1024]] as const) {
      const [, rb] = await Promise.all([
        a.transport.exchange({ round, phase: 0, payload: new Uint8Array(size), sendTo: [b.node.peerId], expectFrom: [], deadlineMs: 3000 }),
        b.transport.exchange({ round, phase: 0, payload: new Uint8Array(0), sendTo: [], expectFrom: [a.node.peerId], deadlineMs: 600 }),
      ]);
      expect(rb).toEqual({ received: [], missing: [a.node.peerId] });
      expect(b.logs).toContain(`update from ${a.node.peerId} (round ${round} phase 0) rejected: tensor 0 has NaN`);
    }
    // The sender learns of the stream rejection through the ack.
    expect(a.logs).toContain(`update for round 1 phase 0 to ${b.node.peerId} rejected by the receiver: tensor 0 has NaN`);
  });

  it('refuses a peer with a different config hash, with one clear log line', async () => {
    running = await startCluster(2, (i) => (i === 1 ? { transport: { identity: { runId: 'test-run', modelFingerprint: 'fp-1', configHash: 'cfg-OTHER' } } } : {}));
    const [a, b] = running;
    const err = await a.transport.waitForMembers(2, 1500).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`refused ${b.node.peerId}: config hash cfg-OTHER differs from ours cfg-1`);
    const refusals = a.logs.filter((l) => l.startsWith(`refused peer ${b.node.peerId}`));
    expect(refusals).toEqual([`refused peer ${b.node.peerId}: config hash cfg-OTHER differs from ours cfg-1 (start every peer with the same config file)`]);
    expect(a.transport.members()).toEqual([a.node.peerId]);
  });

  it('a peer with another model names the fingerprint mismatch as the cause, not the PSK or the bootstrap address', async () => {
    running = await startCluster(2, (i) => (i === 1 ? { transport: { identity: { runId: 'test-run', modelFingerprint: 'fp-OTHER', configHash: 'cfg-1' } } } : {}));
    const [a, b] = running;
    const waited = b.transport.waitForMembers(2, 6000).catch((e: unknown) => e as Error);
    // By the time the wait ends the refused peer's connection is often gone (nobody needs it).
    await until(() => b.transport.members().length === 1 && b.logs.some((l) => l.startsWith(`refused peer ${a.node.peerId}`)), 5000, 'the refusal');
    await b.node.libp2p.hangUp(a.node.libp2p.peerId);
    const err = await waited;
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`refused ${a.node.peerId}: model fingerprint fp-1 differs from ours fp-OTHER (start every peer with the same model)`);
    expect(message).not.toMatch(/PSK files|bootstrap peers not connected|no other peer found/);
  });

  it('buffers an update for a later round and drops one for a finished round as stale', async () => {
    running = await startCluster(2);
    await Promise.all(running.map((m) => m.transport.waitForMembers(2, 8000)));
    const [a, b] = running;
    const ida = a.node.peerId;
    const idb = b.node.peerId;
    // A runs ahead: its round-1 update reaches B while B is still in round 0.
    const [, b0] = await Promise.all([
      a.transport.exchange({ round: 1, phase: 0, payload: payloadOf(0, 1, 0, 64), sendTo: [idb], expectFrom: [], deadlineMs: 2000 }),
      b.transport.exchange({ round: 0, phase: 0, payload: new Uint8Array(1), sendTo: [], expectFrom: [ida], deadlineMs: 500 }),
    ]);
    expect(b0).toEqual({ received: [], missing: [ida] });
    const t0 = Date.now();
    const b1 = await b.transport.exchange({ round: 1, phase: 0, payload: new Uint8Array(1), sendTo: [], expectFrom: [ida], deadlineMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(200);
    expect(b1.received).toEqual([{ from: ida, round: 1, phase: 0, bytes: payloadOf(0, 1, 0, 64) }]);
    // A round-0 update now is stale at B: the ack says ignored, and nothing reaches a later exchange.
    const ack = await sendUpdate(a.node.libp2p, b.node.libp2p.peerId, { kind: 'update', runId: IDENTITY.runId, round: 0, phase: 0, to: [], payload: new Uint8Array(8) }, { maxFrameBytes: 4096 });
    expect(ack).toEqual({ kind: 'ack', status: 'ignored', reason: 'stale' });
    const later = await b.transport.exchange({ round: 2, phase: 0, payload: new Uint8Array(1), sendTo: [], expectFrom: [ida], deadlineMs: 300 });
    expect(later).toEqual({ received: [], missing: [ida] });
  });

  it('a peer that closes its transport leaves the member set at the next round', async () => {
    running = await startCluster(3);
    await Promise.all(running.map((m) => m.transport.waitForMembers(3, 8000)));
    const [a, b, c] = running;
    await c.transport.close();
    await until(() => a.logs.some((l) => l.startsWith(`member ${c.node.peerId} leaves`)), 3000, 'the leave message');
    expect(a.transport.beginRound(0)).toEqual([a.node.peerId, b.node.peerId].sort());
  });
});
