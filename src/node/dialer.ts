// Which peers this peer keeps connections to. Not every member: the topology's neighbours of
// the current and the next round (so a rotating topology's next neighbours are dialled ahead),
// its two neighbours in sorted member order (a ring that keeps the gossip overlay connected
// whatever the topology, so announcements relayed over the run topic reach everyone), and peers
// an exchange used within the grace period. Everything else is closed once it has been idle
// for the grace period (never while an exchange with it runs or an update is in flight on it);
// a member this peer must reach without a connection is dialled on
// demand within the exchange's deadline. Of a pair that both want each other, the smaller peer
// id dials first; the other dials only if no connection came.
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId as Libp2pPeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '../peer/transport.js';
import { errorMessage, UPDATE_PROTOCOL } from './direct.js';
import { compareIds, JOIN_MARGIN } from './membership.js';
import type { TransportCore } from './transport-options.js';

/** The topology's neighbours (in and out) of this peer in `round`, given that round's member order (sorted ids, self included). */
export type NeighboursOf = (round: number, members: readonly PeerId[]) => readonly PeerId[];

/** Connection counts of one peer: now, and over the round boundaries seen. */
export interface ConnectionStats {
  /** Peers connected now. */
  readonly now: number;
  /** Peers this peer wants a connection to now (topology neighbours and member-ring neighbours). */
  readonly wanted: number;
  /** Mean and largest number of connected peers at the round boundaries (0 before the first). */
  readonly meanAtRounds: number;
  readonly maxAtRounds: number;
  /** Largest number of connected peers ever seen (start-up included: a bootstrap peer is everyone's first contact). */
  readonly maxSeen: number;
  /** Dials made on demand, for an exchange with a peer that had no connection. */
  readonly dialsOnDemand: number;
  /** Connections closed because they were no longer needed. */
  readonly closed: number;
}

/** Why a peer is wanted. */
type Reason = 'topology' | 'ring';

/** Keeps one transport's connections to the peers it needs. */
export class Dialer {
  /** Per peer: when it was last used by an exchange (ms). */
  private readonly lastUsed = new Map<PeerId, number>();
  /** Per wanted peer without a connection: since when (ms), for the larger id's fallback dial. */
  private readonly waitingSince = new Map<PeerId, number>();
  private readonly dialing = new Set<PeerId>();
  /** Peers of exchanges now running (how many each). */
  private readonly holds = new Map<PeerId, number>();
  private rounds = 0;
  private sumAtRounds = 0;
  private maxAtRounds = 0;
  private maxSeen = 0;
  private dialsOnDemand = 0;
  private closedCount = 0;

  constructor(
    private readonly core: TransportCore,
    private readonly neighboursOf: NeighboursOf | undefined,
    /** An unneeded connection is closed after this long without use (ms). */
    private readonly graceMs: number,
  ) {}

  /** Marks peers as used by an exchange now (their connections are kept for the grace period). */
  used(peers: Iterable<PeerId>): void {
    const now = this.core.now();
    for (const p of peers) if (p !== this.core.self) this.lastUsed.set(p, now);
  }

  /** Keeps the connections to `peers` while an exchange with them runs; the returned function ends the hold (and starts their grace period). */
  hold(peers: readonly PeerId[]): () => void {
    for (const p of peers) this.holds.set(p, (this.holds.get(p) ?? 0) + 1);
    this.used(peers);
    return () => {
      for (const p of peers) {
        const n = (this.holds.get(p) ?? 1) - 1;
        if (n > 0) this.holds.set(p, n);
        else this.holds.delete(p);
      }
      this.used(peers);
    };
  }

  /** The peers wanted now and why: topology neighbours of the active and the next round, and the member ring. */
  wanted(): Map<PeerId, Reason> {
    const { membership, self } = this.core;
    const active = Math.max(membership.activeRound, 0);
    const want = new Map<PeerId, Reason>();
    // Everyone current or joining soon: a peer accepted now joins JOIN_MARGIN rounds on.
    const known = new Set<PeerId>(membership.members());
    for (let r = active; r <= active + JOIN_MARGIN; r++) for (const id of membership.setOf(r)) known.add(id);
    const ring = [...known].sort(compareIds);
    const at = ring.indexOf(self);
    if (at >= 0 && ring.length > 1) {
      want.set(ring[(at + 1) % ring.length], 'ring');
      want.set(ring[(at - 1 + ring.length) % ring.length], 'ring');
    }
    if (this.neighboursOf) {
      for (const r of [active, active + 1]) {
        const members = r === membership.activeRound ? membership.members() : membership.setOf(r);
        if (!members.includes(self)) continue;
        for (const id of this.neighboursOf(r, members)) if (id !== self) want.set(id, 'topology');
      }
    }
    want.delete(self);
    return want;
  }

  /**
   * Dials wanted peers without a connection and closes connections to members that are neither
   * wanted nor used within the grace period. Before the first round nothing is closed: the start
   * set is still forming through whoever each peer reached first.
   */
  maintain(): void {
    const { libp2p } = this.core.node;
    const now = this.core.now();
    const want = this.wanted();
    for (const id of [...this.waitingSince.keys()]) if (!want.has(id)) this.waitingSince.delete(id);
    for (const id of want.keys()) {
      const peer = parsePeer(id);
      if (!peer || libp2p.getConnections(peer).length > 0) {
        this.waitingSince.delete(id);
        continue;
      }
      const since = this.waitingSince.get(id);
      if (since === undefined) this.waitingSince.set(id, now);
      // The smaller id dials at once; the larger one only when no connection came meanwhile.
      const first = compareIds(this.core.self, id) < 0;
      if (first || (since !== undefined && now - since >= this.core.o.announceIntervalMs)) this.dial(id);
    }
    if (this.core.membership.activeRound >= 0) this.closeUnneeded(want, now);
    this.maxSeen = Math.max(this.maxSeen, this.connectedPeers());
  }

  /** At a round boundary: dials the next round's neighbours ahead, closes what is idle, then counts the connections kept. */
  atRound(round: number): void {
    this.maintain();
    const n = this.connectedPeers();
    this.rounds++;
    this.sumAtRounds += n;
    this.maxAtRounds = Math.max(this.maxAtRounds, n);
    this.core.log(`round ${round + 1}: connected to ${n} peers (${this.wanted().size} wanted: topology and member-ring neighbours)`);
  }

  /** Before a direct send: dials `to` if there is no connection, within the send's deadline. */
  async ensureConnected(to: PeerId, signal: AbortSignal): Promise<void> {
    const { libp2p } = this.core.node;
    this.used([to]);
    const peer = parsePeer(to);
    if (!peer || libp2p.getConnections(peer).length > 0) return;
    const mas = multiaddrsOf(this.core.membership.addrsOf(to));
    if (!mas.length) return; // the send dials through the peer store, or fails naming the peer
    this.dialsOnDemand++;
    await libp2p.dial(mas, { signal });
  }

  stats(): ConnectionStats {
    return {
      now: this.connectedPeers(),
      wanted: this.wanted().size,
      meanAtRounds: this.rounds ? this.sumAtRounds / this.rounds : 0,
      maxAtRounds: this.maxAtRounds,
      maxSeen: Math.max(this.maxSeen, this.connectedPeers()),
      dialsOnDemand: this.dialsOnDemand,
      closed: this.closedCount,
    };
  }

  /** Peers with an open connection (one being closed does not count). */
  private connectedPeers(): number {
    const open = new Set<string>();
    for (const c of this.core.node.libp2p.getConnections()) if (c.status === 'open') open.add(c.remotePeer.toString());
    return open.size;
  }

  private dial(id: PeerId): void {
    if (this.dialing.has(id)) return;
    const mas = multiaddrsOf(this.core.membership.addrsOf(id));
    if (!mas.length) return;
    this.dialing.add(id);
    this.core.node.libp2p
      .dial(mas)
      .catch((err: unknown) => this.core.logOnce(`dial:${id}`, `cannot dial member ${id}: ${errorMessage(err)}`))
      .finally(() => this.dialing.delete(id));
  }

  /** Closes connections to members not wanted and idle for the grace period; other peers (joiners, bootstrap contacts not yet members) are left alone. */
  private closeUnneeded(want: ReadonlyMap<PeerId, Reason>, now: number): void {
    const { libp2p } = this.core.node;
    const { membership } = this.core;
    for (const conn of libp2p.getConnections()) {
      const id = conn.remotePeer.toString();
      if (want.has(id) || this.holds.has(id) || !membership.isAccepted(id) || membership.joinsLater(id) || this.carriesRelay(conn.remotePeer)) continue;
      if (now - (this.lastUsed.get(id) ?? 0) < this.graceMs || now - conn.timeline.open < this.graceMs) continue;
      // An update in flight on it is never cut.
      if (conn.streams.some((st) => st.protocol === UPDATE_PROTOCOL)) continue;
      this.closedCount++;
      void conn.close().catch(() => undefined);
    }
  }

  /** Whether a circuit relay rides on our connection to `peer` (it relays for us, or we for it): closing it would cut a browser peer off. */
  private carriesRelay(peer: Libp2pPeerId): boolean {
    const { libp2p } = this.core.node;
    const id = peer.toString();
    if (libp2p.getMultiaddrs().some((a) => a.toString().includes(`/p2p/${id}/p2p-circuit`))) return true;
    const relay = (libp2p.services as { relay?: { reservations: { has(p: Libp2pPeerId): boolean } } }).relay;
    return relay?.reservations.has(peer) ?? false;
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
