import { describe, expect, it } from 'vitest';
import { makeLayout } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import { crc32 } from '../../src/compression/crc32.js';
import { crc32Portable } from '../../src/compression/crc32.js';
import { fromHalfBits, toHalfBits } from '../../src/compression/float16.js';
import { WIRE_FORMAT_VERSION, WireError, decodeMessage, encodeMessage, maxMessageBytes, type WireMessage } from '../../src/compression/index.js';
import type { Section } from '../../src/compression/sections.js';
import { smallLayout } from './helpers.js';

const layout = smallLayout(); // sizes 384, 16, 48, 320

function sampleMessage(): WireMessage {
  const sections: Section[] = [
    { coding: 'sparse', indices: Uint32Array.from([0, 5, 200, 383]), values: Float32Array.from([1, -2, 3.5, 4]) },
    { coding: 'f32', values: Float32Array.from({ length: 16 }, (_, i) => i - 8) },
    { coding: 'int8', blockSize: 7, scales: Float32Array.from({ length: 7 }, (_, b) => b / 10), q: Int8Array.from({ length: 48 }, (_, i) => (i * 37) % 255 - 127) },
    { coding: 'sign', count: 320, scale: 0.25, bits: Uint8Array.from({ length: 40 }, (_, i) => (i * 91) & 0xff) },
  ];
  const second: Section[] = [{ coding: 'f16', bits: Uint16Array.from({ length: 384 }, (_, i) => toHalfBits(i / 7)) }, { coding: 'absent' }, { coding: 'absent' }, { coding: 'f32', values: new Float32Array(320) }];
  return { kind: 'update', method: 'top-k', sender: 7, round: 123456, phase: 2, params: { ratio: 0.01, seed: 42, sequence: 3 }, parts: [sections, second] };
}

function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).kind).toBe('wire');
    return (err as WireError).problem;
  }
  return 'accepted';
}

describe('crc32', () => {
  it('matches the standard check value and the portable implementation', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    const rng = new Rng(3);
    const data = Uint8Array.from({ length: 10_000 }, () => rng.int(256));
    expect(crc32(data)).toBe(crc32Portable(data));
  });
});

describe('float16', () => {
  it('is exact on representable values and rounds to nearest even', () => {
    for (const x of [0, 1, -1, 0.5, 65504, -65504, 2 ** -24, 2 ** -14, 1 + 2 ** -10]) expect(fromHalfBits(toHalfBits(x))).toBe(x);
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1); // tie → even
    expect(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 * 2 ** -10); // tie → even (up)
    expect(fromHalfBits(toHalfBits(1e6))).toBe(65504); // saturates instead of Infinity
    expect(fromHalfBits(toHalfBits(2 ** -26))).toBe(0);
  });
  it('keeps relative error within 2^-11 over the normal range', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 10_000; i++) {
      const x = Math.fround((rng.next() * 2 - 1) * 2 ** (rng.int(30) - 14));
      const y = fromHalfBits(toHalfBits(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25);
    }
  });
});

describe('wire codec', () => {
  it('round-trips every coding exactly', () => {
    const msg = sampleMessage();
    const bytes = encodeMessage(msg, layout);
    expect(bytes.length % 4).toBe(0);
    const back = decodeMessage(bytes, { layout, kind: 'update', method: 'top-k', sender: 7, round: 123456, phase: 2 });
    expect(back.params).toEqual(msg.params);
    expect(back.parts.length).toBe(2);
    back.parts.forEach((part, p) =>
      part.forEach((s, l) => {
        const want = msg.parts[p][l];
        expect(s.coding).toBe(want.coding);
        for (const key of ['values', 'indices', 'bits', 'scales', 'q'] as const) {
          if (key in want) expect(Array.from((s as unknown as Record<string, ArrayLike<number>>)[key])).toEqual(Array.from((want as unknown as Record<string, ArrayLike<number>>)[key]));
        }
      }),
    );
    // Unaligned input (a frame with a 1-byte prefix) decodes the same.
    const framed = new Uint8Array(bytes.length + 1);
    framed.set(bytes, 1);
    expect(decodeMessage(framed.subarray(1), { layout }).parts[0][1]).toEqual(back.parts[0][1]);
  });

  it('rejects every truncation', () => {
    const bytes = encodeMessage(sampleMessage(), layout);
    for (let n = 0; n < bytes.length; n++) {
      const problem = problemOf(() => decodeMessage(bytes.subarray(0, n), { layout }));
      expect(['truncated', 'checksum', 'section']).toContain(problem);
    }
  });

  it('rejects every single-bit flip', () => {
    const bytes = encodeMessage(sampleMessage(), layout);
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const bad = bytes.slice();
      bad[bit >>> 3] ^= 1 << (bit & 7);
      expect(problemOf(() => decodeMessage(bad, { layout }))).not.toBe('accepted');
    }
  });

  it('rejects oversized payloads before reading them', () => {
    const limit = maxMessageBytes(layout);
    expect(problemOf(() => decodeMessage(new Uint8Array(limit + 1), { layout }))).toBe('oversized');
    const bytes = encodeMessage(sampleMessage(), layout);
    expect(problemOf(() => decodeMessage(bytes, { layout }, { maxBytes: bytes.length - 1 }))).toBe('oversized');
    const padded = new Uint8Array(bytes.length + 4);
    padded.set(bytes.subarray(0, bytes.length - 4));
    expect(problemOf(() => decodeMessage(resealed(padded), { layout }))).toBe('section'); // trailing bytes
  });

  it('names the problem of well-sealed but invalid messages', () => {
    const with0 = (s0: Section) => {
      const msg = sampleMessage();
      return encodeMessage({ ...msg, parts: [[s0, ...msg.parts[0].slice(1)]] }, layout);
    };
    expect(problemOf(() => decodeMessage(with0({ coding: 'sparse', indices: Uint32Array.from([3, 384]), values: Float32Array.from([1, 2]) }), { layout }))).toBe('index');
    expect(problemOf(() => decodeMessage(with0({ coding: 'sparse', indices: Uint32Array.from([3, 3]), values: Float32Array.from([1, 2]) }), { layout }))).toBe('index');
    expect(problemOf(() => decodeMessage(with0({ coding: 'sparse', indices: Uint32Array.from([3]), values: Float32Array.from([NaN]) }), { layout }))).toBe('non-finite');
    expect(problemOf(() => decodeMessage(with0({ coding: 'f16', bits: new Uint16Array(384).fill(0x7c00) }), { layout }))).toBe('non-finite');
    expect(problemOf(() => decodeMessage(with0({ coding: 'int8', blockSize: 384, scales: Float32Array.from([1]), q: new Int8Array(384).fill(-128) }), { layout }))).toBe('section');
    expect(problemOf(() => decodeMessage(with0({ coding: 'f32', values: new Float32Array(385) }), { layout }))).toBe('section');
    const other = makeLayout([{ name: 'fc1.w', shape: [24, 16] }, ...layout.tensors.slice(1).map((t) => ({ name: t.name, shape: t.shape }))]);
    const bytes = encodeMessage(sampleMessage(), layout);
    expect(problemOf(() => decodeMessage(bytes, { layout: other }))).toBe('layout');
    expect(problemOf(() => decodeMessage(bytes, { layout, sender: 8 }))).toBe('mismatch');
    expect(problemOf(() => decodeMessage(bytes, { layout, round: 1 }))).toBe('mismatch');
    expect(problemOf(() => decodeMessage(bytes, { layout, method: 'rand-k' }))).toBe('mismatch');
    expect(problemOf(() => decodeMessage(bytes, { layout }, { maxParts: 1 }))).not.toBe('accepted');
    const next = bytes.slice();
    next[4] = WIRE_FORMAT_VERSION + 1;
    expect(problemOf(() => decodeMessage(resealed(next), { layout }))).toBe('header');
  });

  it('refuses version-1 payloads (rand-k drew other indices then), naming both versions', () => {
    expect(WIRE_FORMAT_VERSION).toBe(2);
    const v1 = encodeMessage(sampleMessage(), layout);
    v1[4] = 1;
    expect(() => decodeMessage(resealed(v1), { layout })).toThrow(/format version 1 is not supported \(this build reads version 2 only\); upgrade the sender/);
    expect(problemOf(() => decodeMessage(resealed(v1), { layout }))).toBe('header');
  });

  it('the error message says what is wrong', () => {
    const bytes = encodeMessage(sampleMessage(), layout);
    bytes[100] ^= 0xff;
    expect(() => decodeMessage(bytes, { layout })).toThrow(/CRC32/);
  });
});
