// The one place that composes a gossipfl libp2p node: transports, encryption, muxer,
// discovery, the optional private network and gossipsub tuned for many peers on one host.
import '../util/polyfills.js';
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p';
import { noise } from '@libp2p/noise';
import { tls } from '@libp2p/tls';
import { yamux } from '@libp2p/yamux';
import { identify, type Identify } from '@libp2p/identify';
import { bootstrap } from '@libp2p/bootstrap';
import { mdns } from '@libp2p/mdns';
import { preSharedKey } from '@libp2p/pnet';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { sharedGossipsubOptions } from './gossipsub-options.js';
import type { PrivateKey } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { GossipflError } from '../util/errors.js';
import { loadOrCreatePrivateKey, readPskFile } from './keys.js';
import { resolveNodeOptions, type NodeOptions, type ResolvedNodeOptions } from './options.js';
import { isWebSocketAddr, loadTransports, transportsFor, type LoadedTransports } from './transports.js';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';

export { loadQuicTransport, type QuicTransportFactory } from './transports.js';

// A type alias, not an interface: libp2p's ServiceMap needs an index-compatible record.
/** The libp2p services a gossipfl node runs. */
export type GossipflServices = {
  pubsub: GossipSub;
  identify: Identify;
};

/** A libp2p node with gossipfl's services. */
export type GossipflLibp2p = Libp2p<GossipflServices>;

/** A started libp2p node with its resolved options. */
export interface GossipflNode {
  readonly libp2p: GossipflLibp2p;
  readonly options: ResolvedNodeOptions;
  /** The node's peer id as a string (what `Transport.self` reports). */
  readonly peerId: string;
  /** Addresses other machines can dial, each ending in `/p2p/<peer id>`. */
  addresses(): string[];
  /** Stops the node and closes its connections. */
  stop(): Promise<void>;
}

/** Discovered peers are dialled only while the node has fewer connections than this. */
const DISCOVERY_DIALS = 3;

/** Builds and starts a libp2p node from gossipfl's node options. */
export async function createGossipflNode(options: NodeOptions = {}, extra: { privateKey?: PrivateKey } = {}): Promise<GossipflNode> {
  const resolved = resolveNodeOptions(options);
  const privateKey = extra.privateKey ?? (resolved.keyFile ? await loadOrCreatePrivateKey(resolved.keyFile) : undefined);
  const config = libp2pConfig(resolved, privateKey, await loadTransports(resolved));
  let libp2p: GossipflLibp2p;
  try {
    libp2p = await createLibp2p(config);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new GossipflError('network', `node: cannot start on ${resolved.listen.join(', ')}: ${why} (is the port in use? pick another with --listen)`, { cause });
  }
  // Discovery only finds peers (mDNS never dials); dial the first few so the node gets onto the
  // run topic. No more: membership spreads by gossip from there, and the transport's dialer
  // keeps the connections the topology needs (libp2p also reports every peer newly added to
  // the peer store as discovered, which would otherwise grow a full mesh).
  libp2p.addEventListener('peer:discovery', (evt) => {
    const { id, multiaddrs } = evt.detail;
    if (id.equals(libp2p.peerId) || libp2p.getConnections(id).length > 0 || libp2p.getPeers().length >= DISCOVERY_DIALS) return;
    libp2p.dial(multiaddrs.length ? multiaddrs : id).catch(() => {
      // Unreachable discovered peers are normal (stale mDNS records); membership reports who is missing.
    });
  });
  for (const addr of resolved.bootstrap) {
    // Bootstrap discovery waits ~1 s before emitting; dial at once so start-up is not held up.
    libp2p.dial(multiaddr(addr)).catch(() => {
      // waitForMembers names bootstrap peers that stay unreachable.
    });
  }
  return gossipflNodeOf(libp2p, resolved);
}

/** A started libp2p node as a GossipflNode (a Node peer's, or a browser tab's: node/browser). */
export function gossipflNodeOf(libp2p: GossipflLibp2p, options: ResolvedNodeOptions): GossipflNode {
  return {
    libp2p,
    options,
    peerId: libp2p.peerId.toString(),
    addresses: () => libp2p.getMultiaddrs().map((a) => a.toString()),
    stop: async () => {
      await libp2p.stop();
    },
  };
}

/** The libp2p options for resolved node options (`extra` holds the transports loaded at run time: loadTransports). */
export function libp2pConfig(o: ResolvedNodeOptions, privateKey: PrivateKey | undefined, extra: LoadedTransports = {}): Libp2pOptions<GossipflServices> {
  const encrypters = o.encryption === 'noise' ? [noise()] : o.encryption === 'tls' ? [tls()] : [tls(), noise()];
  const discovery: NonNullable<Libp2pOptions['peerDiscovery']> = [];
  if (o.bootstrap.length) discovery.push(bootstrap({ list: [...o.bootstrap], timeout: 10 }));
  if (o.mdns) discovery.push(mdns({ interval: 2000 }));
  const psk = o.pskFile ? readPskFile(o.pskFile) : undefined;
  return {
    ...(privateKey ? { privateKey } : {}),
    addresses: { listen: [...o.listen] },
    transports: transportsFor(o, extra),
    connectionEncrypters: encrypters,
    streamMuxers: [
      yamux({
        streamOptions: {
          ...(o.yamux.initialStreamWindowSize !== undefined ? { initialStreamWindowSize: o.yamux.initialStreamWindowSize } : {}),
          ...(o.yamux.maxStreamWindowSize !== undefined ? { maxStreamWindowSize: o.yamux.maxStreamWindowSize } : {}),
        },
      }),
    ],
    ...(psk ? { connectionProtector: preSharedKey({ psk }) } : {}),
    peerDiscovery: discovery,
    connectionManager: {
      maxConnections: o.maxConnections,
      inboundConnectionThreshold: o.inboundConnectionThreshold,
      maxIncomingPendingConnections: Math.max(10, Math.min(o.maxConnections, 256)),
      // libp2p's 6-10 s limits drop handshakes of peers on a busy machine (many peer processes
      // per core) or a slow link; a dial that fails is retried, so waiting longer costs nothing.
      dialTimeout: 30_000,
      addressDialTimeout: 30_000,
      inboundUpgradeTimeout: 30_000,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        ...sharedGossipsubOptions(o.maxGossipBytes),
        // A mesh as wide as a peer's connections: connections follow the topology and stay few,
        // except at a bootstrap peer, which must relay every newcomer's announcements to all
        // the others (gossipsub's default Dhi of 12 prunes its mesh to 6, and most newcomers
        // heard nobody but the bootstrap peer until its lazy gossip came round).
        Dhi: 1024,
        ...(o.scoring === 'local' ? { scoreParams: { IPColocationFactorWeight: 0 } } : {}),
      }),
      // A peer that browsers dial (a /ws address) relays for them, unlimited: a tab cannot listen,
      // so the run's other members reach it through this peer.
      ...(o.listen.some(isWebSocketAddr) ? { relay: circuitRelayServer({ reservations: { applyDefaultLimit: false, maxReservations: 1024 } }) } : {}),
    },
  };
}
