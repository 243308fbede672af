// Which peers this peer keeps connections to. Not every member: the topology's neighbours of
// the current and the next round (so a rotating topology's next neighbours are dialled ahead),
// its two neighbours in sorted member order plus a chord or two across (a small world that keeps
// the gossip overlay connected whatever the topology, so announcements relayed over the run
// topic reach everyone within a few hops), and peers
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
import { compareIds, JOIN_MARGIN, peerOfAddr } from './membership.js';
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
      // The chords: this peer's own, and those of members whose chord lands here.
      const mine = chordOf(self, ring);
      if (mine) want.set(mine, 'ring');
      for (const id of ring) if (id !== self && chordOf(id, ring) === self) want.set(id, 'ring');
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
    this.retryBootstrap();
    this.closeOffTopic(now);
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

  /**
   * A node that knows no other member, or has no connection left, dials its bootstrap peers
   * again: the first dial at start can fail (the bootstrap peer still starting, or too busy to
   * finish the handshake in time), and nothing else would bring the node into the run.
   */
  private retryBootstrap(): void {
    const { libp2p, options } = this.core.node;
    if (!options.bootstrap.length || (this.core.membership.members().length > 1 && this.connectedPeers() > 0)) return;
    for (const addr of options.bootstrap) {
      const id = peerOfAddr(addr);
      if (!id || this.dialing.has(id)) continue;
      const peer = parsePeer(id);
      if (!peer || libp2p.getConnections(peer).length > 0) continue;
      this.dialing.add(id);
      libp2p
        .dial(multiaddr(addr))
        .catch((err: unknown) => this.core.logOnce(`bootstrap:${addr}`, `cannot reach bootstrap peer ${addr} yet (${errorMessage(err)}); retrying`))
        .finally(() => this.dialing.delete(id));
    }
  }

  /**
   * A node that still knows no other member closes connections to its bootstrap peers that
   * have been open for ten announce intervals without the peer appearing on the run topic:
   * gossipsub opens its stream once per connection, and when that fails (a process starved for
   * seconds while 32 started at once) it never retries, leaving a connection that carries
   * nothing (one such peer waited out the whole start timeout). The next upkeep dials afresh.
   */
  private closeOffTopic(now: number): void {
    const { libp2p, options } = this.core.node;
    if (this.core.membership.members().length > 1) return;
    const bootstrap = new Set(options.bootstrap.flatMap((a) => peerOfAddr(a) ?? []));
    const onTopic = new Set(libp2p.services.pubsub.getSubscribers(this.core.topic).map((p) => p.toString()));
    for (const conn of libp2p.getConnections()) {
      const id = conn.remotePeer.toString();
      if (conn.status !== 'open' || onTopic.has(id) || !bootstrap.has(id)) continue;
      if (now - conn.timeline.open < 10 * this.core.o.announceIntervalMs) continue;
      this.core.logOnce(`off-topic:${id}`, `connection to ${id} carries no run topic after ${Math.round((now - conn.timeline.open) / 1000)} s: reconnecting`);
      void conn.close().catch(() => undefined);
    }
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

/**
 * A member's chord across the member ring: the member a hash of its id places 2 to n-2
 * positions on. A ring alone is n/2 hops across, too far for announcements to cross before a
 * member counts as silent on a busy machine; one chord per member (about two per peer, counting
 * those that land on it) makes it a small world of about log2(n) hops. Every peer computes
 * every chord the same way, so both ends want the connection.
 */
export function chordOf(id: PeerId, ring: readonly PeerId[]): PeerId | undefined {
  const n = ring.length;
  const at = ring.indexOf(id);
  if (n < 5 || at < 0) return undefined;
  return ring[(at + 2 + (fnv1a(id) % (n - 3))) % n];
}

/** FNV-1a, 32 bits, of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
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
