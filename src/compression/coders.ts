// Layer coders: how a pointwise method turns one tensor into a Section and back. A pointwise
// compressor is a coder applied layer by layer; error feedback wraps the whole thing.
import type { TensorSpec } from '../params/index.js';
import type { CompressionContext } from './context.js';
import { layerRng } from './context.js';
import { WireError } from './errors.js';
import { decodeHalf, encodeHalf } from './float16.js';
import { blockCount, sectionCount, type Coding, type Section } from './sections.js';
import type { MethodName, MethodParams } from './wire.js';

/** One tensor as a coder sees it: its spec and position. */
export interface LayerInfo {
  readonly spec: TensorSpec;
  /** Position of the tensor in the layout. */
  readonly index: number;
  readonly ctx: CompressionContext;
  /** Separates two compressions inside one message (EControl's Δ and ĥ). */
  readonly salt: number;
}

/** How a pointwise method turns one tensor into a section and back. */
export interface LayerCoder {
  readonly method: MethodName;
  /** Written to the message header; receivers check theirs are the same. */
  readonly params: MethodParams;
  /** Encodes one tensor and writes what the receiver will reconstruct into `decoded` (every value: it may hold an older round's). */
  encodeLayer(values: Float32Array, decoded: Float32Array, layer: LayerInfo): Section;
  /**
   * Encodes one tensor without its reconstruction (the same section as encodeLayer), where that
   * saves work: a sparsifier then need not write a dense layer of zeros.
   */
  encodeSection?(values: Float32Array, layer: LayerInfo): Section;
  /** Reconstructs one tensor into `out` (every value); throws a WireError when the section is not what this coder sends. */
  decodeLayer(section: Section, out: Float32Array, layer: LayerInfo): void;
}

/** Throws a WireError when a reconstruction overflowed float32 (finite inputs near the float32 limit). */
export function assertFiniteOutput(out: Float32Array, what: string): void {
  for (let i = 0; i < out.length; i++) {
    if (out[i] - out[i] !== 0) throw new WireError('non-finite', `${what} overflows float32 (the sender's values are near the float32 limit)`);
  }
}

/** Narrows a section to the expected coding and count, or throws a WireError naming the layer. */
export function expectSection<C extends Coding>(section: Section, coding: C, count: number, layer: LayerInfo): Extract<Section, { coding: C }> {
  const got = sectionCount(section);
  if (section.coding !== coding || got !== count) {
    throw new WireError('section', `layer '${layer.spec.name}' is ${section.coding} with ${got} values, expected ${coding} with ${count}`);
  }
  return section as Extract<Section, { coding: C }>;
}

/** Sends each tensor as it is (float32). */
export const identityCoder: LayerCoder = {
  method: 'identity',
  params: {},
  encodeSection: (values) => ({ coding: 'f32', values }),
  encodeLayer(values, decoded) {
    decoded.set(values);
    return { coding: 'f32', values };
  },
  decodeLayer(section, out, layer) {
    out.set(expectSection(section, 'f32', layer.spec.size, layer).values);
  },
};

/** Sends each tensor as float16. */
export const fp16Coder: LayerCoder = {
  method: 'fp16',
  params: {},
  encodeLayer(values, decoded) {
    const bits = new Uint16Array(values.length);
    encodeHalf(values, bits);
    decodeHalf(bits, decoded);
    return { coding: 'f16', bits };
  },
  decodeLayer(section, out, layer) {
    decodeHalf(expectSection(section, 'f16', layer.spec.size, layer).bits, out);
  },
};

/**
 * int8 with one scale per block of `blockSize` values (scale = max|v| / 127) and stochastic
 * rounding (q = ⌊v/scale + u⌋, u ~ U[0,1) from the sender's stream), so E[q·scale] = v.
 */
export function int8Coder(blockSize: number, seed: number): LayerCoder {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 65536) throw new RangeError(`int8 block size must be an integer in [1, 65536], got ${blockSize}`);
  return {
    method: 'int8',
    params: { blockSize, seed },
    encodeLayer(values, decoded, layer) {
      const n = values.length;
      const nb = blockCount(n, blockSize);
      const scales = new Float32Array(nb);
      const q = new Int8Array(n);
      const rng = layerRng(layer.ctx, 'int8-rounding', layer.index, true, layer.salt);
      for (let b = 0; b < nb; b++) {
        const lo = b * blockSize;
        const hi = Math.min(n, lo + blockSize);
        let max = 0;
        for (let i = lo; i < hi; i++) {
          const a = Math.abs(values[i]);
          if (a > max) max = a;
        }
        if (!Number.isFinite(max)) throw new RangeError(`int8: layer '${layer.spec.name}' contains NaN or Infinity`);
        const scale = Math.fround(max / 127);
        scales[b] = scale;
        if (scale === 0) {
          decoded.fill(0, lo, hi);
          continue;
        }
        const inv = 1 / scale;
        for (let i = lo; i < hi; i++) {
          let x = Math.floor(values[i] * inv + rng.next());
          x = x > 127 ? 127 : x < -127 ? -127 : x;
          q[i] = x;
          decoded[i] = x * scale;
        }
      }
      return { coding: 'int8', blockSize, scales, q };
    },
    decodeLayer(section, out, layer) {
      const s = expectSection(section, 'int8', layer.spec.size, layer);
      if (s.blockSize !== blockSize) throw new WireError('mismatch', `layer '${layer.spec.name}' uses int8 blocks of ${s.blockSize}, this peer uses ${blockSize}`);
      for (const scale of s.scales) {
        if (!Number.isFinite(Math.fround(127 * scale))) throw new WireError('non-finite', `layer '${layer.spec.name}' has an int8 scale that overflows float32`);
      }
      for (let i = 0; i < s.q.length; i++) out[i] = s.q[i] * s.scales[(i / blockSize) | 0];
    },
  };
}

/** 1 bit per value and one scale per layer: v ≈ sign(v)·‖v‖₁/n (zero counts as positive). */
export const signCoder: LayerCoder = {
  method: 'sign',
  params: {},
  encodeLayer(values, decoded) {
    const n = values.length;
    let l1 = 0;
    for (let i = 0; i < n; i++) l1 += Math.abs(values[i]);
    const scale = Math.fround(l1 / n);
    if (!Number.isFinite(scale)) throw new RangeError('sign: the update contains NaN or Infinity');
    const bits = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) {
      if (values[i] < 0) {
        bits[i >>> 3] |= 1 << (i & 7);
        decoded[i] = -scale;
      } else decoded[i] = scale;
    }
    return { coding: 'sign', count: n, scale, bits };
  },
  decodeLayer(section, out, layer) {
    const s = expectSection(section, 'sign', layer.spec.size, layer);
    for (let i = 0; i < s.count; i++) out[i] = (s.bits[i >>> 3] >>> (i & 7)) & 1 ? -s.scale : s.scale;
  },
};
