// Length-prefixed frames for the direct update protocol: u32 big-endian length, then that many
// bytes. The reader allocates the frame once its length is known and rejects a length over
// its limit before buffering anything, so a peer cannot make us hold more than the limit.
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

/** Chunks as streams deliver them: a Uint8Array or a list of them (Uint8ArrayList iterates its parts). */
export type Chunk = Uint8Array | Iterable<Uint8Array>;

/** Reads exactly one frame from a byte stream; bytes after it are an error (one frame per stream). */
export class FrameReader {
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  private prefixHave = 0;
  private body: Uint8Array | null = null;
  private bodyHave = 0;
  private done = false;

  constructor(private readonly maxBodyBytes: number) {}

  /** Bytes of the frame received so far, prefix included. */
  get received(): number {
    return this.prefixHave + this.bodyHave;
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
    if (this.body === null) {
      const take = Math.min(FRAME_PREFIX_BYTES - this.prefixHave, part.byteLength);
      this.prefix.set(part.subarray(0, take), this.prefixHave);
      this.prefixHave += take;
      at = take;
      if (this.prefixHave < FRAME_PREFIX_BYTES) return null;
      const length = new DataView(this.prefix.buffer).getUint32(0);
      if (length > this.maxBodyBytes) {
        throw frameError(`frame of ${length} bytes exceeds the limit of ${this.maxBodyBytes} bytes (raise the model size limit on the receiver if the model really is that large)`);
      }
      this.body = new Uint8Array(length);
    }
    const rest = part.subarray(at);
    const room = this.body.byteLength - this.bodyHave;
    if (rest.byteLength > room) throw frameError('bytes after the end of the frame');
    this.body.set(rest, this.bodyHave);
    this.bodyHave += rest.byteLength;
    if (this.bodyHave === this.body.byteLength && !this.done) {
      this.done = true;
      return this.body;
    }
    return null;
  }
}

function frameError(what: string): GossipflError {
  return new GossipflError('wire', `frame: ${what}`);
}
