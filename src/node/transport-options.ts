// The Libp2pTransport's options, their defaults and checks, and the parts of a transport every
// module of it shares (node, membership, inbox, liveness, refusal log).
import type { Envelope, PeerId } from '../peer/transport.js';
import type { NeighboursOf } from './dialer.js';
import { GossipflError } from '../util/errors.js';
import type { GossipflNode } from './create-node.js';
import type { Inbox } from './inbox.js';
import type { Liveness } from './liveness.js';
import type { Membership, RunIdentity } from './membership.js';
import type { RefusalLog } from './refusal-log.js';
import type { NodeMessage, PeerRole, UpdateMessage } from './wire.js';

/** The codec's verdict on an update's bytes. `stale` marks a valid but outdated update (ignored, not punished). */
export type ValidateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly stale?: boolean };

/** Checks an update's payload; `at` is the (round, phase) its envelope claims. */
export type ValidateUpdate = (bytes: Uint8Array, from: PeerId, at: { readonly round: number; readonly phase: number }) => ValidateResult;

/** What became of one message from the network: every gossip message and every direct update gets exactly one. */
export interface InboundVerdict {
  readonly via: 'gossip' | 'stream';
  readonly from: PeerId;
  /** The node message's kind, or 'malformed' when it did not decode. */
  readonly kind: NodeMessage['kind'] | 'malformed';
  /** accept: taken (delivered, buffered, or membership news); forward: valid but for other peers; ignore/reject: refused. */
  readonly result: 'accept' | 'forward' | 'ignore' | 'reject';
  /** Why it was refused or forwarded (empty when accepted). */
  readonly reason: string;
}

/** Options for a Libp2pTransport. */
export interface Libp2pTransportOptions {
  readonly identity: RunIdentity;
  /** Checks an update's codec bytes before anything else sees them (the lead wires the compression codec in). */
  readonly validate: ValidateUpdate;
  /** What this peer announces itself as: a member that trains (default) or a federated run's server. */
  readonly role?: PeerRole;
  /** Largest update payload accepted or sent (bytes): the model's encoded size. Default 64 MiB. */
  readonly maxPayloadBytes?: number;
  /**
   * Same-for-everyone payloads up to this size (encoded) ride gossipsub; larger ones go over the
   * direct protocol. Default 16 KiB: on loopback, all-to-all among 4-8 directly connected peers,
   * the stream was as fast at 16 KiB and 2-7× faster from 64 KiB up (gossipsub forwards copies
   * through the mesh and signs every message). Gossipsub's strength is reach through relays.
   */
  readonly gossipThresholdBytes?: number;
  /** How often a peer re-announces itself (ms). Default 2000. */
  readonly announceIntervalMs?: number;
  /** A member not heard from for this long leaves at the next round boundary (ms). Default 5 × announceIntervalMs. */
  readonly silentAfterMs?: number;
  /**
   * A member expected in this many consecutive rounds without delivering an update is suspected:
   * exchanges stop waiting for it until it delivers again. Default 2.
   */
  readonly suspectAfterRounds?: number;
  /** Refusals of one kind are logged once per this interval, then counted (ms). Default 10000. */
  readonly refusalLogIntervalMs?: number;
  /** Direct update streams: the fixed part of a frame's overall deadline (ms; see direct.ts). Default 30000. */
  readonly frameTimeoutMs?: number;
  /** Updates at most this many rounds ahead are buffered. Default 2. */
  readonly maxRoundsAhead?: number;
  /** Bytes of early updates buffered in all. Default 4 × maxPayloadBytes. */
  readonly maxBufferedBytes?: number;
  /** Direct sends in flight at once. Default 8. */
  readonly sendConcurrency?: number;
  /** Where log lines go. Default: stderr, prefixed with "gossipfl node:". */
  readonly log?: (line: string) => void;
  /** Called once per message received (counters of refusals by reason, tests). */
  readonly onVerdict?: (verdict: InboundVerdict) => void;
  /**
   * Asynchronous gossip: gossip updates (every phase but the exact merge's) are kept as the
   * latest one per in-neighbour instead of waiting in per-round exchanges; `publish` sends without
   * waiting. `sendTimeoutMs` bounds one direct send (default 30 s).
   */
  readonly asyncGossip?: { readonly maxStaleness: number; readonly sendTimeoutMs?: number };
  /**
   * The topology's neighbours of this peer in a round (see dialer.ts): connections are kept to
   * them, dialled a round ahead, besides the member ring. Without it only the member ring and
   * peers in use are kept (modes without a gossip topology).
   */
  readonly neighbours?: NeighboursOf;
  /** A connection neither wanted nor used for this long is closed (ms). Default 3 × announceIntervalMs. */
  readonly connectionGraceMs?: number;
}

/** The numeric options with their defaults filled in. */
export type ResolvedTransportOptions = Required<Omit<Libp2pTransportOptions, 'identity' | 'validate' | 'role' | 'log' | 'onVerdict' | 'asyncGossip' | 'neighbours'>>;

/** Header room in a direct frame beyond the payload (magic, run id, round, phase, lengths). */
const FRAME_OVERHEAD_BYTES = 1024;

/** Fills in defaults and refuses non-positive numbers (ConfigError naming the option). */
export function resolveTransportOptions(options: Libp2pTransportOptions): ResolvedTransportOptions {
  const maxPayloadBytes = positive('maxPayloadBytes', options.maxPayloadBytes ?? 64 * 1024 * 1024);
  const announceIntervalMs = positive('announceIntervalMs', options.announceIntervalMs ?? 2000);
  return {
    maxPayloadBytes,
    gossipThresholdBytes: positive('gossipThresholdBytes', options.gossipThresholdBytes ?? 16 * 1024),
    announceIntervalMs,
    silentAfterMs: positive('silentAfterMs', options.silentAfterMs ?? 5 * announceIntervalMs),
    maxRoundsAhead: positive('maxRoundsAhead', options.maxRoundsAhead ?? 2),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? 4 * maxPayloadBytes),
    sendConcurrency: positive('sendConcurrency', options.sendConcurrency ?? 8),
    suspectAfterRounds: positive('suspectAfterRounds', options.suspectAfterRounds ?? 2),
    refusalLogIntervalMs: positive('refusalLogIntervalMs', options.refusalLogIntervalMs ?? 10_000),
    frameTimeoutMs: positive('frameTimeoutMs', options.frameTimeoutMs ?? 30_000),
    connectionGraceMs: positive('connectionGraceMs', options.connectionGraceMs ?? 3 * announceIntervalMs),
  };
}

/** The largest direct frame for a payload limit. */
export function maxFrameBytes(o: ResolvedTransportOptions): number {
  return o.maxPayloadBytes + FRAME_OVERHEAD_BYTES;
}

/** What the modules of one transport share. */
export interface TransportCore {
  readonly node: GossipflNode;
  readonly self: PeerId;
  readonly topic: string;
  readonly options: Libp2pTransportOptions;
  readonly o: ResolvedTransportOptions;
  readonly membership: Membership;
  readonly inbox: Inbox;
  readonly liveness: Liveness;
  readonly refusals: RefusalLog;
  readonly log: (line: string) => void;
  /** Logs a line once per key (repeated dial or publish failures). */
  logOnce(key: string, line: string): void;
  now(): number;
}

/** Refuses an update payload over the limit before anything is sent. */
export function checkPayload(o: ResolvedTransportOptions, payload: Uint8Array): void {
  if (payload.byteLength > o.maxPayloadBytes) {
    throw new GossipflError('config', `transport: update payload of ${payload.byteLength} bytes exceeds maxPayloadBytes ${o.maxPayloadBytes}; raise it on every peer`);
  }
}

/** A private plain Uint8Array copy of an update (gossipsub hands out Buffers): offset 0, aligned, independent of gossipsub's cache and stream buffers. */
export function privateEnvelope(from: string, msg: UpdateMessage): Envelope {
  return { from, round: msg.round, phase: msg.phase, bytes: new Uint8Array(msg.payload) };
}

/** A positive finite number, else a config error naming the option. */
export function positive(field: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new GossipflError('config', `transport: ${field} ${v} is not a positive number`);
  return v;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A peer's payload bounds for a model of `params` floats in a run of `peers`: one message is the
 * model plus headroom, and the early-update buffer holds every member's exact-merge model (from
 * peers that reached the merge first; the merge holds that many anyway), at least 4 messages.
 */
export function payloadBounds(params: number, peers: number): { maxPayloadBytes: number; maxBufferedBytes: number } {
  const maxPayloadBytes = params * 4 + 64 * 1024;
  return { maxPayloadBytes, maxBufferedBytes: Math.max(4, peers + 1) * maxPayloadBytes };
}
