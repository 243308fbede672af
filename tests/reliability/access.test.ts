// Access: with a pre-shared key, a node without the key cannot connect; gossip messages with a
// bad signature never reach the run, and messages from a sender that is not a member are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { RPC } from '@libp2p/gossipsub/message';
import { createGossipflNode } from '../../src/node/create-node.js';
import { loadOrCreatePrivateKey, writeNewPskFile } from '../../src/node/keys.js';
import { codecValidator } from '../../src/node/validate-update.js';
import { concatBytes, encodeMessage } from '../../src/node/wire.js';
import type { InboundVerdict } from '../../src/node/transport.js';
import { buildCodec } from '../../src/peer/codec.js';
import { IDENTITY, startCluster, stopAll, until } from '../node/cluster.js';
import { LAYOUT, seededModel } from './live-pair.js';

const dir = mkdtempSync(join(tmpdir(), 'gossipfl-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SIGN_PREFIX = new TextEncoder().encode('libp2p-pubsub:');

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** A gossipsub message on `topic` from `signer`'s peer id, signed by it — or carrying `badSignature` instead. */
async function gossipMessage(signer: PrivateKey, topic: string, data: Uint8Array, seqno: number, badSignature?: Uint8Array): Promise<RPC.Message> {
  const seq = new Uint8Array(8);
  new DataView(seq.buffer).setBigUint64(0, BigInt(seqno));
  const msg: RPC.Message = { from: peerIdFromPrivateKey(signer).toMultihash().bytes, data, seqno: seq, topic };
  const signature = badSignature ?? (await signer.sign(concatBytes([SIGN_PREFIX, RPC.Message.encode(msg)])));
  return { ...msg, signature };
}

describe('access control on a live run', () => {
  it('without the pre-shared key a node cannot connect; bad signatures are dropped before the run sees them; non-members are refused', async () => {
    const psk = join(dir, 'swarm.key');
    writeNewPskFile(psk);
    const memberKeyFile = join(dir, 'member.key');
    const verdicts: InboundVerdict[] = [];
    const running = await startCluster(2, (i) => ({
      node: { pskFile: psk, ...(i === 1 ? { keyFile: memberKeyFile } : {}) },
      transport: i === 0 ? { validate: codecValidator(LAYOUT), onVerdict: (v) => verdicts.push(v) } : {},
    }));
    const outsider = await createGossipflNode({});
    try {
      const [victim, member] = running;
      await Promise.all(running.map((m) => m.transport.waitForMembers(2, 10_000)));

      // 1. No key: the connection itself fails, so the outsider can never announce or send.
      await expect(outsider.libp2p.dial(victim.node.libp2p.getMultiaddrs()[0], { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      expect(victim.node.libp2p.getConnections(outsider.libp2p.peerId)).toHaveLength(0);

      // 2. Raw gossipsub RPCs written by the member (who holds the key), bypassing its own gossipsub.
      const memberKey = await loadOrCreatePrivateKey(memberKeyFile);
      const stranger = await generateKeyPair('Ed25519');
      const codec = buildCodec({ method: 'identity' }, LAYOUT, 1);
      const ids = [victim.node.peerId, member.node.peerId].sort();
      const update = (round: number) =>
        encodeMessage({ kind: 'update', runId: IDENTITY.runId, round, phase: 0, to: [victim.node.peerId], payload: codec.model.encode(seededModel(round), { round, phase: 0, sender: ids.indexOf(member.node.peerId) }) });
      const topic = victim.transport.topic;
      const forged = [
        // the member's id with 64 random bytes for a signature
        await gossipMessage(memberKey, topic, update(1), 1, Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)),
        // the member's message, its signature from another key
        { ...(await gossipMessage(memberKey, topic, update(2), 2)), signature: (await gossipMessage(stranger, topic, update(2), 2)).signature },
        // validly signed by a peer that never announced itself: an unknown sender
        await gossipMessage(stranger, topic, update(3), 3),
        // control: validly signed by the member — this one must get through
        await gossipMessage(memberKey, topic, update(4), 4),
      ];
      const stream = await member.node.libp2p.dialProtocol(victim.node.libp2p.peerId, '/meshsub/1.1.0');
      for (const m of forged) {
        const rpc = RPC.encode({ subscriptions: [], messages: [m] });
        stream.send(concatBytes([varint(rpc.byteLength), rpc]));
      }
      const strangerId = peerIdFromPrivateKey(stranger).toString();
      await until(() => verdicts.some((v) => v.from === member.node.peerId && v.kind === 'update'), 5000, 'the control message');
      await until(() => verdicts.some((v) => v.from === strangerId), 5000, 'the stranger verdict');
      await new Promise((r) => setTimeout(r, 300));
      const updates = verdicts.filter((v) => v.kind === 'update');
      // Only the control (round 4) and the stranger's message reached the run's checks; both forged signatures were dropped by gossipsub.
      expect(updates).toEqual([
        { via: 'gossip', from: strangerId, kind: 'update', result: 'ignore', reason: 'not a member' },
        { via: 'gossip', from: member.node.peerId, kind: 'update', result: 'accept', reason: '' },
      ]);
      expect(victim.logs).toContain(`update from ${strangerId} (round 3 phase 0) ignored: not a member of the run (it has not announced itself)`);
      expect(victim.transport.members()).toEqual(ids);
      stream.abort(new Error('done'));
    } finally {
      await outsider.stop();
      await stopAll(running);
    }
  });
});
