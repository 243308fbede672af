// The wire codec of compressed updates: a versioned, little-endian binary format for one
// message (a pointwise update or one phase of a group exchange). docs/wire-format.md is the
// specification; this file implements it. Decoding checks every field against the model the
// receiver expects before it allocates anything, and throws a WireError naming the problem.
import type { ParamLayout } from '../params/index.js';
import { layoutFingerprint } from '../params/index.js';
import { deriveSeed } from '../util/rng.js';
import { crc32 } from './crc32.js';
import { WireError } from './errors.js';
import { isFiniteHalf } from './float16.js';
import { BUILT_IN_METHODS, methodId, methodOfId, type BuiltInMethodName } from './wire-ids.js';
import { CODING_IDS, CODINGS, align4, blockCount, sectionAux, sectionBytes, sectionCount, type Coding, type Section } from './sections.js';

/**
 * Version of the compressed-update wire format. 2: rand-k draws its indices with the sampler of
 * docs/wire-format.md (splitmix32 words), no longer with Rng.int; the bytes are laid out as in
 * version 1, but a version-1 peer would scatter rand-k values to other indices, so the two refuse
 * each other's messages.
 */
export const WIRE_FORMAT_VERSION = 2;
const MAGIC = [0x47, 0x46, 0x43, 0x55]; // "GFCU"
const FIXED_HEADER_BYTES = 28;
const PARAM_ENTRY_BYTES = 9;
const TABLE_ENTRY_BYTES = 13;
const CRC_BYTES = 4;
const MAX_NDIM = 8;
const MAX_BLOCK_SIZE = 1 << 16;
/** Largest number of parts a message may carry (EControl sends two). */
export const MAX_PARTS = 2;

/** A whole update, or one phase of a group method. */
export type MessageKind = 'update' | 'group-phase';
const KINDS: readonly MessageKind[] = ['update', 'group-phase'];

/** Built-in method ids on the wire are positions in this list (append only); plug-ins hash into 128..255 (./wire-ids.ts). */
export const METHODS = BUILT_IN_METHODS;
/** The name of a compression method: a built-in one, or a registered plug-in's. */
export type MethodName = BuiltInMethodName | (string & {});

/** Parameter ids on the wire are 1 + positions in this list (append only). Values are float64. */
export const PARAM_NAMES = [
  'seed',
  'ratio',
  'rank',
  'blockSize',
  'rho',
  'sketchRank',
  'refreshEvery',
  'denseRounds',
  'errorFeedback',
  'eta',
  'sequence',
  'init',
  'digest',
] as const;
/** The name of a method parameter carried in a message header. */
export type ParamName = (typeof PARAM_NAMES)[number];
/** A method's parameters as written to a message header. */
export type MethodParams = Readonly<Partial<Record<ParamName, number>>>;

/** A compressed message before encoding: kind, method, parameters and per-layer sections. */
export interface WireMessage {
  readonly kind: MessageKind;
  readonly method: MethodName;
  /** Index of the sending peer in the run. */
  readonly sender: number;
  readonly round: number;
  /** 0 for updates; the phase number of a group exchange. */
  readonly phase: number;
  readonly params: MethodParams;
  /** One Section per layer of the layout, per part. */
  readonly parts: readonly (readonly Section[])[];
}

/** What the receiver expects; every given field is checked. */
export interface Expected {
  readonly layout: ParamLayout;
  readonly kind?: MessageKind;
  readonly method?: MethodName;
  readonly sender?: number;
  readonly round?: number;
  readonly phase?: number;
}

/** Bounds a receiver puts on a message it decodes. */
export interface DecodeLimits {
  /** Reject messages longer than this many bytes (default: the largest a message for the layout can be). */
  readonly maxBytes?: number;
  /** Most parts accepted (default MAX_PARTS). */
  readonly maxParts?: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** FNV-1a (32-bit) over the UTF-16 code units of the layout's fingerprint (names, shapes, roles). */
export function layoutHash(layout: ParamLayout): number {
  return deriveSeed(layoutFingerprint(layout));
}

/** Largest number of bytes a valid message for this layout can take (sparse sections of every value, 5-byte varints). */
export function maxMessageBytes(layout: ParamLayout, maxParts = MAX_PARTS): number {
  let shapes = 0;
  let body = 0;
  for (const t of layout.tensors) {
    shapes += 1 + 4 * t.shape.length;
    body += align4(9 * t.size);
  }
  const head = FIXED_HEADER_BYTES + PARAM_ENTRY_BYTES * PARAM_NAMES.length + shapes + maxParts * layout.tensors.length * TABLE_ENTRY_BYTES;
  return align4(head) + maxParts * body + CRC_BYTES;
}

// ---------------------------------------------------------------- encode

/** Encodes a wire message for a parameter layout. */
export function encodeMessage(msg: WireMessage, layout: ParamLayout): Uint8Array {
  const L = layout.tensors.length;
  if (msg.parts.length < 1 || msg.parts.length > MAX_PARTS) throw new RangeError(`a message has 1..${MAX_PARTS} parts, got ${msg.parts.length}`);
  const params = Object.entries(msg.params).filter(([, v]) => v !== undefined) as [ParamName, number][];
  let head = FIXED_HEADER_BYTES + PARAM_ENTRY_BYTES * params.length;
  for (const t of layout.tensors) head += 1 + 4 * t.shape.length;
  head += msg.parts.length * L * TABLE_ENTRY_BYTES;
  const bodyStart = align4(head);
  const entries = msg.parts.map((part, p) => {
    if (part.length !== L) throw new RangeError(`part ${p} has ${part.length} sections, the layout has ${L} tensors`);
    return part.map((s) => {
      const count = sectionCount(s);
      const aux = sectionAux(s);
      return { s, count, aux, bytes: sectionBytes(s.coding, count, aux) };
    });
  });
  let total = bodyStart;
  for (const part of entries) for (const e of part) total += align4(e.bytes);
  total += CRC_BYTES;

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, WIRE_FORMAT_VERSION);
  view.setUint8(5, KINDS.indexOf(msg.kind) + 1);
  view.setUint8(6, methodId(msg.method));
  view.setUint8(7, msg.parts.length);
  view.setUint32(8, msg.sender, true);
  view.setUint32(12, msg.round, true);
  view.setUint16(16, msg.phase, true);
  view.setUint8(18, params.length);
  view.setUint32(20, layoutHash(layout), true);
  view.setUint32(24, L, true);
  let pos = FIXED_HEADER_BYTES;
  for (const [name, value] of params) {
    view.setUint8(pos, PARAM_NAMES.indexOf(name) + 1);
    view.setFloat64(pos + 1, value, true);
    pos += PARAM_ENTRY_BYTES;
  }
  for (const t of layout.tensors) {
    view.setUint8(pos++, t.shape.length);
    for (const d of t.shape) {
      view.setUint32(pos, d, true);
      pos += 4;
    }
  }
  for (const part of entries) {
    for (const e of part) {
      view.setUint8(pos, CODING_IDS[e.s.coding]);
      view.setUint32(pos + 1, e.count, true);
      view.setUint32(pos + 5, e.aux, true);
      view.setUint32(pos + 9, e.bytes, true);
      pos += TABLE_ENTRY_BYTES;
    }
  }
  pos = bodyStart;
  for (const part of entries) {
    for (const e of part) {
      writeSection(out, view, pos, e.s);
      pos += align4(e.bytes);
    }
  }
  view.setUint32(pos, crc32(out.subarray(0, pos)), true);
  return out;
}

function writeSection(out: Uint8Array, view: DataView, pos: number, s: Section): void {
  switch (s.coding) {
    case 'absent':
      return;
    case 'f32':
      writeFloats(out, view, pos, s.values);
      return;
    case 'f16':
      if (LITTLE_ENDIAN) out.set(new Uint8Array(s.bits.buffer, s.bits.byteOffset, s.bits.byteLength), pos);
      else for (let i = 0; i < s.bits.length; i++) view.setUint16(pos + 2 * i, s.bits[i], true);
      return;
    case 'int8':
      writeFloats(out, view, pos, s.scales);
      out.set(new Uint8Array(s.q.buffer, s.q.byteOffset, s.q.length), pos + 4 * s.scales.length);
      return;
    case 'sign':
      view.setFloat32(pos, s.scale, true);
      out.set(s.bits, pos + 4);
      return;
    case 'sparse': {
      writeFloats(out, view, pos, s.values);
      let p = pos + 4 * s.values.length;
      let prev = 0;
      for (let i = 0; i < s.indices.length; i++) {
        let gap = s.indices[i] - prev;
        prev = s.indices[i];
        while (gap >= 0x80) {
          out[p++] = (gap & 0x7f) | 0x80;
          gap >>>= 7;
        }
        out[p++] = gap;
      }
      return;
    }
  }
}

function writeFloats(out: Uint8Array, view: DataView, pos: number, values: Float32Array): void {
  if (LITTLE_ENDIAN) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), pos);
  else for (let i = 0; i < values.length; i++) view.setFloat32(pos + 4 * i, values[i], true);
}

// ---------------------------------------------------------------- decode

interface TableEntry {
  readonly coding: Coding;
  readonly count: number;
  readonly aux: number;
  readonly bytes: number;
}

/**
 * Parses and validates a message for the expected model. Returned sections may share memory
 * with `bytes` (do not modify it afterwards); anything allocated is bounded by the layer sizes.
 */
export function decodeMessage(bytes: Uint8Array, expected: Expected, limits: DecodeLimits = {}): WireMessage {
  const { layout } = expected;
  const maxParts = limits.maxParts ?? MAX_PARTS;
  const maxBytes = Math.min(limits.maxBytes ?? Infinity, maxMessageBytes(layout, maxParts));
  if (!(bytes instanceof Uint8Array)) throw new WireError('header', 'payload is not a byte array');
  if (bytes.length < FIXED_HEADER_BYTES + CRC_BYTES) {
    throw new WireError('truncated', `payload is ${bytes.length} bytes, shorter than the ${FIXED_HEADER_BYTES + CRC_BYTES}-byte minimum`);
  }
  if (bytes.length > maxBytes) {
    throw new WireError('oversized', `payload is ${bytes.length} bytes, more than the ${maxBytes} bytes any message for this model can take`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new WireError('header', 'bad magic: not a gossipfl compressed update (expected "GFCU")');
  }
  const version = view.getUint8(4);
  if (version !== WIRE_FORMAT_VERSION) {
    const older = version < WIRE_FORMAT_VERSION ? 'the sender' : 'this peer';
    throw new WireError('header', `format version ${version} is not supported (this build reads version ${WIRE_FORMAT_VERSION} only); upgrade ${older} so that all peers run the same version`);
  }
  const crcPos = bytes.length - CRC_BYTES;
  const declaredCrc = view.getUint32(crcPos, true);
  const actualCrc = crc32(bytes.subarray(0, crcPos));
  if (declaredCrc !== actualCrc) throw new WireError('checksum', `CRC32 is 0x${hex(actualCrc)}, the message says 0x${hex(declaredCrc)} (corrupted in transit)`);

  const kindId = view.getUint8(5);
  const kind = KINDS[kindId - 1];
  if (!kind) throw new WireError('header', `unknown message kind ${kindId}`);
  const methodByte = view.getUint8(6);
  const method = methodOfId(methodByte);
  if (method === undefined) throw new WireError('header', `unknown method id ${methodByte} (a plug-in compressor this peer has not registered?)`);
  const partCount = view.getUint8(7);
  if (partCount < 1 || partCount > maxParts) throw new WireError('header', `message has ${partCount} parts, allowed 1..${maxParts}`);
  const sender = view.getUint32(8, true);
  const round = view.getUint32(12, true);
  const phase = view.getUint16(16, true);
  const paramCount = view.getUint8(18);
  if (view.getUint8(19) !== 0) throw new WireError('header', 'reserved header byte is not zero');
  if (paramCount > PARAM_NAMES.length) throw new WireError('header', `message declares ${paramCount} parameters, at most ${PARAM_NAMES.length} exist`);
  if (view.getUint32(20, true) !== layoutHash(layout)) {
    throw new WireError('layout', 'layout hash differs: the sender uses a different model (tensor names, shapes or roles)');
  }
  const L = view.getUint32(24, true);
  if (L !== layout.tensors.length) throw new WireError('layout', `message has ${L} layers, the model has ${layout.tensors.length}`);

  let pos = FIXED_HEADER_BYTES;
  const need = (n: number, what: string) => {
    if (pos + n > crcPos) throw new WireError('truncated', `${what} runs past the end of the payload`);
  };
  need(PARAM_ENTRY_BYTES * paramCount, 'parameter list');
  const params: Partial<Record<ParamName, number>> = {};
  for (let i = 0; i < paramCount; i++) {
    const id = view.getUint8(pos);
    const name = PARAM_NAMES[id - 1];
    if (!name) throw new WireError('header', `unknown parameter id ${id}`);
    if (params[name] !== undefined) throw new WireError('header', `parameter '${name}' appears twice`);
    const value = view.getFloat64(pos + 1, true);
    if (!Number.isFinite(value)) throw new WireError('non-finite', `parameter '${name}' is ${value}`);
    params[name] = value;
    pos += PARAM_ENTRY_BYTES;
  }
  for (const t of layout.tensors) {
    need(1, 'layer shape table');
    const ndim = view.getUint8(pos++);
    if (ndim !== t.shape.length || ndim > MAX_NDIM) {
      throw new WireError('layout', `layer '${t.name}' has ${ndim} dimensions on the wire, the model has ${t.shape.length}`);
    }
    need(4 * ndim, 'layer shape table');
    for (let k = 0; k < ndim; k++) {
      const d = view.getUint32(pos, true);
      pos += 4;
      if (d !== t.shape[k]) throw new WireError('layout', `layer '${t.name}' has shape dimension ${k} = ${d}, the model has ${t.shape[k]}`);
    }
  }
  need(partCount * L * TABLE_ENTRY_BYTES, 'section table');
  const tables: TableEntry[][] = [];
  let body = 0;
  for (let p = 0; p < partCount; p++) {
    const table: TableEntry[] = [];
    for (const t of layout.tensors) {
      const entry = readEntry(view, pos, t.name, t.size);
      pos += TABLE_ENTRY_BYTES;
      body += align4(entry.bytes);
      table.push(entry);
    }
    tables.push(table);
  }
  const bodyStart = align4(pos);
  for (let i = pos; i < bodyStart; i++) if (bytes[i] !== 0) throw new WireError('section', 'header padding is not zero');
  if (bodyStart + body !== crcPos) {
    throw new WireError(bodyStart + body > crcPos ? 'truncated' : 'section', `sections declare ${body} body bytes, the payload has ${crcPos - bodyStart}`);
  }

  pos = bodyStart;
  const parts: Section[][] = [];
  for (let p = 0; p < partCount; p++) {
    const part: Section[] = [];
    tables[p].forEach((e, l) => {
      const name = layout.tensors[l].name;
      part.push(readSection(bytes, view, pos, e, layout.tensors[l].size, name));
      for (let i = pos + e.bytes; i < pos + align4(e.bytes); i++) {
        if (bytes[i] !== 0) throw new WireError('section', `padding after layer '${name}' is not zero`);
      }
      pos += align4(e.bytes);
    });
    parts.push(part);
  }
  const msg: WireMessage = { kind, method, sender, round, phase, params, parts };
  checkExpected(msg, expected);
  return msg;
}

function readEntry(view: DataView, pos: number, name: string, size: number): TableEntry {
  const codingId = view.getUint8(pos);
  const coding = CODINGS[codingId];
  if (!coding) throw new WireError('header', `layer '${name}' has unknown coding ${codingId}`);
  const count = view.getUint32(pos + 1, true);
  const aux = view.getUint32(pos + 5, true);
  const bytes = view.getUint32(pos + 9, true);
  if (count > size) throw new WireError('section', `layer '${name}' declares ${count} values, the layer has ${size}`);
  if (coding === 'absent' && count !== 0) throw new WireError('section', `layer '${name}' is absent but declares ${count} values`);
  if (coding === 'int8' && (aux < 1 || aux > MAX_BLOCK_SIZE)) throw new WireError('section', `layer '${name}' has int8 block size ${aux}, allowed 1..${MAX_BLOCK_SIZE}`);
  if (coding === 'sparse' && (aux < count || aux > 5 * count)) {
    throw new WireError('section', `layer '${name}' has ${aux} index bytes for ${count} sparse values (needs ${count}..${5 * count})`);
  }
  if (coding !== 'int8' && coding !== 'sparse' && aux !== 0) throw new WireError('section', `layer '${name}' has a non-zero aux field for coding ${coding}`);
  const expectedBytes = sectionBytes(coding, count, aux);
  if (bytes !== expectedBytes) throw new WireError('section', `layer '${name}' declares ${bytes} bytes, its ${coding} coding of ${count} values needs ${expectedBytes}`);
  return { coding, count, aux, bytes };
}

function readSection(bytes: Uint8Array, view: DataView, pos: number, e: TableEntry, size: number, name: string): Section {
  switch (e.coding) {
    case 'absent':
      return { coding: 'absent' };
    case 'f32':
      return { coding: 'f32', values: readFiniteFloats(bytes, view, pos, e.count, name, 'value') };
    case 'f16': {
      const bits = new Uint16Array(e.count);
      for (let i = 0; i < e.count; i++) {
        const h = view.getUint16(pos + 2 * i, true);
        if (!isFiniteHalf(h)) throw new WireError('non-finite', `layer '${name}' has a non-finite fp16 value at ${i}`);
        bits[i] = h;
      }
      return { coding: 'f16', bits };
    }
    case 'int8': {
      const nb = blockCount(e.count, e.aux);
      const scales = readFiniteFloats(bytes, view, pos, nb, name, 'int8 scale');
      for (let b = 0; b < nb; b++) if (scales[b] < 0) throw new WireError('section', `layer '${name}' has a negative int8 scale`);
      const q = new Int8Array(bytes.buffer, bytes.byteOffset + pos + 4 * nb, e.count);
      for (let i = 0; i < e.count; i++) if (q[i] === -128) throw new WireError('section', `layer '${name}' has int8 value -128 (the range is -127..127)`);
      return { coding: 'int8', blockSize: e.aux, scales, q };
    }
    case 'sign': {
      const scale = view.getFloat32(pos, true);
      if (!Number.isFinite(scale)) throw new WireError('non-finite', `layer '${name}' has a non-finite sign scale`);
      if (scale < 0) throw new WireError('section', `layer '${name}' has a negative sign scale`);
      const nbytes = Math.ceil(e.count / 8);
      const bits = bytes.subarray(pos + 4, pos + 4 + nbytes);
      const rest = e.count & 7;
      if (rest && bits[nbytes - 1] >>> rest !== 0) throw new WireError('section', `layer '${name}' has sign bits set past its ${e.count} values`);
      return { coding: 'sign', count: e.count, scale, bits };
    }
    case 'sparse': {
      const values = readFiniteFloats(bytes, view, pos, e.count, name, 'sparse value');
      const indices = new Uint32Array(e.count);
      let p = pos + 4 * e.count;
      const end = p + e.aux;
      let prev = -1;
      for (let i = 0; i < e.count; i++) {
        let gap: number;
        // Gaps of 1 or 2 bytes (below 16384, nearly all of them in a sparse layer) without the general loop.
        const b0 = p < end ? bytes[p] : 0x80;
        const b1 = p + 1 < end ? bytes[p + 1] : 0x80;
        if (b0 < 0x80) {
          gap = b0;
          p += 1;
        } else if (b1 < 0x80) {
          gap = (b0 & 0x7f) | (b1 << 7);
          p += 2;
        } else {
          gap = 0;
          let scale = 1;
          for (let shift = 0; ; shift += 7, scale *= 128) {
            if (p >= end) throw new WireError('section', `layer '${name}' index varints run past their ${e.aux} bytes`);
            const b = bytes[p++];
            if (shift === 28 && b > 0x0f) throw new WireError('section', `layer '${name}' has an index varint over 32 bits`);
            gap += (b & 0x7f) * scale;
            if (!(b & 0x80)) break;
          }
        }
        const index = (i === 0 ? 0 : prev) + gap;
        if (i > 0 && gap === 0) throw new WireError('index', `layer '${name}' repeats index ${prev}`);
        if (index >= size) throw new WireError('index', `layer '${name}' has index ${index}, the layer has ${size} values`);
        indices[i] = index;
        prev = index;
      }
      if (p !== end) throw new WireError('section', `layer '${name}' index varints use ${p - pos - 4 * e.count} of their declared ${e.aux} bytes`);
      return { coding: 'sparse', indices, values };
    }
  }
}

function readFiniteFloats(bytes: Uint8Array, view: DataView, pos: number, count: number, name: string, what: string): Float32Array {
  let values: Float32Array;
  if (LITTLE_ENDIAN && (bytes.byteOffset + pos) % 4 === 0) values = new Float32Array(bytes.buffer, bytes.byteOffset + pos, count);
  else {
    values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(pos + 4 * i, true);
  }
  for (let i = 0; i < count; i++) {
    if (values[i] - values[i] !== 0) throw new WireError('non-finite', `layer '${name}' has a non-finite ${what} (${values[i]}) at position ${i}`);
  }
  return values;
}

function checkExpected(msg: WireMessage, e: Expected): void {
  const check = (field: 'kind' | 'method' | 'sender' | 'round' | 'phase') => {
    const want = e[field];
    if (want !== undefined && msg[field] !== want) throw new WireError('mismatch', `${field} is ${msg[field]}, expected ${want}`);
  };
  check('kind');
  check('method');
  check('sender');
  check('round');
  check('phase');
}

/**
 * Throws a 'mismatch' WireError unless the message's parameters are exactly `want` (same names,
 * same values), apart from the per-message ones listed in `except`.
 */
export function expectParams(msg: WireMessage, want: MethodParams, except: readonly ParamName[] = []): void {
  for (const name of PARAM_NAMES) {
    if (except.includes(name)) continue;
    const got = msg.params[name];
    const w = want[name];
    if (got !== w) throw new WireError('mismatch', `parameter '${name}' is ${got ?? 'absent'}, this peer uses ${w ?? 'none'} (peers must share the compression config)`);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
