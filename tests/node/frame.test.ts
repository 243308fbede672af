import { describe, expect, it } from 'vitest';
import { FrameReader, framePrefix } from '../../src/node/frame.js';

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
});
