// The typed arrays a compressed layer travels as. A message carries one Section per layer per
// part; what a section means (a whole tensor, a sketch P, the values at shared random indices)
// is the method's business, how it is laid out in bytes is the wire codec's.

/** One layer's data in a message, in one of the codings. */
export type Section =
  /** Nothing for this layer in this message (e.g. PowerSGD's Q phase for a layer sent dense). */
  | { readonly coding: 'absent' }
  | { readonly coding: 'f32'; readonly values: Float32Array }
  /** IEEE binary16 bit patterns. */
  | { readonly coding: 'f16'; readonly bits: Uint16Array }
  /** Symmetric int8 in [-127, 127]; value = q · scale of its block. */
  | { readonly coding: 'int8'; readonly blockSize: number; readonly scales: Float32Array; readonly q: Int8Array }
  /** One bit per value (1 = negative), packed LSB first; value = ±scale. */
  | { readonly coding: 'sign'; readonly count: number; readonly scale: number; readonly bits: Uint8Array }
  /** Strictly increasing indices (delta-coded as LEB128 varints on the wire) and their values. */
  | { readonly coding: 'sparse'; readonly indices: Uint32Array; readonly values: Float32Array };

/** How a section's values are laid out in bytes. */
export type Coding = Section['coding'];

export const CODING_IDS: Readonly<Record<Coding, number>> = { absent: 0, f32: 1, f16: 2, int8: 3, sign: 4, sparse: 5 };
export const CODINGS: readonly Coding[] = ['absent', 'f32', 'f16', 'int8', 'sign', 'sparse'];

export const ABSENT: Section = { coding: 'absent' };

/** Number of values a section stands for (its `count` field on the wire). */
export function sectionCount(s: Section): number {
  switch (s.coding) {
    case 'absent':
      return 0;
    case 'f32':
    case 'sparse':
      return s.values.length;
    case 'f16':
      return s.bits.length;
    case 'int8':
      return s.q.length;
    case 'sign':
      return s.count;
  }
}

/** Bytes of LEB128 varints for the gaps of strictly increasing indices (first index, then differences). */
export function deltaVarintBytes(indices: Uint32Array): number {
  let bytes = 0;
  let prev = 0;
  for (let i = 0; i < indices.length; i++) {
    const gap = indices[i] - prev;
    prev = indices[i];
    // Branch-free: the lengths of consecutive gaps are unpredictable.
    bytes += 1 + +(gap >= 0x80) + +(gap >= 0x4000) + +(gap >= 0x200000) + +(gap >= 0x10000000);
  }
  return bytes;
}

export function blockCount(count: number, blockSize: number): number {
  return Math.ceil(count / blockSize);
}

/** The `aux` field of a section on the wire: int8 block size, sparse varint byte length, else 0. */
export function sectionAux(s: Section): number {
  if (s.coding === 'int8') return s.blockSize;
  if (s.coding === 'sparse') return deltaVarintBytes(s.indices);
  return 0;
}

/** Body bytes of a section with this coding, count and aux (before 4-byte alignment padding). */
export function sectionBytes(coding: Coding, count: number, aux: number): number {
  switch (coding) {
    case 'absent':
      return 0;
    case 'f32':
      return 4 * count;
    case 'f16':
      return 2 * count;
    case 'int8':
      return 4 * blockCount(count, aux) + count;
    case 'sign':
      return 4 + Math.ceil(count / 8);
    case 'sparse':
      return 4 * count + aux;
  }
}

export function align4(n: number): number {
  return (n + 3) & ~3;
}
