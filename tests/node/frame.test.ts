import { describe, expect, it } from 'vitest';
import { ADOPT_MIN_BYTES, FrameReader, framePrefix, STAGING_BYTES } from '../../src/node/frame.js';
import { Rng } from '../../src/util/rng.js';

function frame(body: number[]): Uint8Array {
  return Uint8Array.from([...framePrefix(body.length), ...body]);
}

describe('FrameReader', () => {
  it('reassembles a frame split at every possible point', () => {
    const f = frame([5, 6, 7, 8, 9]);
    for (let cut = 0; cut <= f.length; cut++) {
      const r = new FrameReader(16);
      const first = r.push(f.subarray(0, cut));
      const second = r.push(f.subarray(cut));
      expect(first ?? second).toEqual(Uint8Array.from([5, 6, 7, 8, 9]));
      expect(first !== null && second !== null).toBe(false);
      expect(r.received).toBe(f.length);
    }
  });

  it('reads a list of chunks (as Uint8ArrayList delivers them) byte by byte', () => {
    const f = frame([1, 2, 3]);
    const r = new FrameReader(3);
    expect(r.push([...f].map((b) => Uint8Array.of(b)))).toEqual(Uint8Array.from([1, 2, 3]));
  });

  it('refuses a frame over the limit as soon as the prefix is in', () => {
    const r = new FrameReader(4);
    expect(() => r.push(framePrefix(5))).toThrow(/frame of 5 bytes exceeds the limit of 4 bytes/);
  });

  it('refuses bytes after the frame', () => {
    const r = new FrameReader(8);
    expect(() => r.push(Uint8Array.from([...frame([1]), 2]))).toThrow(/after the end of the frame/);
    const r2 = new FrameReader(8);
    expect(r2.push(frame([1]))).toEqual(Uint8Array.of(1));
    expect(() => r2.push(Uint8Array.of(0))).toThrow(/after the end of the frame/);
  });

  it('handles an empty frame', () => {
    expect(new FrameReader(0).push(framePrefix(0))).toEqual(new Uint8Array(0));
  });

  it('returns exactly the body for random chunkings of small, large, view and list chunks', () => {
    const rng = new Rng(7);
    for (const length of [1, 70, STAGING_BYTES, STAGING_BYTES + 1, 300_000]) {
      for (let trial = 0; trial < 3; trial++) {
        const body = Uint8Array.from({ length }, () => rng.int(256));
        const wire = new Uint8Array(4 + length);
        wire.set(framePrefix(length));
        wire.set(body, 4);
        const r = new FrameReader(length);
        let out: Uint8Array | null = null;
        for (let at = 0; at < wire.length; ) {
          const n = Math.min(wire.length - at, [1, 3, 4095, ADOPT_MIN_BYTES, 20_000, 100_000][rng.int(6)]);
          const bytes = wire.subarray(at, at + n);
          const how = rng.int(3);
          // Own buffer (kept), a small view of a large buffer (copied), or a list of two parts.
          const chunk = how === 0 ? bytes.slice() : how === 1 ? bytes : [bytes.slice(0, n >> 1), bytes.slice(n >> 1)];
          const got = r.push(chunk);
          at += n;
          if (got) out = got;
          expect(got !== null).toBe(at === wire.length);
        }
        expect(out !== null && Buffer.compare(out, body) === 0).toBe(true);
      }
    }
  });

  it('holds at most twice the body bytes received plus one staging block, whatever the chunks', () => {
    const length = 4 << 20;
    const big = new Uint8Array(1 << 20);
    const kinds: Array<(n: number) => Uint8Array> = [
      () => Uint8Array.of(9), // one byte at a time
      () => big.subarray(0, ADOPT_MIN_BYTES), // small views of a large buffer
      (n) => new Uint8Array(n), // chunks that own their buffer
    ];
    for (const make of kinds) {
      const r = new FrameReader(length);
      r.push(framePrefix(length));
      expect(r.allocated).toBe(0);
      let body = 0;
      for (let i = 0; i < 3000 && body < length / 2; i++) {
        const chunk = make(Math.min(20_000, length - body));
        r.push(chunk);
        body += chunk.byteLength;
        expect(r.allocated).toBeLessThanOrEqual(2 * body + STAGING_BYTES);
      }
    }
  });

  it('has the final buffer once half the body is in, then fills it in place', () => {
    const r = new FrameReader(100_000);
    r.push(framePrefix(100_000));
    r.push(new Uint8Array(40_000).fill(1));
    expect(r.allocated).toBe(40_000);
    r.push(new Uint8Array(10_000).fill(2));
    expect(r.allocated).toBe(100_000);
    const last = new Uint8Array(50_000).fill(3);
    const frame = r.push(last)!;
    expect([frame[0], frame[39_999], frame[40_000], frame[49_999], frame[50_000], frame[99_999]]).toEqual([1, 1, 2, 2, 3, 3]);
    expect(r.allocated).toBe(100_000);
  });

  it('returns a plain Uint8Array that shares no memory with the chunks it was given', () => {
    const body = new Uint8Array(200_000).fill(5);
    const first = body.slice(0, 150_000);
    const r = new FrameReader(body.length);
    r.push(framePrefix(body.length));
    r.push(first);
    const frame = r.push(body.slice(150_000))!;
    first.fill(0);
    expect(frame.every((b) => b === 5)).toBe(true);
    expect(Object.getPrototypeOf(frame)).toBe(Uint8Array.prototype);
  });
});
