// The libp2p transports a node runs, from its `transport` choice (`--transport`). Each
// transport is one entry of BUILDERS; a choice lists the entries it runs (KINDS_OF). Adding a
// transport is one line in each.
import { tcp } from '@libp2p/tcp';
import { memory } from '@libp2p/memory';
import { webSockets } from '@libp2p/websockets';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import type { Libp2pOptions } from 'libp2p';
import type { quic as quicFactory } from '@chainsafe/libp2p-quic';
import { ConfigError } from '../util/errors.js';
import type { ResolvedNodeOptions, TransportChoice } from './options.js';

/** The QUIC transport's factory (`quic()` of @chainsafe/libp2p-quic). */
export type QuicTransportFactory = typeof quicFactory;

/** Transports loaded at run time (native modules that exist on some platforms only). */
export interface LoadedTransports {
  readonly quic?: QuicTransportFactory;
}

type TransportBuilder = NonNullable<Libp2pOptions['transports']>[number];

/** Every transport a node can run. QUIC brings its own TLS 1.3 and streams: `encryption`, yamux and the PSK apply to the others only. */
const BUILDERS = {
  tcp: () => tcp(),
  quic: (loaded: LoadedTransports) => {
    if (!loaded.quic) throw new ConfigError(`node.transport: QUIC needs the QUIC transport; pass libp2pConfig's extra.quic (loadQuicTransport())`);
    return loaded.quic();
  },
} satisfies Record<string, (loaded: LoadedTransports) => TransportBuilder>;

/** One transport of BUILDERS. */
export type TransportKind = keyof typeof BUILDERS;

/** What each `transport` choice runs. */
const KINDS_OF: Record<TransportChoice, readonly TransportKind[]> = {
  tcp: ['tcp'],
  quic: ['quic'],
  both: ['tcp', 'quic'],
};

/** The transports of a choice. */
export function transportKinds(choice: TransportChoice): readonly TransportKind[] {
  return KINDS_OF[choice];
}

/** The libp2p transport list of resolved node options (the in-process memory transport alone when asked for). */
export function transportsFor(o: ResolvedNodeOptions, loaded: LoadedTransports): TransportBuilder[] {
  if (o.memoryTransport) return [memory()];
  const list: TransportBuilder[] = KINDS_OF[o.transport].map((kind) => BUILDERS[kind](loaded));
  // Browser peers can dial only WebSockets: a /ws listen address adds the transport beside TCP.
  if (o.listen.some(isWebSocketAddr)) list.push(listenOnlyWebSockets());
  // Browser peers listen nowhere; others reach them through a relay (a peer with a /ws address runs one).
  list.push(circuitRelayTransport());
  return list;
}

/** WebSockets that browsers dial in on; Node peers reach each other over TCP (and Node 20 has no WebSocket client to dial with). */
function listenOnlyWebSockets(): TransportBuilder {
  const build = webSockets();
  return (components) => {
    const transport = build(components);
    transport.dialFilter = () => [];
    return transport;
  };
}

/** A TCP address with /ws on top (`/ip4/…/tcp/<port>/ws`), which browsers dial. */
export function isWebSocketAddr(addr: string): boolean {
  return /\/tcp\/\d+\/ws(\/|$)/.test(addr);
}

/** Loads what the options' transports need at run time (QUIC's native module only when QUIC is chosen). */
export async function loadTransports(o: ResolvedNodeOptions): Promise<LoadedTransports> {
  if (o.memoryTransport || !KINDS_OF[o.transport].includes('quic')) return {};
  return { quic: await loadQuicTransport() };
}

/**
 * Loads the QUIC transport. Imported only when asked for: its native module exists for some
 * platforms only, and a TCP-only node must start without it.
 */
export async function loadQuicTransport(): Promise<QuicTransportFactory> {
  try {
    return (await import('@chainsafe/libp2p-quic')).quic;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ConfigError(`node.transport: the QUIC transport (@chainsafe/libp2p-quic) cannot be loaded on ${process.platform}-${process.arch}: ${why}; use transport tcp`, { cause });
  }
}
