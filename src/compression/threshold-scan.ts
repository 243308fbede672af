// The one loop of top-k that touches every value: keep the entries whose magnitude bits reach a
// threshold, writing their indices and float bits in index order (the bits, so that top-k need
// not read the kept values again from scattered places of a large array). Plain JavaScript runs it at
// about 1 ns per value (2–4× a memcpy of the array); a 4-lane WebAssembly SIMD kernel tests 16
// values per step over a cache-sized copy of the input and looks at single lanes only where
// one passes. The module is assembled below from named opcodes (no build step, no binary
// blob). Where WebAssembly SIMD is missing, a plain loop with the same contract runs instead.

/** Values copied into the kernel's memory per call: small enough to stay in L1/L2. */
const CHUNK = 8192;
const CHUNK_BYTES = 4 * CHUNK;
const PAGE = 65536;
/** Magnitude bits of a float: its bits without the sign. */
const MAGNITUDE_MASK = 0x7fffffff;

/** Where the scanned candidates go; `index` and `bits` are valid up to the returned count. */
export interface ThresholdScanner {
  /** Makes room for `capacity` candidates (views below may be replaced). */
  reserve(capacity: number): void;
  readonly index: Uint32Array;
  /** The candidates' float bits (sign included). */
  readonly bits: Uint32Array;
  /**
   * Appends, starting at position `count`, every i in [start, end) with
   * (bits(values[i]) & 0x7fffffff) ≥ threshold; the caller guarantees room for end − start more.
   * Returns the new count.
   */
  scan(values: Float32Array, start: number, end: number, threshold: number, count: number): number;
}

// ------------------------------------------------------------------ plain JavaScript

class PlainScanner implements ThresholdScanner {
  index = new Uint32Array(0);
  bits = new Uint32Array(0);

  reserve(capacity: number): void {
    if (this.index.length >= capacity) return;
    this.index = new Uint32Array(capacity);
    this.bits = new Uint32Array(capacity);
  }

  scan(values: Float32Array, start: number, end: number, threshold: number, count: number): number {
    const raw = new Int32Array(values.buffer, values.byteOffset, values.length);
    const index = this.index;
    const bits = this.bits;
    let w = count;
    for (let i = start; i < end; i++) {
      const b = raw[i];
      if ((b & MAGNITUDE_MASK) >= threshold) {
        index[w] = i;
        bits[w++] = b;
      }
    }
    return w;
  }
}

// ------------------------------------------------------------------ WebAssembly SIMD

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY = 0x40;
const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  i32Store: 0x36,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i32Eqz: 0x45,
  i32Ctz: 0x68,
  i32Or: 0x72,
} as const;
const i32Const = (n: number) => [0x41, ...sleb(n)];
const memarg = (alignLog2: number, offset: number) => [...uleb(alignLog2), ...uleb(offset)];
const simd = (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm];
const v128Load = (offset: number) => simd(0x00, ...memarg(4, offset));
const I32X4_SPLAT = 0x11;
const I32X4_BITMASK = 0xa4;
const I32X4_MAX_U = 0xb9;
const I32X4_GE_U = 0x40;
const V128_AND = 0x4e;
const V128_ANY_TRUE = 0x53;

// Both functions: (from, to, bias, threshold, indexOut, bitsOut, count) → count, byte
// addresses; the index written for the value at byte address p is p/4 + bias.
const FROM = 0;
const TO = 1;
const BIAS = 2;
const THRESHOLD = 3;
const INDEX_OUT = 4;
const BITS_OUT = 5;
const COUNT = 6;
const passParams = [FROM, TO, BIAS, THRESHOLD, INDEX_OUT, BITS_OUT, COUNT].flatMap((p) => [op.get, p]);

/** Function 0, one value at a time. Local 7: the float bits. */
const scalarBody = [
  ...vec([[1, I32]]),
  op.block, EMPTY,
  op.loop, EMPTY,
  op.get, FROM, op.get, TO, op.i32GeU, op.brIf, 1,
  op.get, FROM, op.i32Load, ...memarg(2, 0), op.tee, 7, ...i32Const(MAGNITUDE_MASK), op.i32And,
  op.get, THRESHOLD, op.i32GeU,
  op.if, EMPTY,
  op.get, COUNT, ...i32Const(2), op.i32Shl, op.get, INDEX_OUT, op.i32Add,
  op.get, FROM, ...i32Const(2), op.i32ShrU, op.get, BIAS, op.i32Add,
  op.i32Store, ...memarg(2, 0),
  op.get, COUNT, ...i32Const(2), op.i32Shl, op.get, BITS_OUT, op.i32Add,
  op.get, 7,
  op.i32Store, ...memarg(2, 0),
  op.get, COUNT, ...i32Const(1), op.i32Add, op.set, COUNT,
  op.end,
  op.get, FROM, ...i32Const(4), op.i32Add, op.set, FROM,
  op.br, 0,
  op.end,
  op.end,
  op.get, COUNT,
  op.end,
];

// Locals of function 1 (after the 7 parameters).
const THRESHOLD_V = 7;
const MASK_V = 8;
const STEPS_END = 9;
const MAG_V = 10; // 10..13: the four groups' magnitudes
const BITS = 14; // the step's passing lanes, one bit each
const LANE = 15;

/** The magnitudes of the 4 values at byte offset `o` from FROM, kept in MAG_V + g and left on the stack. */
const magnitudes = (o: number) => [op.get, FROM, ...v128Load(o), op.get, MASK_V, ...simd(V128_AND), op.tee, MAG_V + o / 16];

/** Group g's lanes at or above the threshold, as bits 4g..4g+3. */
const groupBits = (g: number) => [op.get, MAG_V + g, op.get, THRESHOLD_V, ...simd(I32X4_GE_U), ...simd(I32X4_BITMASK), ...(g ? [...i32Const(4 * g), op.i32Shl] : [])];

/**
 * Appends the step's passing lanes, lowest first: each one's index and float bits at COUNT.
 * One iteration per candidate (about 1.3 per passing step at a 1 % keep ratio), where packing
 * all four groups costs the same whether one lane passes or sixteen.
 */
const appendPassing = [
  ...groupBits(0), ...groupBits(1), op.i32Or, ...groupBits(2), op.i32Or, ...groupBits(3), op.i32Or, op.set, BITS,
  op.block, EMPTY,
  op.loop, EMPTY,
  op.get, BITS, op.i32Eqz, op.brIf, 1,
  op.get, BITS, op.i32Ctz, op.set, LANE,
  op.get, COUNT, ...i32Const(2), op.i32Shl, op.get, INDEX_OUT, op.i32Add,
  op.get, FROM, ...i32Const(2), op.i32ShrU, op.get, BIAS, op.i32Add, op.get, LANE, op.i32Add,
  op.i32Store, ...memarg(2, 0),
  op.get, COUNT, ...i32Const(2), op.i32Shl, op.get, BITS_OUT, op.i32Add,
  op.get, FROM, op.get, LANE, ...i32Const(2), op.i32Shl, op.i32Add, op.i32Load, ...memarg(2, 0),
  op.i32Store, ...memarg(2, 0),
  op.get, COUNT, ...i32Const(1), op.i32Add, op.set, COUNT,
  op.get, BITS, op.get, BITS, ...i32Const(1), op.i32Sub, op.i32And, op.set, BITS,
  op.br, 0,
  op.end,
  op.end,
];

/**
 * Function 1, 16 values per step: the four 4-lane groups' magnitudes are folded by unsigned
 * max into one test; where it passes (about 1 step in 6 at a 1 % keep ratio), the passing
 * lanes are appended one by one. The remainder (< 16 values) goes through function 0.
 */
const simdBody = [
  ...vec([
    [2, V128],
    [1, I32],
    [4, V128],
    [2, I32],
  ]),
  op.get, THRESHOLD, ...simd(I32X4_SPLAT), op.set, THRESHOLD_V,
  ...i32Const(MAGNITUDE_MASK), ...simd(I32X4_SPLAT), op.set, MASK_V,
  op.get, TO, op.get, FROM, op.i32Sub, ...i32Const(-64), op.i32And, op.get, FROM, op.i32Add, op.set, STEPS_END,
  op.block, EMPTY,
  op.loop, EMPTY,
  op.get, FROM, op.get, STEPS_END, op.i32GeU, op.brIf, 1,
  ...magnitudes(0), ...magnitudes(16), ...simd(I32X4_MAX_U), ...magnitudes(32), ...simd(I32X4_MAX_U), ...magnitudes(48), ...simd(I32X4_MAX_U),
  op.get, THRESHOLD_V, ...simd(I32X4_GE_U), ...simd(V128_ANY_TRUE),
  op.if, EMPTY,
  ...appendPassing,
  op.end,
  op.get, FROM, ...i32Const(64), op.i32Add, op.set, FROM,
  op.br, 0,
  op.end,
  op.end,
  ...passParams, op.call, 0,
  op.end,
];

function moduleBytes(): Uint8Array {
  const type = [0x60, ...vec(Array.from({ length: 7 }, () => [I32])), ...vec([[I32]])];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([
      [...name('memory'), 0x02, 0],
      [...name('filter'), 0x00, 1],
    ])),
    ...section(10, vec([
      [...uleb(scalarBody.length), ...scalarBody],
      [...uleb(simdBody.length), ...simdBody],
    ])),
  ]);
}

type Kernel = (from: number, to: number, bias: number, threshold: number, indexOut: number, bitsOut: number, count: number) => number;

/** Memory layout: [chunk of values | indices | float bits], all 4-byte words. */
class SimdScanner implements ThresholdScanner {
  index = new Uint32Array(0);
  bits = new Uint32Array(0);
  private chunk = new Float32Array(0);

  constructor(
    private readonly memory: WasmMemory,
    private readonly kernel: Kernel,
  ) {
    this.reserve(CHUNK);
  }

  reserve(capacity: number): void {
    if (this.index.length >= capacity) return;
    const pages = Math.ceil((CHUNK_BYTES + 8 * capacity) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
    // Growing detaches the old buffer: every view is made again.
    const buf = this.memory.buffer;
    this.chunk = new Float32Array(buf, 0, CHUNK);
    this.index = new Uint32Array(buf, CHUNK_BYTES, capacity);
    this.bits = new Uint32Array(buf, CHUNK_BYTES + 4 * capacity, capacity);
  }

  scan(values: Float32Array, start: number, end: number, threshold: number, count: number): number {
    // The kernel's output addresses are the views' places in its memory.
    const indexOut = this.index.byteOffset;
    const bitsOut = this.bits.byteOffset;
    let w = count;
    for (let s = start; s < end; s += CHUNK) {
      const e = Math.min(end, s + CHUNK);
      this.chunk.set(values.subarray(s, e));
      // The value at byte address 4j is values[s + j].
      w = this.kernel(0, 4 * (e - s), s, threshold, indexOut, bitsOut, w);
    }
    return w;
  }
}

// The few WebAssembly members used here (the project's type libraries do not declare them).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}

function simdScanner(): ThresholdScanner | undefined {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    const bytes = moduleBytes();
    if (!wasm || !wasm.validate(bytes)) return undefined;
    const { memory, filter } = new wasm.Instance(new wasm.Module(bytes)).exports as { memory: WasmMemory; filter: Kernel };
    return new SimdScanner(memory, filter);
  } catch {
    return undefined;
  }
}

let shared: ThresholdScanner | undefined;

/** The process's scanner (SIMD where available). Not re-entrant: one top-k selection at a time, which single-threaded JavaScript guarantees. */
export function thresholdScanner(): ThresholdScanner {
  shared ??= simdScanner() ?? new PlainScanner();
  return shared;
}

/** Both implementations, for tests that check they agree. */
export function scannerImplementations(): { simd: ThresholdScanner | undefined; plain: ThresholdScanner } {
  return { simd: simdScanner(), plain: new PlainScanner() };
}
