// Who this peer keeps connections to. Members connect directly (updates go over direct
// streams); of each pair only the smaller peer id dials, so two peers hearing each other at once
// make one connection, not two; the other keeps the addresses for dialling on demand.
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId as Libp2pPeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '../peer/transport.js';
import { errorMessage } from './direct.js';
import { compareIds, peerOfAddr } from './membership.js';
import type { TransportCore } from './transport-options.js';

/** Dials and redials the members of one transport. */
export class Dialer {
  constructor(private readonly core: TransportCore) {}

  /** A newly accepted member: keep its addresses, and dial it if this peer is the smaller id of the pair. */
  connectTo(peer: string, addrs: readonly string[]): void {
    const { libp2p } = this.core.node;
    const id = peerIdFromString(peer);
    if (libp2p.getConnections(id).length > 0) return;
    const mas = multiaddrsOf(addrs);
    if (!mas.length) return;
    void libp2p.peerStore.merge(id, { multiaddrs: mas }).catch(() => undefined);
    if (compareIds(this.core.self, peer) > 0) return;
    libp2p.dial(mas).catch((err: unknown) => this.core.logOnce(`dial:${peer}`, `cannot dial member ${peer}: ${errorMessage(err)}`));
  }

  /** Peer exchange: dials members another member knows and we have not heard from yet. */
  dialUnknownPeers(addrs: readonly string[]): void {
    const { libp2p } = this.core.node;
    const { membership, self } = this.core;
    for (const a of addrs) {
      const id = peerOfAddr(a);
      if (!id || id === self || membership.isAccepted(id) || membership.refusal(id) !== undefined) continue;
      let ma;
      try {
        ma = multiaddr(a);
        if (libp2p.getConnections(peerIdFromString(id)).length > 0) continue;
      } catch {
        continue;
      }
      libp2p.dial(ma).catch(() => undefined); // best effort: its own announcement will reach us through gossip anyway
    }
  }

  /** Members we have no connection to (it dropped while one side was stopped, or a dial failed): dial them again. */
  redialMembers(): void {
    const { libp2p } = this.core.node;
    for (const id of this.core.membership.members()) {
      if (id === this.core.self) continue;
      const peer = parsePeer(id);
      const addrs = this.core.membership.addrsOf(id);
      if (!peer || !addrs.length || libp2p.getConnections(peer).length > 0) continue;
      const mas = multiaddrsOf(addrs);
      if (mas.length) libp2p.dial(mas).catch(() => undefined); // silence handles members that stay unreachable
    }
  }

  /** Before a direct send: the member's announced addresses are in the peer store, so the send can dial it. */
  async ensureConnected(to: PeerId, _signal: AbortSignal): Promise<void> {
    const { libp2p } = this.core.node;
    const peer = parsePeer(to);
    if (!peer || libp2p.getConnections(peer).length > 0) return;
    const mas = multiaddrsOf(this.core.membership.addrsOf(to));
    if (mas.length) await libp2p.peerStore.merge(peer, { multiaddrs: mas }).catch(() => undefined);
  }
}

function parsePeer(id: string): Libp2pPeerId | undefined {
  try {
    return peerIdFromString(id);
  } catch {
    return undefined;
  }
}

/** The addresses that parse as multiaddrs (announcements come from the network). */
export function multiaddrsOf(addrs: readonly string[]): Multiaddr[] {
  return addrs.flatMap((a) => {
    try {
      return [multiaddr(a)];
    } catch {
      return [];
    }
  });
}
