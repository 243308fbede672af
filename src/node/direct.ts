// The direct update protocol: one stream per update. The sender writes one length-prefixed
// frame holding an `update` message; the receiver validates it and answers with one `ack`
// frame. Only the ack tells the sender the bytes arrived (a finished write does not).
// A stream gets an overall deadline besides the idle one: its length prefix within
// frameTimeoutMs, its whole frame within frameTimeoutMs plus its length at minBytesPerSecond,
// so a sender trickling a byte at a time (slowloris) cannot hold a stream slot for long.
import type { Libp2p, PeerId, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { GossipflError } from '../util/errors.js';
import { FrameReader, framePrefix, FRAME_PREFIX_BYTES } from './frame.js';
import { ReceiveBudget } from './receive-budget.js';
import { decodeMessage, encodeMessage, encodeMessageParts, type AckMessage, type UpdateMessage } from './wire.js';

/** The libp2p protocol id of direct update streams. */
export const UPDATE_PROTOCOL = '/gossipfl/update/1.0.0';
/** Acks are tiny; anything larger is a broken peer. */
const MAX_ACK_BYTES = 2048;
/** Write in slices so backpressure applies and yamux need not hold a whole model at once. */
const WRITE_SLICE_BYTES = 1 << 20;

/** Answers one direct update from a peer with an ack. */
export interface UpdateHandler {
  /** Decides on a complete, well-formed update from `from`: accept, reject (invalid) or ignore (stale). */
  (from: string, msg: UpdateMessage): AckMessage | Promise<AckMessage>;
}

/** Limits and handler for the direct update protocol. */
export interface DirectProtocolOptions {
  /** Largest frame accepted (an update message: payload plus header). */
  readonly maxFrameBytes: number;
  readonly onUpdate: UpdateHandler;
  /** One-line log messages. */
  readonly log: (line: string) => void;
  /** Refusals of a kind (rate-limited by the caller; default: `log`). */
  readonly refused?: (kind: string, line: string) => void;
  /** Whether to read a stream from this peer at all (default: everyone); a refused stream is answered and reset unread. */
  readonly admit?: (from: string) => boolean;
  /** Concurrent update streams per connection. */
  readonly maxStreams?: number;
  /** Bytes of updates one peer may have in flight to us at once (default: two frames). */
  readonly maxInFlightBytesPerPeer?: number;
  /** A stream that sends nothing for this long before its frame is complete is aborted (ms, default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Time for the length prefix, and the fixed part of the frame's overall deadline (ms, default 30 s). */
  readonly frameTimeoutMs?: number;
  /** Slowest transfer rate the frame's overall deadline allows for (bytes per second, default 256 KiB/s). */
  readonly minBytesPerSecond?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
const DEFAULT_MIN_BYTES_PER_SECOND = 256 * 1024;

/** The overall deadline of a frame of `bodyBytes` (ms): the fixed part plus its length at the slowest rate allowed. */
export function frameDeadlineMs(bodyBytes: number, frameTimeoutMs = DEFAULT_FRAME_TIMEOUT_MS, minBytesPerSecond = DEFAULT_MIN_BYTES_PER_SECOND): number {
  return frameTimeoutMs + Math.ceil((bodyBytes / minBytesPerSecond) * 1000);
}

/** Registers the receiving side of the update protocol. */
export async function handleUpdateProtocol(libp2p: Libp2p, o: DirectProtocolOptions): Promise<void> {
  const maxStreams = o.maxStreams ?? 64;
  const budget = new ReceiveBudget(o.maxInFlightBytesPerPeer ?? 2 * (o.maxFrameBytes + FRAME_PREFIX_BYTES));
  await libp2p.handle(
    UPDATE_PROTOCOL,
    (stream, connection) => {
      const from = connection.remotePeer.toString();
      if (o.admit && !o.admit(from)) {
        refusalLogger(o)('update stream from a non-member', `update stream from ${from} refused: not a member of the run`);
        void answer(stream, { kind: 'ack', status: 'ignored', reason: 'not a member' }).then(() => stream.abort(new GossipflError('network', 'update stream from a non-member')));
        return;
      }
      // Attach the reader before anything else: an unread stream buffers only 4 MiB and is then reset.
      receiveOne(stream, from, o, budget);
    },
    { maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams },
  );
}

function receiveOne(stream: Stream, from: string, o: DirectProtocolOptions, budget: ReceiveBudget): void {
  stream.maxReadBufferLength = o.maxFrameBytes + FRAME_PREFIX_BYTES;
  const reader = new FrameReader(o.maxFrameBytes);
  let finished = false;
  // Bytes of this stream counted against the sender's budget until we are done with them.
  let held = 0;
  const release = (): void => {
    budget.release(from, held);
    held = 0;
  };
  const idleMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const frameMs = o.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
  const rate = o.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
  const refusedLog = refusalLogger(o);
  const cut = (kind: string, why: string): void => {
    if (finished) return;
    finish();
    release();
    refusedLog(kind, `update from ${from} aborted: ${why} after ${reader.received} bytes`);
    stream.abort(new GossipflError('network', `update stream ${why}`));
  };
  // A sender that opens a stream and goes quiet would hold a stream slot and its budget forever.
  const onIdle = (): void => cut('update stream idle', `no bytes for ${idleMs} ms`);
  const arm = (): NodeJS.Timeout => setTimeout(onIdle, idleMs).unref();
  let idle = arm();
  // One that trickles bytes is never idle: the overall deadline, first for the prefix, then for the whole frame.
  const opened = Date.now();
  let overallMs = frameMs;
  const onOverall = (): void => cut('update stream too slow', `frame not complete within ${overallMs} ms`);
  let overall = setTimeout(onOverall, overallMs).unref();
  const finish = (): void => {
    finished = true;
    clearTimeout(idle);
    clearTimeout(overall);
    stream.removeEventListener('message', onMessage);
    stream.removeEventListener('close', onClose);
    stream.removeEventListener('remoteCloseWrite', onRemoteCloseWrite);
  };
  const refuse = (reason: string): void => {
    finish();
    release();
    refusedLog('update stream refused', `update from ${from} refused: ${reason}`);
    // The sender may still be writing the rest of its frame: after the ack, reset the stream so
    // the bytes stop (yamux cannot close only our reading side) and nothing more is buffered.
    void answer(stream, { kind: 'ack', status: 'rejected', reason }).then(() => stream.abort(new GossipflError('wire', `update refused: ${reason}`)));
  };
  const onMessage = (evt: StreamMessageEvent): void => {
    clearTimeout(idle);
    idle = arm();
    const bytes = evt.data.byteLength;
    if (!budget.take(from, bytes)) {
      refuse(`frame: peer has ${budget.held(from)} bytes of updates in flight, more would pass the limit of ${budget.perPeerBytes} bytes per peer`);
      return;
    }
    held += bytes;
    let frame: Uint8Array | null;
    try {
      frame = reader.push(evt.data);
    } catch (err) {
      refuse(errorMessage(err));
      return;
    }
    if (frame === null) {
      if (reader.declared >= 0 && overallMs === frameMs) {
        // The prefix is in: the deadline now covers the whole frame at the slowest rate allowed.
        overallMs = frameDeadlineMs(reader.declared, frameMs, rate);
        clearTimeout(overall);
        overall = setTimeout(onOverall, Math.max(0, opened + overallMs - Date.now())).unref();
      }
      return;
    }
    finish();
    void respond(stream, from, frame, o).finally(release);
  };
  const onClose = (evt: StreamCloseEvent): void => {
    if (finished) return;
    finish();
    release();
    const why = evt.error ? errorMessage(evt.error) : 'stream closed';
    refusedLog('update stream cut off', `update from ${from} cut off after ${reader.received} bytes: ${why}`);
  };
  // The sender finished writing before its frame did: nothing more can come, so answer now
  // (otherwise the half-open stream would stay with us until the connection closes).
  const onRemoteCloseWrite = (): void => {
    if (finished) return;
    refuse(`frame: the sender closed the stream after ${reader.received} bytes, before the end of its frame`);
  };
  stream.addEventListener('message', onMessage);
  stream.addEventListener('close', onClose);
  stream.addEventListener('remoteCloseWrite', onRemoteCloseWrite);
}

function refusalLogger(o: DirectProtocolOptions): (kind: string, line: string) => void {
  return o.refused ?? ((_kind, line) => o.log(line));
}

async function respond(stream: Stream, from: string, frame: Uint8Array, o: DirectProtocolOptions): Promise<void> {
  let ack: AckMessage;
  try {
    const msg = decodeMessage(frame);
    if (msg.kind !== 'update') throw new GossipflError('wire', `wire: expected an update on ${UPDATE_PROTOCOL}, got ${msg.kind}`);
    ack = await o.onUpdate(from, msg);
  } catch (err) {
    refusalLogger(o)('malformed update frame', `update from ${from} rejected: ${errorMessage(err)}`);
    ack = { kind: 'ack', status: 'rejected', reason: errorMessage(err) };
  }
  await answer(stream, ack);
}

async function answer(stream: Stream, ack: AckMessage): Promise<void> {
  try {
    const body = encodeMessage(ack);
    stream.send(framePrefix(body.byteLength));
    stream.send(body);
    await stream.close();
  } catch (err) {
    stream.abort(asError(err));
  }
}

/** Sends one update to `peer` and resolves with its ack; rejects with an Error (never a bare Event) on failure or abort. */
export async function sendUpdate(
  libp2p: Libp2p,
  peer: PeerId,
  msg: UpdateMessage,
  options: { signal?: AbortSignal; maxFrameBytes: number },
): Promise<AckMessage> {
  const parts = encodeMessageParts(msg);
  const bodyBytes = parts.reduce((n, p) => n + p.byteLength, 0);
  if (bodyBytes > options.maxFrameBytes) {
    throw new GossipflError('wire', `update of ${bodyBytes} bytes exceeds the frame limit of ${options.maxFrameBytes} bytes; raise maxPayloadBytes on every peer`);
  }
  const stream = await libp2p.dialProtocol(peer, UPDATE_PROTOCOL, options.signal ? { signal: options.signal } : {});
  try {
    const ack = awaitAck(stream, options.signal);
    // If the write fails first, the ack's own rejection must not go unhandled.
    ack.catch(() => undefined);
    await writeAll(stream, [framePrefix(bodyBytes), ...parts], options.signal);
    const got = await ack;
    await stream.close().catch(() => undefined);
    return got;
  } catch (err) {
    stream.abort(asError(err));
    throw asError(err);
  }
}

async function writeAll(stream: Stream, parts: readonly Uint8Array[], signal: AbortSignal | undefined): Promise<void> {
  for (const part of parts) {
    for (let at = 0; at < part.byteLength; at += WRITE_SLICE_BYTES) {
      signal?.throwIfAborted();
      if (!stream.send(part.subarray(at, at + WRITE_SLICE_BYTES))) {
        await stream.onDrain(signal ? { signal } : {});
      }
    }
  }
}

function awaitAck(stream: Stream, signal: AbortSignal | undefined): Promise<AckMessage> {
  const reader = new FrameReader(MAX_ACK_BYTES);
  return new Promise<AckMessage>((resolve, reject) => {
    const done = (): void => {
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onMessage = (evt: StreamMessageEvent): void => {
      try {
        const frame = reader.push(evt.data);
        if (frame === null) return;
        const msg = decodeMessage(frame);
        if (msg.kind !== 'ack') throw new GossipflError('wire', `wire: expected an ack, got ${msg.kind}`);
        done();
        resolve(msg);
      } catch (err) {
        done();
        reject(asError(err));
      }
    };
    const onClose = (evt: StreamCloseEvent): void => {
      done();
      reject(new GossipflError('network', `update stream closed before the receiver's ack${evt.error ? `: ${errorMessage(evt.error)}` : ''}`));
    };
    const onAbort = (): void => {
      done();
      reject(asError(signal?.reason ?? new Error('aborted')));
    };
    stream.addEventListener('message', onMessage);
    stream.addEventListener('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** libp2p rejects some writes with a StreamResetEvent (an Event, not an Error): make every failure an Error. */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof Event !== 'undefined' && err instanceof Event) {
    const inner = (err as Event & { error?: unknown }).error;
    return new GossipflError('network', `stream ${err.type}${inner instanceof Error ? `: ${inner.message}` : ''}`, { cause: err });
  }
  return new Error(String(err));
}

export function errorMessage(err: unknown): string {
  return asError(err).message;
}
