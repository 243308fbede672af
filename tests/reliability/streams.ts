// Raw update-protocol streams from a hostile peer: a frame prefix that declares whatever the
// test says, a chosen number of body bytes, and then either silence or the end of the stream.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Stream } from '@libp2p/interface';
import { framePrefix, FrameReader } from '../../src/node/frame.js';
import { UPDATE_PROTOCOL } from '../../src/node/direct.js';
import { decodeMessage } from '../../src/node/wire.js';
import type { LivePair } from './live-pair.js';

export interface RawStream {
  readonly stream: Stream;
  /** The victim's ack (status and reason), or null if the stream ended without one. */
  readonly ack: Promise<Ack>;
}

export type Ack = { status: string; reason: string } | null;

/** The victim's ack on `stream` (status and reason), or null if the stream ends (or stays silent for `timeoutMs`) without one. */
export function ackOf(stream: Stream, timeoutMs = 15_000): Promise<Ack> {
  const reader = new FrameReader(4096);
  return new Promise<Ack>((settle) => {
    // A stream the victim reset while it was being opened is closed before we listen.
    if (stream.status !== 'open') return settle(null);
    const timer = setTimeout(() => resolve(null), timeoutMs);
    // Clear the timer once answered: a pending timer would keep the stream alive for its duration.
    const resolve = (a: Ack): void => {
      clearTimeout(timer);
      settle(a);
    };
    stream.addEventListener('message', (evt) => {
      try {
        const frame = reader.push(evt.data);
        if (frame === null) return;
        const msg = decodeMessage(frame);
        resolve(msg.kind === 'ack' ? { status: msg.status, reason: msg.reason } : { status: 'bad-answer', reason: msg.kind });
      } catch (err) {
        resolve({ status: 'bad-answer', reason: (err as Error).message });
      }
    });
    stream.addEventListener('close', () => resolve(null));
  });
}

/** Opens an update stream to the victim and writes a prefix declaring `declared` bytes, then `send` bytes of body. */
export async function openRawStream(pair: LivePair, declared: number, send: number): Promise<RawStream> {
  const stream = await pair.attacker.node.libp2p.dialProtocol(pair.victim.node.libp2p.peerId, UPDATE_PROTOCOL);
  const ack = ackOf(stream);
  ack.catch(() => undefined);
  // The victim may refuse and close the stream midway: then the attacker stops writing.
  const write = (b: Uint8Array): boolean | null => {
    try {
      return stream.send(b);
    } catch {
      return null;
    }
  };
  write(framePrefix(declared));
  const slice = new Uint8Array(Math.min(send, 256 * 1024)).fill(7);
  for (let sent = 0; sent < send; sent += slice.length) {
    const ok = write(slice.subarray(0, Math.min(slice.length, send - sent)));
    if (ok === null) break;
    if (!ok) await stream.onDrain().catch(() => undefined);
  }
  return { stream, ack };
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bytes of ArrayBuffers alive in this process after a full garbage collection. */
export function arrayBufferBytes(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** Heap bytes in use after a full garbage collection. */
export function heapBytes(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
