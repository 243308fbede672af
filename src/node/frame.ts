// Length-prefixed frames for the direct update protocol: u32 big-endian length, then that many
// bytes. The reader rejects a length over its limit before buffering anything, and grows its
// buffer with the bytes that actually arrive (doubling, capped at the declared length): a peer
// that declares a large frame and sends little makes us hold little.
import { GossipflError } from '../util/errors.js';

export const FRAME_PREFIX_BYTES = 4;
/** A u32 length prefix cannot say more. */
export const MAX_FRAME_BYTES = 0xffff_ffff;

/** The prefix of a frame whose body is `bodyBytes` long. */
export function framePrefix(bodyBytes: number): Uint8Array {
  if (!Number.isInteger(bodyBytes) || bodyBytes < 0 || bodyBytes > MAX_FRAME_BYTES) {
    throw new RangeError(`frame: body of ${bodyBytes} bytes cannot be framed (0 to ${MAX_FRAME_BYTES})`);
  }
  const p = new Uint8Array(FRAME_PREFIX_BYTES);
  new DataView(p.buffer).setUint32(0, bodyBytes);
  return p;
}

/** First buffer size of a frame body; it doubles as bytes arrive. */
const INITIAL_BODY_BYTES = 64 * 1024;

/** Chunks as streams deliver them: a Uint8Array or a list of them (Uint8ArrayList iterates its parts). */
export type Chunk = Uint8Array | Iterable<Uint8Array>;

/** Reads exactly one frame from a byte stream; bytes after it are an error (one frame per stream). */
export class FrameReader {
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  private prefixHave = 0;
  /** Declared body length, once the prefix is in. */
  private length = -1;
  private body = new Uint8Array(0);
  private bodyHave = 0;
  private done = false;

  constructor(private readonly maxBodyBytes: number) {}

  /** Bytes of the frame received so far, prefix included. */
  get received(): number {
    return this.prefixHave + this.bodyHave;
  }

  /** Bytes of body buffer held now (at most twice what arrived, or the initial 64 KiB). */
  get allocated(): number {
    return this.body.byteLength;
  }

  /** Consumes a chunk; returns the frame's body once complete, null while more is needed. */
  push(chunk: Chunk): Uint8Array | null {
    const parts = chunk instanceof Uint8Array ? [chunk] : chunk;
    let out: Uint8Array | null = null;
    for (const part of parts) {
      const got = this.pushPart(part);
      if (got) out = got;
    }
    return out;
  }

  private pushPart(part: Uint8Array): Uint8Array | null {
    let at = 0;
    if (part.byteLength > 0 && this.done) throw frameError('bytes after the end of the frame');
    if (this.length < 0) {
      const take = Math.min(FRAME_PREFIX_BYTES - this.prefixHave, part.byteLength);
      this.prefix.set(part.subarray(0, take), this.prefixHave);
      this.prefixHave += take;
      at = take;
      if (this.prefixHave < FRAME_PREFIX_BYTES) return null;
      const length = new DataView(this.prefix.buffer).getUint32(0);
      if (length > this.maxBodyBytes) {
        throw frameError(`frame of ${length} bytes exceeds the limit of ${this.maxBodyBytes} bytes (raise the model size limit on the receiver if the model really is that large)`);
      }
      this.length = length;
    }
    const rest = part.subarray(at);
    if (rest.byteLength > this.length - this.bodyHave) throw frameError('bytes after the end of the frame');
    this.reserve(this.bodyHave + rest.byteLength);
    this.body.set(rest, this.bodyHave);
    this.bodyHave += rest.byteLength;
    if (this.bodyHave === this.length && !this.done) {
      this.done = true;
      return this.body.byteLength === this.length ? this.body : this.body.slice(0, this.length);
    }
    return null;
  }

  /** Grows the body buffer to hold `need` bytes: doubling, never past the declared length. */
  private reserve(need: number): void {
    if (need <= this.body.byteLength) return;
    let size = Math.max(this.body.byteLength, Math.min(INITIAL_BODY_BYTES, this.length));
    while (size < need) size = Math.min(size * 2, this.length);
    const next = new Uint8Array(size);
    next.set(this.body.subarray(0, this.bodyHave));
    this.body = next;
  }
}

function frameError(what: string): GossipflError {
  return new GossipflError('wire', `frame: ${what}`);
}
