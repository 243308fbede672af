// O(n) index selection for sparsifiers. Top-k avoids a full sort. Magnitudes are compared as
// the float bits of |v| (order-preserving for non-negative floats; NaN and ±Infinity sort above
// every finite value). One pass: a threshold estimated from an evenly spaced sample, a little
// below the k-th largest magnitude, keeps a few more than k candidates (the SIMD threshold
// scan); a quickselect among them settles the exact top k. When the candidates fill their
// buffer (the sample was too low), the buffer is cut to the top k of what was seen so far and
// the threshold raised to just above the k-th of those, so the pass goes on exact. When the
// sample was too high (fewer than k candidates), a second pass starts from threshold 0.
// Indices come out ascending, which is what the delta-coded wire format wants.
import { InputError } from '../util/errors.js';
import { thresholdScanner, type ThresholdScanner } from './threshold-scan.js';

/** A float's bits without the sign. (A local constant: hot loops should not read imported bindings.) */
const MAGNITUDE_MASK = 0x7fffffff;
/** Magnitude bits of +Infinity: every value at or above it is NaN or ±Infinity. */
const NON_FINITE = 0x7f800000;
/** Candidates beyond 2k the buffer has room for, so that a cut keeps the pass going for a while. */
const ROOM = 16384;
/** Values sampled for the starting threshold (a multiple of SAMPLE_RUN). */
const SAMPLES = 1 << 15;
/** Consecutive values per sampled place: 16 floats, one 64-byte cache line when aligned. */
const SAMPLE_RUN = 16;
/** Below this much room (and with more than k candidates), cut the buffer before scanning on. */
const MIN_ROOM = 1024;

/** Ascending indices of the k entries of largest |v| (ties at the threshold go to the lowest indices). */
export function topKIndices(v: Float32Array, k: number): Uint32Array {
  return topK(v, k).indices;
}

/** The top k of v as topKIndices picks them, with their values (bit for bit). */
export function topK(v: Float32Array, k: number): { indices: Uint32Array; values: Float32Array } {
  const n = v.length;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`top-k: k must be an integer in [0, ${n}], got ${k}`);
  if (k === 0) return { indices: new Uint32Array(0), values: new Float32Array(0) };
  const scanner = thresholdScanner();
  const capacity = Math.min(n, 2 * k + ROOM);
  scanner.reserve(capacity);
  // Where every entry fits in the buffer (small layers), a sample would not save anything.
  const start = capacity === n ? 0 : sampledThreshold(new Uint32Array(v.buffer, v.byteOffset, n), k);
  let count = scanPass(scanner, v, k, capacity, start);
  if (count < k) count = scanPass(scanner, v, k, capacity, 0);
  cutToTopK(scanner, count, k);
  return { indices: scanner.index.slice(0, k), values: new Float32Array(scanner.bits.slice(0, k).buffer) };
}

/**
 * A magnitude a little below the k-th largest, from a sample of SAMPLES values: runs of
 * SAMPLE_RUN consecutive values (one cache line each) at evenly spaced places, so that the
 * sample costs SAMPLES / SAMPLE_RUN memory reads rather than one per value. 0 when k is most of
 * the layer. Never above NON_FINITE, so that NaN and ±Infinity always become candidates.
 */
function sampledThreshold(bits: Uint32Array, k: number): number {
  const n = bits.length;
  const runs = Math.floor(Math.min(n, SAMPLES) / SAMPLE_RUN);
  const samples = runs * SAMPLE_RUN;
  const stride = Math.floor(n / runs);
  // The sample's pos-th largest has about n·pos/samples entries above it, give or take
  // n·√pos/samples: aim 4 standard deviations above k so that a second pass is rare.
  const expected = (k / n) * samples;
  const pos = Math.ceil(expected + 4 * Math.sqrt(expected) + 8);
  if (pos >= samples) return 0;
  const mags = new Uint32Array(samples);
  let w = 0;
  for (let r = 0; r < runs; r++) {
    const at = r * stride;
    for (let j = 0; j < SAMPLE_RUN; j++) mags[w++] = bits[at + j] & MAGNITUDE_MASK;
  }
  return Math.min(NON_FINITE, kthLargest(mags, pos));
}

/**
 * One pass over v collecting candidates at or above a threshold that only rises. Returns the
 * candidate count: at least k unless the starting threshold was above the k-th largest.
 */
function scanPass(scanner: ThresholdScanner, v: Float32Array, k: number, capacity: number, threshold: number): number {
  const n = v.length;
  let count = 0;
  let start = 0;
  while (start < n) {
    if (capacity - count < MIN_ROOM && count > k) {
      // Later entries equal to the k-th kept magnitude lose to it (their index is larger).
      threshold = cutToTopK(scanner, count, k) + 1;
      count = k;
    }
    const end = Math.min(n, start + capacity - count);
    count = scanner.scan(v, start, end, threshold, count);
    start = end;
  }
  return count;
}

function nonFinite(): InputError {
  return new InputError('top-k: the update contains NaN or Infinity; check the learning rate and the loss');
}

/** Candidates are binned by the top 16 bits of their magnitude: the exponent and 7 mantissa bits. */
const BIN_SHIFT = 15;
/** The histogram, all zeros between calls. */
const bins = new Uint32Array(1 << 16);
/** Below this many candidates, clearing the bins they counted one by one beats clearing all 64 Ki (small layers). */
const CLEAR_ONE_BY_ONE = 8192;

/** Zeroes the bins that the first `count` candidates counted. */
function clearBins(bits: Uint32Array, count: number): void {
  if (count >= CLEAR_ONE_BY_ONE) bins.fill(0);
  else for (let j = 0; j < count; j++) bins[(bits[j] & MAGNITUDE_MASK) >>> BIN_SHIFT] = 0;
}

/**
 * Keeps, in place and in index order, the k candidates of largest magnitude (ties to the lowest
 * index) and returns the k-th largest magnitude. A histogram of the candidates finds the bin
 * holding the k-th; a quickselect inside that bin (a few thousand values) makes it exact.
 * Throws on NaN or ±Infinity among the candidates.
 */
function cutToTopK(scanner: ThresholdScanner, count: number, k: number): number {
  const index = scanner.index;
  const bits = scanner.bits;
  // The largest magnitude bounds the walk down the bins below (from there, not from the top
  // bin: small layers' candidates sit tens of thousands of bins lower).
  let top = 0;
  for (let j = 0; j < count; j++) {
    const m = bits[j] & MAGNITUDE_MASK;
    bins[m >>> BIN_SHIFT]++;
    if (m > top) top = m;
  }
  if (top >= NON_FINITE) {
    clearBins(bits, count);
    throw nonFinite();
  }
  let above = 0;
  let bin = top >>> BIN_SHIFT;
  while (above + bins[bin] < k) above += bins[bin--];
  const inBin = new Uint32Array(bins[bin]);
  clearBins(bits, count);
  let w = 0;
  for (let j = 0; j < count; j++) {
    const m = bits[j] & MAGNITUDE_MASK;
    if (m >>> BIN_SHIFT === bin) inBin[w++] = m;
  }
  const threshold = kthLargest(inBin, k - above);
  let quota = k - above;
  for (let j = 0; j < inBin.length; j++) if (inBin[j] > threshold) quota--;
  w = 0;
  for (let j = 0; j < count; j++) {
    const b = bits[j];
    const m = b & MAGNITUDE_MASK;
    if (m > threshold || (m === threshold && quota-- > 0)) {
      index[w] = index[j];
      bits[w++] = b;
    }
  }
  return threshold;
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

let scratchBitmap = new Int32Array(0);

/** A zeroed bitmap of at least `words` words, reused between calls (a fresh one costs page faults). */
function bitmap(words: number): Int32Array {
  if (scratchBitmap.length < words) scratchBitmap = new Int32Array(words);
  return scratchBitmap;
}

/**
 * k distinct indices of [0, n), ascending, drawn uniformly from a 32-bit seed: Floyd's
 * algorithm (k draws) marks them in a bitmap (n/8 bytes), read out in order. The words come
 * from splitmix32 with its state in a local, 2–3 ns a draw where a method call on a generator
 * object costs several times that; each draw below `bound` rejects words at or above the
 * largest multiple of the bound (exactly uniform). Sender and receivers of rand-k must run
 * this same sampler: changing it changes the wire format's meaning (bump its version).
 */
export function sampleSortedIndices(seed: number, n: number, k: number): Uint32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`rand-k: k must be an integer in [0, ${n}], got ${k}`);
  const words = bitmap(Math.ceil(n / 32));
  let state = seed | 0;
  for (let j = n - k; j < n; j++) {
    const bound = j + 1;
    let x: number;
    let q: number;
    do {
      state = (state + 0x9e3779b9) | 0;
      let z = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      x = (z ^ (z >>> 16)) >>> 0;
      // The quotient of two integers below 2^53 rounds to the exact floor; x lies at or above
      // the largest multiple of bound not over 2^32 exactly when (q + 1)·bound > 2^32.
      q = Math.floor(x / bound);
    } while ((q + 1) * bound > 4294967296);
    let t = x - q * bound;
    if (words[t >>> 5] & (1 << (t & 31))) t = j;
    words[t >>> 5] |= 1 << (t & 31);
  }
  const out = new Uint32Array(k);
  let o = 0;
  for (let w = 0; o < k; w++) {
    let word = words[w];
    words[w] = 0; // leaves the scratch bitmap clear for the next call
    // The lowest two set bits without branches (at small ratios a word rarely holds more, and
    // whether it holds any is a coin toss the branch predictor loses): each is written at o,
    // and o moves on only if the bit exists. A write at o = k is dropped (typed arrays ignore
    // stores past their end); one for a missing bit is overwritten by the next real one.
    const base = (w << 5) + 31;
    let low = word & -word;
    out[o] = base - Math.clz32(low);
    o += +(low !== 0);
    word ^= low;
    low = word & -word;
    out[o] = base - Math.clz32(low);
    o += +(low !== 0);
    word ^= low;
    while (word !== 0) {
      low = word & -word;
      out[o++] = base - Math.clz32(low);
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
