// Length-prefixed frames for the direct update protocol: u32 big-endian length, then that many
// bytes. The reader rejects a length over its limit before buffering anything and holds only
// what actually arrives: a peer that declares a large frame and sends little makes us hold
// little. Until half of the body is in, chunks are kept as the stream hands them over (no
// copy; small ones are packed into a staging block, so that many tiny chunks or small views of
// large buffers cannot make us hold much more than what arrived). From half on, the body's
// final buffer exists (at most twice what arrived) and chunks are copied into it as they come,
// so the one copy of the payload overlaps with the transfer instead of following it.
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

/** Chunks at least this long that fill at least half of their buffer are kept as they are. */
export const ADOPT_MIN_BYTES = 4096;
/** Smaller chunks are copied into staging blocks of this size; a frame no longer than this gets its final buffer at once. */
export const STAGING_BYTES = 64 * 1024;

/** Chunks as streams deliver them: a Uint8Array or a list of them (Uint8ArrayList iterates its parts). */
export type Chunk = Uint8Array | Iterable<Uint8Array>;

/** Reads exactly one frame from a byte stream; bytes after it are an error (one frame per stream). */
export class FrameReader {
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  private prefixHave = 0;
  /** Declared body length, once the prefix is in. */
  private length = -1;
  private bodyHave = 0;
  private done = false;
  /** Before the final buffer: body bytes so far, in order, and the memory they keep alive. */
  private parts: Uint8Array[] = [];
  private partsHeld = 0;
  private staging: Uint8Array | null = null;
  private stagingUsed = 0;
  /** The body's buffer, once half of it (or all of a small frame) has arrived. */
  private body: Uint8Array | null = null;

  constructor(private readonly maxBodyBytes: number) {}

  /** The body length the prefix declared, or -1 before the prefix is in. */
  get declared(): number {
    return this.length;
  }

  /** Bytes of the frame received so far, prefix included. */
  get received(): number {
    return this.prefixHave + this.bodyHave;
  }

  /** Bytes of body memory held now (about twice what arrived at most, or one staging block). */
  get allocated(): number {
    return this.body?.byteLength ?? this.partsHeld + (this.staging?.byteLength ?? 0);
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
    const rest = at === 0 ? part : part.subarray(at);
    if (rest.byteLength > this.length - this.bodyHave) throw frameError('bytes after the end of the frame');
    if (this.body === null && rest.byteLength > 0 && (this.length <= STAGING_BYTES || 2 * (this.bodyHave + rest.byteLength) >= this.length)) {
      this.body = this.gather();
    }
    if (this.body !== null) this.body.set(rest, this.bodyHave);
    else if (rest.byteLength >= ADOPT_MIN_BYTES && rest.byteLength * 2 >= rest.buffer.byteLength) {
      this.flushStaging(); // staged bytes came first
      this.keep(rest, rest.buffer.byteLength);
    } else this.stage(rest);
    this.bodyHave += rest.byteLength;
    if (this.bodyHave === this.length && !this.done) {
      this.done = true;
      // Only an empty frame gets here without a body buffer.
      return this.body ?? new Uint8Array(0);
    }
    return null;
  }

  private keep(bytes: Uint8Array, held: number): void {
    this.parts.push(bytes);
    this.partsHeld += held;
  }

  /** Copies a small chunk into the staging block, starting a new block when one fills up. */
  private stage(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) {
      if (this.staging === null) {
        this.staging = new Uint8Array(Math.min(STAGING_BYTES, this.length - this.bodyHave - at));
        this.stagingUsed = 0;
      }
      const n = Math.min(this.staging.byteLength - this.stagingUsed, bytes.byteLength - at);
      this.staging.set(bytes.subarray(at, at + n), this.stagingUsed);
      this.stagingUsed += n;
      at += n;
      if (this.stagingUsed === this.staging.byteLength) this.flushStaging();
    }
  }

  /** Moves the staged bytes into the parts; a block less than half used is cut to size first. */
  private flushStaging(): void {
    const s = this.staging;
    if (s === null) return;
    this.staging = null;
    if (this.stagingUsed * 2 >= s.byteLength) this.keep(s.subarray(0, this.stagingUsed), s.byteLength);
    else if (this.stagingUsed > 0) this.keep(s.slice(0, this.stagingUsed), this.stagingUsed);
  }

  /** Allocates the body's final buffer and moves what arrived so far into it. */
  private gather(): Uint8Array {
    this.flushStaging();
    // Not zero-filled: every byte is written before the frame is returned. A plain Uint8Array
    // view, not a Buffer, so that `slice` copies as callers expect.
    const raw = Buffer.allocUnsafeSlow(this.length);
    const body = new Uint8Array(raw.buffer, raw.byteOffset, this.length);
    let at = 0;
    for (const p of this.parts) {
      body.set(p, at);
      at += p.byteLength;
    }
    this.parts = [];
    this.partsHeld = 0;
    return body;
  }
}

function frameError(what: string): GossipflError {
  return new GossipflError('wire', `frame: ${what}`);
}
