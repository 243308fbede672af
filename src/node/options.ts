// Typed options of a gossipfl libp2p node and their checks. Everything the CLI or a config
// file can set passes through `resolveNodeOptions`, which fills defaults and throws one
// ConfigError naming the bad field.
import { multiaddr } from '@multiformats/multiaddr';
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../util/errors.js';

/** Which connection encrypters the node offers, in order of preference. */
export type EncryptionChoice = 'noise' | 'tls' | 'both';

/**
 * Which transports the node listens and dials on: TCP (with `encryption` and yamux on top),
 * QUIC (`@chainsafe/libp2p-quic`: TLS 1.3 and streams built in, UDP addresses
 * `/udp/<port>/quic-v1`), or both.
 */
export type TransportChoice = 'tcp' | 'quic' | 'both';

/** Options for a libp2p node; everything has a default. */
export interface NodeOptions {
  /** Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001`. Default: an ephemeral port on 127.0.0.1. */
  readonly listen?: readonly string[];
  /** Multiaddrs (with `/p2p/<peer id>`) dialled at start. */
  readonly bootstrap?: readonly string[];
  /** Discover peers on the local network with mDNS (and dial them). Default false. */
  readonly mdns?: boolean;
  /** Default 'tls' (measured faster than noise on Node; see docs/network.md). 'both' offers TLS first, then noise. */
  readonly encryption?: EncryptionChoice;
  /** Default 'tcp'. Listen addresses must be of the chosen kind(s): `/tcp/<port>` for TCP, `/udp/<port>/quic-v1` for QUIC. */
  readonly transport?: TransportChoice;
  /** Path of a pre-shared key file (`/key/swarm/psk/1.0.0/` format): only nodes with the same key can connect. TCP only. */
  readonly pskFile?: string;
  /** Path of the node's private key; created on first use so the peer id stays the same across restarts. */
  readonly keyFile?: string;
  /** Use the in-process memory transport instead of TCP (tests and simulations in one process). */
  readonly memoryTransport?: boolean;
  /** Connection limits; the defaults suit a local cluster of dozens of peers on one IP. */
  readonly maxConnections?: number;
  /** Inbound connections accepted per second from one IP (libp2p's default of 5 breaks local clusters). */
  readonly inboundConnectionThreshold?: number;
  /**
   * Gossipsub peer scoring: 'local' turns off the IP-colocation penalty (many peers on one
   * host would otherwise score each other out of the mesh); 'default' keeps libp2p's.
   */
  readonly scoring?: 'local' | 'default';
  /** Largest message gossipsub accepts from the wire (bytes). */
  readonly maxGossipBytes?: number;
  /**
   * Yamux stream windows (bytes). The defaults stay yamux's (256 KiB, growing to 16 MiB while a
   * stream is read fast): larger initial windows measured no gain on 50 MB updates (see
   * docs/network.md) and let every open stream hold more unread bytes.
   */
  readonly yamux?: YamuxTuning;
}

/**
 * Yamux per-stream receive windows. (Yamux 8 has no frame-size knob that takes effect: a data
 * frame is as large as the sender's window allows.)
 */
export interface YamuxTuning {
  /** Per-stream receive window at open (256 KiB to 4 GiB − 1; yamux's default 256 KiB). */
  readonly initialStreamWindowSize?: number;
  /** Largest the receive window may grow to (at least the initial window; yamux's default 16 MiB). */
  readonly maxStreamWindowSize?: number;
}

/** The yamux spec's initial window; yamux refuses a smaller one. */
const YAMUX_MIN_WINDOW = 256 * 1024;
/** A yamux window update is a u32. */
const YAMUX_MAX_WINDOW = 0xffff_ffff;
/** Yamux's own default for the largest window. */
const YAMUX_DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;

/** Node options with every default filled in. */
export interface ResolvedNodeOptions {
  readonly listen: readonly string[];
  readonly bootstrap: readonly string[];
  readonly mdns: boolean;
  readonly encryption: EncryptionChoice;
  readonly transport: TransportChoice;
  readonly pskFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly memoryTransport: boolean;
  readonly maxConnections: number;
  readonly inboundConnectionThreshold: number;
  readonly scoring: 'local' | 'default';
  readonly maxGossipBytes: number;
  readonly yamux: YamuxTuning;
}

/** Gossipsub's sending side caps one message at 4 MiB on the wire; nothing above it is ever sent. */
export const GOSSIPSUB_WIRE_CAP = 4 * 1024 * 1024;

/** Fills in the defaults of node options. */
export function resolveNodeOptions(options: NodeOptions = {}): ResolvedNodeOptions {
  const memoryTransport = options.memoryTransport ?? false;
  const transport = options.transport ?? 'tcp';
  if (!['tcp', 'quic', 'both'].includes(transport)) {
    throw new ConfigError(`node.transport: "${String(transport)}" is not one of tcp, quic, both`);
  }
  const listen = options.listen ?? (memoryTransport ? ['/memory/gossipfl-' + randomUUID()] : defaultListen(transport));
  const bootstrap = options.bootstrap ?? [];
  for (const [field, list] of [['listen', listen], ['bootstrap', bootstrap]] as const) {
    for (const addr of list) {
      try {
        multiaddr(addr);
      } catch (cause) {
        throw new ConfigError(`node.${field}: "${addr}" is not a multiaddr (example: /ip4/127.0.0.1/tcp/4001${field === 'bootstrap' ? '/p2p/<peer id>' : ''})`, { cause });
      }
    }
  }
  for (const addr of bootstrap) {
    if (!addr.includes('/p2p/')) {
      throw new ConfigError(`node.bootstrap: "${addr}" lacks the peer id; append /p2p/<peer id> as printed by the peer at start`);
    }
  }
  if (!memoryTransport) checkListenKinds(listen, transport);
  if (options.pskFile !== undefined && transport !== 'tcp' && !memoryTransport) {
    // QUIC connections bypass libp2p's connection protector: a PSK would not keep anyone out.
    throw new ConfigError(`node.pskFile: a pre-shared key protects TCP connections only, and QUIC connections would bypass it; use transport tcp with a PSK, or drop the PSK`);
  }
  const encryption = options.encryption ?? 'tls';
  if (!['noise', 'tls', 'both'].includes(encryption)) {
    throw new ConfigError(`node.encryption: "${String(encryption)}" is not one of noise, tls, both`);
  }
  const scoring = options.scoring ?? 'local';
  if (scoring !== 'local' && scoring !== 'default') {
    throw new ConfigError(`node.scoring: "${String(scoring)}" is not one of local, default`);
  }
  return {
    listen,
    bootstrap,
    mdns: options.mdns ?? false,
    encryption,
    transport,
    pskFile: options.pskFile,
    keyFile: options.keyFile,
    memoryTransport,
    maxConnections: positiveInt('maxConnections', options.maxConnections ?? 512),
    inboundConnectionThreshold: positiveInt('inboundConnectionThreshold', options.inboundConnectionThreshold ?? 1000),
    scoring,
    maxGossipBytes: positiveInt('maxGossipBytes', options.maxGossipBytes ?? GOSSIPSUB_WIRE_CAP),
    yamux: resolveYamux(options.yamux ?? {}),
  };
}

function defaultListen(transport: TransportChoice): string[] {
  const tcp = '/ip4/127.0.0.1/tcp/0';
  const quic = '/ip4/127.0.0.1/udp/0/quic-v1';
  return transport === 'tcp' ? [tcp] : transport === 'quic' ? [quic] : [tcp, quic];
}

/** A listen address no chosen transport can serve would fail at start with libp2p's vaguer error. */
function checkListenKinds(listen: readonly string[], transport: TransportChoice): void {
  for (const addr of listen) {
    const names = multiaddr(addr).getComponents().map((c) => c.name);
    const kind = names.includes('quic-v1') ? 'quic' : names.includes('tcp') ? 'tcp' : undefined;
    if (kind === undefined) {
      throw new ConfigError(`node.listen: "${addr}" is neither a TCP (/ip4/0.0.0.0/tcp/4001) nor a QUIC (/ip4/0.0.0.0/udp/4001/quic-v1) address`);
    }
    if (transport !== 'both' && kind !== transport) {
      const example = transport === 'quic' ? '/ip4/0.0.0.0/udp/4001/quic-v1' : '/ip4/0.0.0.0/tcp/4001';
      throw new ConfigError(`node.listen: "${addr}" is a ${kind.toUpperCase()} address but the transport is ${transport}; listen on e.g. ${example}, or choose transport both`);
    }
  }
}

/** Checks yamux windows here, so a bad value is a ConfigError naming the field, not a start-up failure. */
function resolveYamux(y: YamuxTuning): YamuxTuning {
  const known = new Set(['initialStreamWindowSize', 'maxStreamWindowSize']);
  for (const key of Object.keys(y)) {
    if (!known.has(key)) throw new ConfigError(`node.yamux.${key}: not a yamux option (known: ${[...known].join(', ')})`);
  }
  const window = (field: keyof YamuxTuning, min: number): void => {
    const v = y[field];
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > YAMUX_MAX_WINDOW) {
      throw new ConfigError(`node.yamux.${field}: ${v} is not a whole number of bytes from ${min} to ${YAMUX_MAX_WINDOW}`);
    }
  };
  window('initialStreamWindowSize', YAMUX_MIN_WINDOW);
  const initial = y.initialStreamWindowSize ?? YAMUX_MIN_WINDOW;
  window('maxStreamWindowSize', initial);
  if (y.maxStreamWindowSize === undefined && initial > YAMUX_DEFAULT_MAX_WINDOW) {
    throw new ConfigError(`node.yamux.initialStreamWindowSize: ${initial} is above the largest window (${YAMUX_DEFAULT_MAX_WINDOW} by default); raise maxStreamWindowSize too`);
  }
  return { ...y };
}

function positiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`node.${field}: ${value} is not a positive integer`);
  }
  return value;
}
