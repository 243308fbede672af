// IEEE 754 binary16 conversion (Node 20 has no Float16Array). Round to nearest, ties to even;
// values beyond the half range saturate to ±65504 rather than becoming ±Infinity, because a
// non-finite value would fail validation at the receiver.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export const FLOAT16_MAX = 65504;

/** One float32 → binary16 bits. */
export function toHalfBits(x: number): number {
  f32[0] = x;
  return halfFromFloatBits(u32[0]);
}

/** binary16 bits of the float32 whose raw bits are `bits`. */
function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 : sign | 0x7bff; // NaN stays NaN; ±Inf saturates
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff; // overflow → ±65504
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in, then round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent; a carry into exponent 31 saturates.
  const rounded = rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half;
  return sign | (rounded >= 0x7c00 ? 0x7bff : rounded);
}

/** binary16 bits → number (exact). */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A lookup table of all 65536 half values as float32, built once on first use. */
let decodeTable: Float32Array | undefined;
function table(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) decodeTable[h] = fromHalfBits(h);
  }
  return decodeTable;
}

export function encodeHalf(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const n = values.length;
  for (let i = 0; i < n; i++) out[i] = halfFromFloatBits(bits[i]);
}

export function decodeHalf(bits: Uint16Array, out: Float32Array): void {
  const t = table();
  const n = bits.length;
  for (let i = 0; i < n; i++) out[i] = t[bits[i]];
}

/** True when the bits encode a finite half (exponent field not all ones). */
export function isFiniteHalf(h: number): boolean {
  return (h & 0x7c00) !== 0x7c00;
}
