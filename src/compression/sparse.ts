// Sparsifying coders. Top-k sends (index, value) pairs of the k largest magnitudes per layer;
// rand-k sends only the values at k indices both sides draw from the shared seed.
// k = ⌈ratio·n⌉ per layer (at least 1), so every layer keeps at least the ratio and
// ‖C(v) − v‖² ≤ (1 − ratio)‖v‖² holds for the whole update.
import { expectSection, type LayerCoder, type LayerInfo } from './coders.js';
import { layerSeed } from './context.js';
import { InputError } from '../util/errors.js';
import { WireError } from './errors.js';
import { keepCount } from './layers.js';
import { deltaVarintBytes, type Section } from './sections.js';
import { sampleSortedIndices, topK } from './select.js';

/** Values zeroed per block before that block's kept values are written (64 KiB: the block is still in cache for them). */
const SCATTER_BLOCK = 16384;

/**
 * out = 0 except out[indices[j]] = gain·values[j] (float32; indices strictly increasing). Zeroing
 * block by block and writing each block's values right after keeps those scattered writes in
 * cache; a whole-array fill followed by the scatter costs a cache miss per kept value. Returns
 * false if a scaled value overflowed float32.
 */
function zeroAndScatter(out: Float32Array, indices: Uint32Array, values: Float32Array, gain: number): boolean {
  const n = out.length;
  const k = indices.length;
  let finite = true;
  let j = 0;
  for (let start = 0; start < n; start += SCATTER_BLOCK) {
    const end = Math.min(n, start + SCATTER_BLOCK);
    out.fill(0, start, end);
    for (; j < k && indices[j] < end; j++) {
      const x = Math.fround(gain * values[j]);
      if (x - x !== 0) finite = false;
      out[indices[j]] = x;
    }
  }
  return finite;
}

function checkRatio(method: string, ratio: number): void {
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`${method}: ratio must be in (0, 1], got ${ratio}`);
}

/** Top-k: keeps the largest-magnitude fraction `ratio` of each tensor's entries. */
export function topKCoder(ratio: number): LayerCoder {
  checkRatio('top-k', ratio);
  const encodeSection = (values: Float32Array): Section => {
    const n = values.length;
    const k = keepCount(ratio, n);
    const { indices, values: kept } = topK(values, k);
    // Dense when (index, value) pairs would not be smaller than the plain floats. Gaps take at
    // most 5 bytes, so below k = 4n/9 the pairs are smaller without counting their bytes (the
    // wire encoder counts them once more).
    if (9 * k >= 4 * n && 4 * k + deltaVarintBytes(indices) >= 4 * n) return { coding: 'f32', values };
    return { coding: 'sparse', indices, values: kept };
  };
  return {
    method: 'top-k',
    params: { ratio },
    encodeSection,
    encodeLayer(values, decoded) {
      const section = encodeSection(values);
      if (section.coding === 'sparse') zeroAndScatter(decoded, section.indices, section.values, 1);
      else decoded.set(values);
      return section;
    },
    decodeLayer(section, out, layer) {
      const n = layer.spec.size;
      if (section.coding === 'f32') {
        out.set(expectSection(section, 'f32', n, layer).values);
        return;
      }
      const s = expectSection(section, 'sparse', keepCount(ratio, n), layer);
      zeroAndScatter(out, s.indices, s.values, 1);
    },
  };
}

/** The indices both sides draw for a rand-k layer (per sender, round, layer). */
export function randKIndices(layer: LayerInfo, k: number): Uint32Array {
  return sampleSortedIndices(layerSeed(layer.ctx, 'rand-k', layer.index, true, layer.salt), layer.spec.size, k);
}

/** Rand-k; `unbiased` scales the kept values by n/k so that E[C(v)] = v. */
export function randKCoder(ratio: number, unbiased: boolean, seed: number): LayerCoder {
  checkRatio('rand-k', ratio);
  const gain = (n: number, k: number) => (unbiased ? n / k : 1);
  const overflow = (layer: LayerInfo) => new InputError(`rand-k: layer '${layer.spec.name}' overflows float32 when scaled by n/k`);
  /** The kept values (and their indices, null when every value is kept). */
  const select = (values: Float32Array, layer: LayerInfo): { kept: Float32Array; indices: Uint32Array | null } => {
    const n = values.length;
    const k = keepCount(ratio, n);
    if (k === n) return { kept: values, indices: null };
    const indices = randKIndices(layer, k);
    const kept = new Float32Array(k);
    for (let j = 0; j < k; j++) kept[j] = values[indices[j]];
    return { kept, indices };
  };
  return {
    method: unbiased ? 'rand-k-unbiased' : 'rand-k',
    params: { ratio, seed },
    encodeSection(values, layer) {
      const { kept, indices } = select(values, layer);
      // The receiver refuses a value that overflows when scaled: never send one.
      if (indices && unbiased && !scaledFinite(kept, gain(values.length, kept.length))) throw overflow(layer);
      return { coding: 'f32', values: kept };
    },
    encodeLayer(values, decoded, layer) {
      const { kept, indices } = select(values, layer);
      if (!indices) decoded.set(values);
      else if (!zeroAndScatter(decoded, indices, kept, gain(values.length, kept.length))) throw overflow(layer);
      return { coding: 'f32', values: kept };
    },
    decodeLayer(section: Section, out, layer) {
      const n = layer.spec.size;
      const k = keepCount(ratio, n);
      const s = expectSection(section, 'f32', k, layer);
      if (k === n) {
        out.set(s.values);
        return;
      }
      if (!zeroAndScatter(out, randKIndices(layer, k), s.values, gain(n, k))) {
        throw new WireError('non-finite', `layer '${layer.spec.name}' overflows when scaled by n/k`);
      }
    },
  };
}

/** Whether gain·v stays finite in float32 for every value (as zeroAndScatter computes it). */
function scaledFinite(values: Float32Array, gain: number): boolean {
  for (let j = 0; j < values.length; j++) {
    const x = Math.fround(gain * values[j]);
    if (x - x !== 0) return false;
  }
  return true;
}
