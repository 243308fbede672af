// The node's own messages, on gossipsub and on the direct update protocol: a versioned
// discriminated union in a small hand-written binary format. Update payloads are opaque here
// (the compression layer's codec validates them through the transport's hook).
//
// Layout: "GF" (2 bytes) · version u8 · kind u8 · fields. Integers are big-endian; a string is
// u16 byte length + UTF-8; a byte field is u32 length + bytes. Decoding is strict: unknown
// version or kind, a length past the end, a bound exceeded or trailing bytes all throw.
import { GossipflError } from '../util/errors.js';

/** Version of the node's wire format. */
export const WIRE_VERSION = 3;
const MAGIC0 = 0x47; // 'G'
const MAGIC1 = 0x46; // 'F'
export const WIRE_HEADER_BYTES = 4;

const MAX_ID_CHARS = 256;
const MAX_ADDR_CHARS = 512;
const MAX_ADDRS = 64;
const MAX_PEERS = 1024;
const MAX_GONE = 64;
const MAX_RECIPIENTS = 4096;
const MAX_PEER_ID_CHARS = 128;
const MAX_REASON_CHARS = 1024;
/** Rounds and phases are u32 and u8 on the wire. */
export const MAX_ROUND = 0xffff_ffff;
export const MAX_PHASE = 0xff;

/** A peer's presence in a run, sent on the run topic at start, on newcomers and periodically. */
export interface AnnounceMessage {
  readonly kind: 'announce';
  readonly runId: string;
  readonly modelFingerprint: string;
  readonly configHash: string;
  /** Dialable addresses of the sender (with /p2p/<id>). */
  readonly addrs: readonly string[];
  /** The sender's current round; -1 before its first round. */
  readonly round: number;
  /** The first round the sender takes part in (0 for peers present at the start). */
  readonly joinRound: number;
  /** One dialable address (with /p2p/<id>) of each member the sender knows: newcomers dial them at once instead of waiting for gossip to reach them. */
  readonly peers: readonly string[];
  /**
   * Members the sender dropped for silence, each with the last round it counts them in: the
   * others adopt the same round (if they too have not heard from that member lately), so that
   * every peer removes it at the same boundary. Version 2 on.
   */
  readonly gone: readonly GoneEntry[];
  /** What the sender is in the run: a member that trains, or the server of `mode: federated` (it trains nothing). Version 3 on. */
  readonly role: PeerRole;
}

/** A peer's part in a run. */
export type PeerRole = 'member' | 'server';
const ROLE_CODE: Record<PeerRole, number> = { member: 0, server: 1 };
const ROLES: readonly PeerRole[] = ['member', 'server'];

/** A member dropped for silence and the last round it takes part in. */
export interface GoneEntry {
  readonly peer: string;
  readonly after: number;
}

/** One peer's codec bytes for one (round, phase). */
export interface UpdateMessage {
  readonly kind: 'update';
  readonly runId: string;
  readonly round: number;
  readonly phase: number;
  /** Intended recipients (peer id strings); empty means everyone who expects it. Used on gossipsub, where every subscriber sees every message. */
  readonly to: readonly string[];
  readonly payload: Uint8Array;
}

/** The sender stops after `lastRound` (inclusive); it leaves the member set from the round after. */
export interface LeaveMessage {
  readonly kind: 'leave';
  readonly runId: string;
  readonly lastRound: number;
}

/** The receiver's answer on the direct update protocol. */
export interface AckMessage {
  readonly kind: 'ack';
  readonly status: AckStatus;
  readonly reason: string;
}

/** What the receiver of a direct update did with it. */
export type AckStatus = 'accepted' | 'rejected' | 'ignored';

/** Any message peers send each other. */
export type NodeMessage = AnnounceMessage | UpdateMessage | LeaveMessage | AckMessage;

const KIND_CODE = { announce: 1, update: 2, leave: 3, ack: 4 } as const;
const ACK_CODE: Record<AckStatus, number> = { accepted: 0, rejected: 1, ignored: 2 };
const ACK_STATUS: readonly AckStatus[] = ['accepted', 'rejected', 'ignored'];

/** Encodes a message as parts to write in order; an update's payload is passed through without a copy. */
export function encodeMessageParts(msg: NodeMessage): Uint8Array[] {
  const w = new Writer();
  w.u8(MAGIC0).u8(MAGIC1).u8(WIRE_VERSION).u8(KIND_CODE[msg.kind]);
  switch (msg.kind) {
    case 'announce':
      w.str(msg.runId, MAX_ID_CHARS, 'runId').str(msg.modelFingerprint, MAX_ID_CHARS, 'modelFingerprint').str(msg.configHash, MAX_ID_CHARS, 'configHash');
      w.i32(checkInt(msg.round, -1, MAX_ROUND >>> 1, 'round')).u32(checkInt(msg.joinRound, 0, MAX_ROUND, 'joinRound'));
      w.count(msg.addrs.length, MAX_ADDRS, 'addrs');
      for (const a of msg.addrs) w.str(a, MAX_ADDR_CHARS, 'addr');
      w.count(msg.peers.length, MAX_PEERS, 'peers');
      for (const a of msg.peers) w.str(a, MAX_ADDR_CHARS, 'peer');
      w.count(msg.gone.length, MAX_GONE, 'gone');
      for (const g of msg.gone) w.str(g.peer, MAX_PEER_ID_CHARS, 'gone peer').i32(checkInt(g.after, -1, MAX_ROUND >>> 1, 'gone after'));
      w.u8(ROLE_CODE[msg.role]);
      return [w.finish()];
    case 'update':
      w.str(msg.runId, MAX_ID_CHARS, 'runId').u32(checkInt(msg.round, 0, MAX_ROUND, 'round')).u8(checkInt(msg.phase, 0, MAX_PHASE, 'phase'));
      w.count(msg.to.length, MAX_RECIPIENTS, 'to');
      for (const p of msg.to) w.str(p, MAX_PEER_ID_CHARS, 'to');
      w.u32(msg.payload.byteLength);
      return [w.finish(), msg.payload];
    case 'leave':
      w.str(msg.runId, MAX_ID_CHARS, 'runId').i32(checkInt(msg.lastRound, -1, MAX_ROUND >>> 1, 'lastRound'));
      return [w.finish()];
    case 'ack':
      w.u8(ACK_CODE[msg.status]).str(msg.reason, MAX_REASON_CHARS, 'reason');
      return [w.finish()];
  }
}

/** Encodes a node message as one byte array. */
export function encodeMessage(msg: NodeMessage): Uint8Array {
  const parts = encodeMessageParts(msg);
  if (parts.length === 1) return parts[0];
  return concatBytes(parts);
}

export function encodedLength(msg: NodeMessage): number {
  return encodeMessageParts(msg).reduce((n, p) => n + p.byteLength, 0);
}

/** Decodes and validates one message; an update's payload is a view into `bytes`. */
export function decodeMessage(bytes: Uint8Array): NodeMessage {
  const r = new Reader(bytes);
  if (bytes.byteLength < WIRE_HEADER_BYTES || r.u8() !== MAGIC0 || r.u8() !== MAGIC1) {
    throw wireError('not a gossipfl message (bad magic)');
  }
  const version = r.u8();
  if (version !== WIRE_VERSION) {
    throw wireError(`message version ${version} is not supported (this build speaks ${WIRE_VERSION}); run the same gossipfl version on every peer`);
  }
  const kind = r.u8();
  let msg: NodeMessage;
  switch (kind) {
    case KIND_CODE.announce: {
      const runId = r.str(MAX_ID_CHARS, 'runId');
      const modelFingerprint = r.str(MAX_ID_CHARS, 'modelFingerprint');
      const configHash = r.str(MAX_ID_CHARS, 'configHash');
      const round = r.i32();
      if (round < -1) throw wireError(`announce round ${round} is below -1`);
      const joinRound = r.u32();
      const n = r.count(MAX_ADDRS, 'addrs');
      const addrs: string[] = [];
      for (let i = 0; i < n; i++) addrs.push(r.str(MAX_ADDR_CHARS, 'addr'));
      const np = r.count(MAX_PEERS, 'peers');
      const peers: string[] = [];
      for (let i = 0; i < np; i++) peers.push(r.str(MAX_ADDR_CHARS, 'peer'));
      const ng = r.count(MAX_GONE, 'gone');
      const gone: GoneEntry[] = [];
      for (let i = 0; i < ng; i++) {
        const peer = r.str(MAX_PEER_ID_CHARS, 'gone peer');
        const after = r.i32();
        if (after < -1) throw wireError(`announce gone round ${after} is below -1`);
        gone.push({ peer, after });
      }
      const roleCode = r.u8();
      const role = ROLES[roleCode];
      if (role === undefined) throw wireError(`announce role ${roleCode} is unknown (0 member, 1 server)`);
      msg = { kind: 'announce', runId, modelFingerprint, configHash, addrs, round, joinRound, peers, gone, role };
      break;
    }
    case KIND_CODE.update: {
      const runId = r.str(MAX_ID_CHARS, 'runId');
      const round = r.u32();
      const phase = r.u8();
      const n = r.count(MAX_RECIPIENTS, 'to');
      const to: string[] = [];
      for (let i = 0; i < n; i++) to.push(r.str(MAX_PEER_ID_CHARS, 'to'));
      const payload = r.bytes(r.u32(), 'payload');
      msg = { kind: 'update', runId, round, phase, to, payload };
      break;
    }
    case KIND_CODE.leave: {
      const runId = r.str(MAX_ID_CHARS, 'runId');
      const lastRound = r.i32();
      if (lastRound < -1) throw wireError(`leave lastRound ${lastRound} is below -1`);
      msg = { kind: 'leave', runId, lastRound };
      break;
    }
    case KIND_CODE.ack: {
      const code = r.u8();
      const status = ACK_STATUS[code];
      if (status === undefined) throw wireError(`ack status ${code} is unknown`);
      msg = { kind: 'ack', status, reason: r.str(MAX_REASON_CHARS, 'reason') };
      break;
    }
    default:
      throw wireError(`message kind ${kind} is unknown`);
  }
  r.end();
  return msg;
}

export function wireError(what: string): GossipflError {
  return new GossipflError('wire', `wire: ${what}`);
}

function checkInt(v: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`wire: ${field} ${v} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.at, v);
    this.at += 1;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.at, v);
    this.at += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.at, v);
    this.at += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.view.setInt32(this.at, v);
    this.at += 4;
    return this;
  }

  count(n: number, max: number, field: string): this {
    if (n > max) throw new RangeError(`wire: ${field} has ${n} entries, more than ${max}`);
    return this.u16(n);
  }

  str(s: string, maxChars: number, field: string): this {
    const b = encoder.encode(s);
    if (b.byteLength > maxChars) throw new RangeError(`wire: ${field} is ${b.byteLength} bytes long, more than ${maxChars}`);
    this.u16(b.byteLength);
    this.room(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

class Reader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number, field: string): void {
    if (this.at + n > this.buf.byteLength) {
      throw wireError(`message ends inside ${field} (needs ${n} more bytes at offset ${this.at}, has ${this.buf.byteLength - this.at})`);
    }
  }

  u8(): number {
    this.need(1, 'header');
    return this.view.getUint8(this.at++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'integer');
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  i32(): number {
    this.need(4, 'integer');
    const v = this.view.getInt32(this.at);
    this.at += 4;
    return v;
  }

  count(max: number, field: string): number {
    const n = this.u16(field);
    if (n > max) throw wireError(`${field} has ${n} entries, more than ${max}`);
    return n;
  }

  str(maxBytes: number, field: string): string {
    const n = this.u16(field);
    if (n > maxBytes) throw wireError(`${field} is ${n} bytes long, more than ${maxBytes}`);
    this.need(n, field);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    try {
      return decoder.decode(b);
    } catch {
      throw wireError(`${field} is not valid UTF-8`);
    }
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  end(): void {
    if (this.at !== this.buf.byteLength) throw wireError(`${this.buf.byteLength - this.at} trailing bytes after the message`);
  }
}
