// The libp2p node of a peer in a browser tab: it dials Node peers over WebSockets (a tab cannot
// listen on TCP or accept WebSocket connections; Node peers reach it through a circuit relay),
// and other tabs over WebRTC, signalled through that relay (webrtc-links.ts). It encrypts with
// noise (a tab has no TLS encrypter), muxes with yamux, and runs the same gossipsub and identify
// as a Node peer, with the same optional pre-shared key. The Libp2pTransport on top is the Node
// peer's, unchanged.
import '../../util/polyfills.js';
import { createLibp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { webRTC } from '@libp2p/webrtc';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { preSharedKey } from '@libp2p/pnet';
import { gossipsub } from '@libp2p/gossipsub';
import { sharedGossipsubOptions } from '../gossipsub-options.js';
import { multiaddr } from '@multiformats/multiaddr';
import { GossipflError } from '../../util/errors.js';
import { parsePsk } from '../keys.js';
import { resolveNodeOptions } from '../options.js';
import { gossipflNodeOf, type GossipflLibp2p, type GossipflNode } from '../create-node.js';
import { relayFirst, WebRtcLinks } from './webrtc-links.js';

/** What a tab's node needs: where to join, and the run's key when it has one. */
export interface BrowserNodeOptions {
  /** Multiaddrs of Node peers listening on WebSockets, each ending in `/p2p/<peer id>`. */
  readonly bootstrap: readonly string[];
  /** The text of the run's pre-shared key file (three lines), if the run uses one. */
  readonly pskText?: string;
  /**
   * STUN or TURN server URLs for WebRTC between tabs (`stun:host:port`). Default none: tabs
   * connect through the addresses of their own machines (a LAN, or tabs of one machine), and no
   * third party learns the tab's address; tabs behind different NATs need a STUN server.
   */
  readonly iceServers?: readonly string[];
  readonly log?: (line: string) => void;
}

/** Starts a tab's libp2p node and dials the bootstrap peers. */
export async function createBrowserNode(options: BrowserNodeOptions): Promise<GossipflNode> {
  // The same checks and defaults as a Node peer's options (bootstrap addresses carry a peer id, gossip size cap).
  const resolved = resolveNodeOptions({ listen: [], bootstrap: options.bootstrap, encryption: 'noise' });
  for (const addr of resolved.bootstrap) {
    if (!addr.includes('/ws')) {
      throw new GossipflError('config', `bootstrap: "${addr}" is not a WebSocket address; a tab can only dial /ip4/…/tcp/<port>/ws/p2p/<peer id> (start the Node peer with a /ws listen address)`);
    }
  }
  if (options.pskText !== undefined) parsePsk(options.pskText, 'the pre-shared key');
  let libp2p: GossipflLibp2p;
  try {
    libp2p = await createLibp2p({
      // A tab cannot listen: it takes a reservation on a relay (the Node peer that serves /ws) and
      // is reachable through it at …/p2p/<relay>/p2p-circuit/p2p/<tab>, and for WebRTC at
      // …/p2p-circuit/webrtc/p2p/<tab> (the relay carries the signalling only); it announces both.
      addresses: { listen: ['/p2p-circuit', '/webrtc'] },
      transports: [webSockets(), webRTC({ rtcConfiguration: { iceServers: (options.iceServers ?? []).map((urls) => ({ urls })) } }), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      ...(options.pskText !== undefined ? { connectionProtector: preSharedKey({ psk: new TextEncoder().encode(options.pskText.trim()) }) } : {}),
      // The browser default refuses plain ws:// and private addresses; a run on a LAN or on loopback
      // uses both, and noise encrypts and authenticates the connection on top of the socket.
      connectionGater: { denyDialMultiaddr: () => false },
      connectionManager: { addressSorter: relayFirst },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          // As between Node peers: membership and updates rely on the signed originator.
          ...sharedGossipsubOptions(resolved.maxGossipBytes),
          scoreParams: { IPColocationFactorWeight: 0 },
        }),
      },
    });
  } catch (cause) {
    throw new GossipflError('network', `browser node: cannot start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const webrtc = new WebRtcLinks(libp2p, options.log ?? (() => undefined));
  const dialed = await Promise.allSettled(resolved.bootstrap.map((addr) => libp2p.dial(multiaddr(addr))));
  if (dialed.every((d) => d.status === 'rejected')) {
    const why = dialed.map((d) => (d.status === 'rejected' ? String((d.reason as Error)?.message ?? d.reason) : '')).join('; ');
    webrtc.stop();
    await libp2p.stop();
    throw new GossipflError('network', `browser node: no bootstrap peer answered (${why}); is the Node peer running with a /ws listen address, the same key and encryption noise or both?`);
  }
  const node = gossipflNodeOf(libp2p, resolved);
  return {
    ...node,
    stop: async () => {
      webrtc.stop();
      await node.stop();
    },
  };
}
