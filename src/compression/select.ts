// O(n) index selection for sparsifiers. Top-k avoids a full sort. Magnitudes are compared as
// the float bits of |v| (order-preserving for non-negative floats). Usually one pass: a
// threshold estimated from an evenly spaced sample collects a few more than k candidates and a
// quickselect among them settles the exact top k. When the sample misleads, two passes: a
// histogram over the top 16 bits finds the bin holding the k-th largest, a second pass collects
// the entries above and in it, and a quickselect settles the bin. Indices come out ascending,
// which is what the delta-coded wire format wants.
import { InputError } from '../util/errors.js';

const BINS = 1 << 16;
const FIRST_NON_FINITE_BIN = 0x7f800000 >>> 15;

/** Ascending indices of the k entries of largest |v| (ties at the threshold go to the lowest indices). */
export function topKIndices(v: Float32Array, k: number): Uint32Array {
  const n = v.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`top-k: k must be an integer in [0, ${n}], got ${k}`);
  if (k === 0) return new Uint32Array(0);
  const bits = new Uint32Array(v.buffer, v.byteOffset, n);
  // Small layers: a quickselect over all magnitudes beats clearing a 64 Ki-bin histogram.
  if (n <= SMALL) return selectAbove(bits, Uint32Array.from({ length: n }, (_, i) => i), k);
  return sampledTopK(bits, k) ?? histogramTopK(bits, k);
}

/**
 * One pass instead of two: estimate a threshold a little below the k-th largest magnitude
 * from an evenly spaced sample, collect everything at or above it, and select exactly among
 * those. Returns undefined (and the caller falls back to the histogram) when the estimate
 * collected too few or too many.
 */
function sampledTopK(bits: Uint32Array, k: number): Uint32Array | undefined {
  const n = bits.length;
  const samples = Math.min(n, 1 << 16);
  const stride = n / samples;
  const mags = new Uint32Array(samples);
  for (let j = 0; j < samples; j++) mags[j] = bits[Math.floor(j * stride)] & 0x7fffffff;
  const target = Math.min(n, Math.ceil(k * 1.15 + 64));
  const pos = Math.ceil((target / n) * samples);
  if (pos >= samples) return undefined;
  const threshold = kthLargest(mags, pos);
  const capacity = Math.min(n, 2 * target + 4096);
  const cand = new Uint32Array(capacity);
  let w = 0;
  for (let i = 0; i < n; i++) {
    if ((bits[i] & 0x7fffffff) >= threshold) {
      if (w === capacity) return undefined;
      cand[w++] = i;
    }
  }
  if (w < k) return undefined;
  return selectAbove(bits, cand.subarray(0, w), k);
}

/** Two passes: a 64 Ki-bin histogram of the magnitudes' top bits, then collection and an exact pick in the threshold bin. */
function histogramTopK(bits: Uint32Array, k: number): Uint32Array {
  const n = bits.length;
  const hist = new Uint32Array(BINS);
  for (let i = 0; i < n; i++) hist[(bits[i] & 0x7fffffff) >>> 15]++;
  for (let b = FIRST_NON_FINITE_BIN; b < BINS; b++) {
    if (hist[b]) throw nonFinite();
  }
  let above = 0;
  let bin = BINS - 1;
  while (above + hist[bin] < k) above += hist[bin--];
  const need = k - above;
  const out = new Uint32Array(k);
  if (need === hist[bin]) {
    // The whole threshold bin is in: one pass, already in index order.
    let w = 0;
    for (let i = 0; i < n; i++) if ((bits[i] & 0x7fffffff) >>> 15 >= bin) out[w++] = i;
    return out;
  }
  const sure = new Uint32Array(above);
  const cand = new Uint32Array(hist[bin]);
  let ws = 0;
  let wc = 0;
  for (let i = 0; i < n; i++) {
    const key = (bits[i] & 0x7fffffff) >>> 15;
    if (key > bin) sure[ws++] = i;
    else if (key === bin) cand[wc++] = i;
  }
  const chosen = selectAbove(bits, cand, need);
  // Merge the sure entries with the chosen candidates, both ascending.
  let w = 0;
  let s = 0;
  for (let j = 0; j < chosen.length; j++) {
    const idx = chosen[j];
    while (s < ws && sure[s] < idx) out[w++] = sure[s++];
    out[w++] = idx;
  }
  while (s < ws) out[w++] = sure[s++];
  return out;
}

const SMALL = 4096;

function nonFinite(): InputError {
  return new InputError('top-k: the update contains NaN or Infinity; check the learning rate and the loss');
}

/** The `need` candidates (ascending indices into bits) of largest magnitude, ties to the lowest index; keeps their order. */
function selectAbove(bits: Uint32Array, cand: Uint32Array, need: number): Uint32Array {
  const wc = cand.length;
  const mags = new Uint32Array(wc);
  for (let j = 0; j < wc; j++) {
    mags[j] = bits[cand[j]] & 0x7fffffff;
    if (mags[j] >= 0x7f800000) throw nonFinite();
  }
  const threshold = kthLargest(mags.slice(), need);
  let quota = need;
  for (let j = 0; j < wc; j++) if (mags[j] > threshold) quota--;
  const out = new Uint32Array(need);
  let w = 0;
  for (let j = 0; j < wc; j++) {
    const m = mags[j];
    if (m > threshold || (m === threshold && quota-- > 0)) out[w++] = cand[j];
  }
  return out;
}

/** The k-th largest value (1-based) of `a`, reordering `a` in place (iterative quickselect, median of three). */
export function kthLargest(a: Uint32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // position in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * k distinct indices of [0, n), ascending, drawn uniformly by Floyd's algorithm with a bitmap
 * (O(k) draws, n/8 bytes), then read out in order from the bitmap.
 */
export function sampleSortedIndices(next: (bound: number) => number, n: number, k: number): Uint32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`rand-k: k must be an integer in [0, ${n}], got ${k}`);
  const words = new Uint32Array(Math.ceil(n / 32));
  for (let j = n - k; j < n; j++) {
    let t = next(j + 1);
    if (words[t >>> 5] & (1 << (t & 31))) t = j;
    words[t >>> 5] |= 1 << (t & 31);
  }
  const out = new Uint32Array(k);
  let o = 0;
  for (let w = 0; w < words.length; w++) {
    let word = words[w];
    while (word !== 0) {
      const low = word & -word;
      out[o++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
  return out;
}

/** Ascending positions of the k largest scores (ties go to the lower position); for short score lists (rows, basis vectors). */
export function topScores(scores: Float64Array, k: number): Uint32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return Uint32Array.from(order.slice(0, k)).sort();
}
