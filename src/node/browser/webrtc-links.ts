// Direct WebRTC connections between tabs. A tab listens for WebRTC through its relay
// reservation (…/p2p/<relay>/p2p-circuit/webrtc); another tab dials that address: the two send
// the SDP offer, answer and ICE candidates over a relayed connection (noise and the PSK, end to
// end), and the browsers then connect directly (DTLS, whose certificate fingerprints rode that
// authenticated signalling, so the direct connection belongs to the peer id that signalled).
// A tab dials another tab through the relay first (relayFirst: that works wherever the relay
// does, within a dial's time), and this module then tries WebRTC beside it. Once the direct
// connection is up libp2p opens new streams on it; this module moves gossipsub's stream over too
// and closes the relayed connection, so nothing between the two tabs rides the relay. Where
// WebRTC cannot connect the relayed connection stays, says so, and WebRTC is tried again later.
import type { Connection, IdentifyResult, PeerId as Libp2pPeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { errorMessage, UPDATE_PROTOCOL } from '../direct.js';
import type { GossipflLibp2p } from '../create-node.js';

/** How a connection reaches its peer. */
export type LinkKind = 'webrtc' | 'relay' | 'websocket' | 'tcp' | 'other';

/** One open connection of a node, as a tab reports it. */
export interface Link {
  /** The remote peer id. */
  readonly peer: string;
  /** The connection's remote address. */
  readonly addr: string;
  readonly kind: LinkKind;
  /** The protocols of its open streams (gossipsub's `/meshsub/…` once the peers gossip over it). */
  readonly streams: readonly string[];
}

/** The kind of a connection from its remote address: a WebRTC address keeps its relay part (`…/p2p-circuit/webrtc/p2p/<peer>`) on the dialling side. */
export function linkKind(addr: string): LinkKind {
  const parts = addr.split('/');
  if (parts.includes('webrtc')) return 'webrtc';
  if (parts.includes('p2p-circuit')) return 'relay';
  if (parts.includes('ws') || parts.includes('wss')) return 'websocket';
  if (parts.includes('tcp')) return 'tcp';
  return 'other';
}

/** The node's open connections (one being closed does not count). */
export function linksOf(libp2p: GossipflLibp2p): Link[] {
  return libp2p
    .getConnections()
    .filter((c) => c.status === 'open')
    .map((c) => ({
      peer: c.remotePeer.toString(),
      addr: c.remoteAddr.toString(),
      kind: linkKind(c.remoteAddr.toString()),
      streams: c.streams.flatMap((st) => (st.protocol ? [st.protocol] : [])),
    }));
}

/** Timings of the WebRTC upkeep (ms). */
export interface WebRtcTimings {
  /** After a relayed connection to a tab is identified, or a direct one closed: the wait before trying WebRTC (a direct connection the other side dials meanwhile makes it unneeded). */
  readonly settleMs: number;
  /** After a failed WebRTC dial: when to try again while the peers stay connected through the relay. */
  readonly retryMs: number;
  /** After the relayed connection is closed: when to move gossipsub's stream to the direct one (the close must have reached gossipsub first). */
  readonly reattachMs: number;
}

const DEFAULT_TIMINGS: WebRtcTimings = { settleMs: 500, retryMs: 30_000, reattachMs: 1_000 };

/** Keeps direct WebRTC connections to the tabs a node is connected to. */
export class WebRtcLinks {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly dialing = new Set<string>();
  private readonly failed = new Set<string>();
  private readonly reported = new Set<string>();
  /** Direct connections being identified again by this module (their identify must not start another move). */
  private readonly reattaching = new Set<string>();
  private readonly t: WebRtcTimings;
  private stopped = false;

  constructor(
    private readonly libp2p: GossipflLibp2p,
    private readonly log: (line: string) => void,
    timings: Partial<WebRtcTimings> = {},
  ) {
    this.t = { ...DEFAULT_TIMINGS, ...timings };
    libp2p.addEventListener('peer:identify', this.onIdentify);
    libp2p.addEventListener('connection:open', this.onOpen);
    libp2p.addEventListener('connection:close', this.onClose);
  }

  stop(): void {
    this.stopped = true;
    this.libp2p.removeEventListener('peer:identify', this.onIdentify);
    this.libp2p.removeEventListener('connection:open', this.onOpen);
    this.libp2p.removeEventListener('connection:close', this.onClose);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { connection, peerId, listenAddrs } = evt.detail;
    const kind = linkKind(connection.remoteAddr.toString());
    if (kind === 'webrtc') {
      if (!this.reattaching.delete(connection.id)) this.retireRelayed(peerId, connection);
      return;
    }
    // The side that dialled the relayed connection tries WebRTC (one side, so the two do not race).
    if (kind !== 'relay' || connection.direction !== 'outbound') return;
    const addrs = webRtcAddrsOf(peerId, listenAddrs);
    if (addrs.length) this.later(this.t.settleMs, () => this.tryWebRtc(peerId, addrs));
  };

  private readonly onOpen = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail;
    if (linkKind(conn.remoteAddr.toString()) !== 'webrtc') return;
    const id = conn.remotePeer.toString();
    const again = this.failed.delete(id) ? ' (after an attempt that failed)' : '';
    if (!this.reported.has(id)) this.log(`direct WebRTC connection to ${id}${again}: its traffic no longer goes through the relay`);
    this.reported.add(id);
  };

  private readonly onClose = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail;
    if (linkKind(conn.remoteAddr.toString()) !== 'webrtc' || this.stopped) return;
    // A direct connection that dropped while the peers still reach each other through the relay: WebRTC again.
    const peer = conn.remotePeer;
    this.later(this.t.settleMs, () => {
      if (this.direct(peer) || !this.relayed(peer).some((c) => c.direction === 'outbound')) return;
      void this.libp2p.peerStore.get(peer).then(
        (p) => this.tryWebRtc(peer, webRtcAddrsOf(peer, p.addresses.map((a) => a.multiaddr))),
        () => undefined,
      );
    });
  };

  /** Dials `peer` over WebRTC if it is still reached through the relay only; on failure the relay carries on, and WebRTC is tried again later. */
  private tryWebRtc(peer: Libp2pPeerId, addrs: readonly Multiaddr[]): void {
    const id = peer.toString();
    if (this.stopped || !addrs.length || this.dialing.has(id) || this.direct(peer) || !this.relayed(peer).length) return;
    this.dialing.add(id);
    this.libp2p
      .dial([...addrs])
      .then((conn) => {
        if (linkKind(conn.remoteAddr.toString()) !== 'webrtc') throw new Error(`libp2p answered with the connection at ${conn.remoteAddr.toString()}`);
      })
      .catch((err: unknown) => {
        this.failed.add(id);
        const timedOut = err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
        const why = timedOut ? 'no ICE candidate pair connected within the dial timeout' : errorMessage(err);
        this.log(`WebRTC to ${id} failed (${why}): its traffic goes through the relay; trying WebRTC again in ${Math.round(this.t.retryMs / 1000)} s`);
        this.later(this.t.retryMs, () => this.tryWebRtc(peer, addrs));
      })
      .finally(() => this.dialing.delete(id));
  }

  /**
   * Once the direct connection is identified: closes the relayed connections to the same peer
   * (it carried the signalling, and gossipsub opened its stream on it first) when no update is
   * in flight on them, then identifies the direct one again, which gives gossipsub its stream there.
   */
  private retireRelayed(peer: Libp2pPeerId, direct: Connection): void {
    if (this.stopped || direct.status !== 'open') return;
    const relayed = this.relayed(peer);
    if (!relayed.length) return;
    if (relayed.some((c) => c.streams.some((s) => s.protocol === UPDATE_PROTOCOL))) {
      this.later(this.t.reattachMs, () => this.retireRelayed(peer, direct));
      return;
    }
    void Promise.allSettled(relayed.map((c) => c.close())).then(() =>
      this.later(this.t.reattachMs, () => {
        if (this.stopped || direct.status !== 'open') return;
        this.reattaching.add(direct.id);
        this.libp2p.services.identify.identify(direct).catch((err: unknown) => {
          this.reattaching.delete(direct.id);
          this.log(`WebRTC to ${peer.toString()}: identify on the direct connection failed (${errorMessage(err)})`);
        });
      }),
    );
  }

  private direct(peer: Libp2pPeerId): boolean {
    return this.libp2p.getConnections(peer).some((c) => c.status === 'open' && linkKind(c.remoteAddr.toString()) === 'webrtc');
  }

  private relayed(peer: Libp2pPeerId): Connection[] {
    return this.libp2p.getConnections(peer).filter((c) => c.status === 'open' && linkKind(c.remoteAddr.toString()) === 'relay');
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/**
 * libp2p's address order for a tab's dials: a tab's relayed address before its WebRTC one. libp2p
 * tries WebRTC first by default, and a WebRTC dial that cannot connect (no ICE candidate pair)
 * takes the whole per-address timeout, which can leave too little of the dial for the relay; the
 * relayed connection comes first, and WebRtcLinks adds the direct one beside it.
 */
export function relayFirst(a: { readonly multiaddr: Multiaddr }, b: { readonly multiaddr: Multiaddr }): -1 | 0 | 1 {
  const webrtc = (x: { readonly multiaddr: Multiaddr }): boolean => linkKind(x.multiaddr.toString()) === 'webrtc';
  return webrtc(a) === webrtc(b) ? 0 : webrtc(a) ? 1 : -1;
}

/** A peer's WebRTC listen addresses, each ending in its own /p2p/<id> (the last /p2p of a relayed address names the peer WebRTC dials). */
function webRtcAddrsOf(peer: Libp2pPeerId, addrs: readonly Multiaddr[]): Multiaddr[] {
  const id = peer.toString();
  return addrs
    .map((a) => a.toString())
    .filter((a) => linkKind(a) === 'webrtc')
    .map((a) => multiaddr(a.endsWith(`/p2p/${id}`) ? a : `${a}/p2p/${id}`));
}
