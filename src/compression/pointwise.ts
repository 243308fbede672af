// Pointwise compressors: each peer encodes its update alone, receivers decode each neighbour's
// message alone, and an aggregation rule combines the results. A pointwise compressor is a
// layer coder (coders.ts, sparse.ts, subspace.ts) optionally wrapped in error feedback
// (feedback.ts); state (sender side) and receiver state (per sender) are plain data.
import type { ParamLayout, Params } from '../params/index.js';
import { paramsFrom } from '../params/index.js';
import { InputError } from '../util/errors.js';
import type { LayerCoder, LayerInfo } from './coders.js';
import { assertContext, type CompressionContext } from './context.js';
import { WireError } from './errors.js';
import { isFiniteHalf } from './float16.js';
import type { Section } from './sections.js';
import { decodeMessage, encodeMessage, expectParams, type DecodeLimits, type MethodParams, type ParamName, type WireMessage } from './wire.js';

/** What a pointwise compressor's encode returns. */
export interface PointwiseEncodeResult<S> {
  /** The bytes to send; `message.byteLength` is what this update costs on the wire. */
  readonly message: Uint8Array;
  readonly state: S;
  /** What receivers will reconstruct from `message` (for error feedback and for the sender's own bookkeeping). */
  readonly decoded: Params;
}

/** What a pointwise compressor's encodeBytes returns: the message and the new state, without a reconstruction. */
export type PointwiseMessage<S> = Omit<PointwiseEncodeResult<S>, 'decoded'>;

/** What a pointwise compressor's decode returns. */
export interface PointwiseDecodeResult<R> {
  /** The sender's update as this receiver reconstructs it. */
  readonly update: Params;
  /** This receiver's new state for that sender (EF21-type methods); keep one per sender. */
  readonly receiver: R;
}

/** A compressor whose peers each encode alone; any receiver can decode. */
export interface PointwiseCompressor<S = unknown, R = unknown> {
  readonly kind: 'pointwise';
  /** e.g. "top-k" or "top-k+ef21". */
  readonly name: string;
  /** The sender's state before its first message. */
  initialState(layout: ParamLayout): S;
  /** A receiver's state for one sender, before its first message. */
  initialReceiverState(layout: ParamLayout): R;
  /** Compresses one update; returns the bytes, the new state and what receivers will decode (a new array). */
  encode(update: Params, state: S, ctx: CompressionContext): PointwiseEncodeResult<S>;
  /**
   * As encode, but writes what receivers will decode into `decoded` (layout-sized, every value
   * overwritten; it must not overlap the update) and returns it as `result.decoded.data`. A
   * peer that reuses one buffer round after round saves allocating a model-sized array, whose
   * first touch costs the OS zeroing every page (several memcpys' worth on large models).
   */
  encodeInto(update: Params, state: S, ctx: CompressionContext, decoded: Float32Array): PointwiseEncodeResult<S>;
  /**
   * As encode, for a caller that needs only the message and the new state (a plain upload, not
   * error feedback or CHOCO's public copies): the same bytes and state. Plain top-k and rand-k
   * then write no model-sized reconstruction, which on large models costs more than selecting
   * the values; other methods reconstruct into a scratch array the compressor keeps.
   */
  encodeBytes(update: Params, state: S, ctx: CompressionContext): PointwiseMessage<S>;
  /** Validates and decodes one sender's message (`ctx.sender` = who sent it) into a new array; throws WireError. */
  decode(message: Uint8Array, layout: ParamLayout, ctx: CompressionContext, receiver: R, limits?: DecodeLimits): PointwiseDecodeResult<R>;
  /**
   * As decode, but writes the update into `out` (layout-sized, every value overwritten) and
   * returns it as `result.update.data`. The message is validated before `out` is written; a
   * WireError raised while reconstructing (a value that overflows float32 when scaled) leaves
   * `out` partly written.
   */
  decodeInto(message: Uint8Array, layout: ParamLayout, ctx: CompressionContext, receiver: R, out: Float32Array, limits?: DecodeLimits): PointwiseDecodeResult<R>;
}

/** What a pointwise compressor implements: encode and decode into a given layout-sized output, writing every value. */
export interface PointwiseCore<S, R> {
  readonly name: string;
  initialState(layout: ParamLayout): S;
  initialReceiverState(layout: ParamLayout): R;
  encodeTo(update: Params, state: S, ctx: CompressionContext, out: Float32Array): PointwiseEncodeResult<S>;
  /** The message and state alone, where that is cheaper than encodeTo (default: encodeTo into a scratch array). */
  encodeBytes?(update: Params, state: S, ctx: CompressionContext): PointwiseMessage<S>;
  decodeTo(message: Uint8Array, layout: ParamLayout, ctx: CompressionContext, receiver: R, out: Float32Array, limits?: DecodeLimits): PointwiseDecodeResult<R>;
}

/** The public compressor of a core: the allocating forms hand it a new array, the Into forms the caller's. */
export function pointwiseCompressor<S, R>(core: PointwiseCore<S, R>): PointwiseCompressor<S, R> {
  // Where the core has no encodeBytes: one reconstruction array for every call (nothing returned refers to it).
  let scratch = new Float32Array(0);
  const encodeBytes =
    core.encodeBytes?.bind(core) ??
    ((update: Params, state: S, ctx: CompressionContext): PointwiseMessage<S> => {
      if (scratch.length !== update.layout.size) scratch = new Float32Array(update.layout.size);
      const { message, state: next } = core.encodeTo(update, state, ctx, scratch);
      return { message, state: next };
    });
  return {
    kind: 'pointwise',
    name: core.name,
    initialState: (layout) => core.initialState(layout),
    initialReceiverState: (layout) => core.initialReceiverState(layout),
    encode: (update, state, ctx) => core.encodeTo(update, state, ctx, new Float32Array(update.layout.size)),
    encodeInto(update, state, ctx, decoded) {
      checkOutput(decoded, update.layout, 'encodeInto');
      const u = update.data;
      if (decoded.buffer === u.buffer && decoded.byteOffset < u.byteOffset + u.byteLength && u.byteOffset < decoded.byteOffset + decoded.byteLength) {
        throw new InputError('encodeInto: the output buffer overlaps the update; pass a separate buffer');
      }
      return core.encodeTo(update, state, ctx, decoded);
    },
    encodeBytes,
    decode: (message, layout, ctx, receiver, limits) => core.decodeTo(message, layout, ctx, receiver, new Float32Array(layout.size), limits),
    decodeInto(message, layout, ctx, receiver, out, limits) {
      checkOutput(out, layout, 'decodeInto');
      return core.decodeTo(message, layout, ctx, receiver, out, limits);
    },
  };
}

function checkOutput(out: Float32Array, layout: ParamLayout, what: string): void {
  if (!(out instanceof Float32Array) || out.length !== layout.size) {
    throw new InputError(`${what}: the output must be a Float32Array of the model's ${layout.size} values, got ${out instanceof Float32Array ? out.length : typeof out}`);
  }
}

function layerInfos(layout: ParamLayout, ctx: CompressionContext, salt: number): LayerInfo[] {
  return layout.tensors.map((spec, index) => ({ spec, index, ctx, salt }));
}

/** Encodes a flat vector layer by layer with `encodeLayer`; never returns a section the receiver would refuse. */
function encodeLayers(data: Float32Array, layout: ParamLayout, ctx: CompressionContext, salt: number, encodeLayer: (values: Float32Array, info: LayerInfo) => Section): Section[] {
  return layerInfos(layout, ctx, salt).map((info) => {
    const { offset, size, name } = info.spec;
    const section = encodeLayer(data.subarray(offset, offset + size), info);
    assertFiniteSection(section, name);
    return section;
  });
}

/** Encodes a flat vector layer by layer; `decoded` (`out` when given) is what a receiver will get back. */
export function encodePart(coder: LayerCoder, data: Float32Array, layout: ParamLayout, ctx: CompressionContext, salt = 0, out?: Float32Array): { sections: Section[]; decoded: Float32Array } {
  const decoded = out ?? new Float32Array(layout.size);
  const sections = encodeLayers(data, layout, ctx, salt, (values, info) => {
    const { offset, size } = info.spec;
    return coder.encodeLayer(values, decoded.subarray(offset, offset + size), info);
  });
  return { sections, decoded };
}

/** Decodes one part of a message layer by layer, into `target` when given. */
export function decodePart(coder: LayerCoder, sections: readonly Section[], layout: ParamLayout, ctx: CompressionContext, salt = 0, target?: Float32Array): Float32Array {
  const out = target ?? new Float32Array(layout.size);
  for (const info of layerInfos(layout, ctx, salt)) {
    const { offset, size } = info.spec;
    coder.decodeLayer(sections[info.index], out.subarray(offset, offset + size), info);
  }
  return out;
}

/** Never put a value on the wire that the receiver's validation would refuse. */
function assertFiniteSection(s: Section, layer: string): void {
  const bad = () => new InputError(`the update's layer '${layer}' contains NaN or Infinity; check the learning rate and the loss`);
  if (s.coding === 'f32' || s.coding === 'sparse') {
    const v = s.values;
    for (let i = 0; i < v.length; i++) if (v[i] - v[i] !== 0) throw bad();
  } else if (s.coding === 'f16') {
    for (let i = 0; i < s.bits.length; i++) if (!isFiniteHalf(s.bits[i])) throw bad();
  }
}

export function checkUpdate(update: Params, ctx: CompressionContext): void {
  assertContext(ctx);
  if (update.data.length !== update.layout.size) throw new RangeError(`update has ${update.data.length} values, its layout ${update.layout.size}`);
}

export function updateMessage(coder: LayerCoder, ctx: CompressionContext, layout: ParamLayout, parts: Section[][], extra: MethodParams = {}): Uint8Array {
  return encodeMessage({ kind: 'update', method: coder.method, sender: ctx.sender, round: ctx.round, phase: ctx.phase ?? 0, params: { ...coder.params, ...extra }, parts }, layout);
}

/** Decodes and checks an update message for this coder; `extra` are the wrapper's fixed parameters. */
export function readUpdate(
  coder: LayerCoder,
  bytes: Uint8Array,
  layout: ParamLayout,
  ctx: CompressionContext,
  extra: MethodParams,
  perMessage: readonly ParamName[],
  partCount: number,
  limits?: DecodeLimits,
): WireMessage {
  assertContext(ctx);
  const msg = decodeMessage(bytes, { layout, kind: 'update', method: coder.method, sender: ctx.sender, round: ctx.round, phase: ctx.phase ?? 0 }, limits);
  expectParams(msg, { ...coder.params, ...extra }, perMessage);
  if (msg.parts.length !== partCount) throw new WireError('section', `message has ${msg.parts.length} parts, this method sends ${partCount}`);
  return msg;
}

/** A layer coder on its own: no state on either side. */
export function plainCompressor(coder: LayerCoder): PointwiseCompressor<null, null> {
  const encodeSection = coder.encodeSection?.bind(coder);
  return pointwiseCompressor({
    name: coder.method,
    initialState: () => null,
    initialReceiverState: () => null,
    encodeTo(update, state, ctx, out) {
      checkUpdate(update, ctx);
      const { sections, decoded } = encodePart(coder, update.data, update.layout, ctx, 0, out);
      return { message: updateMessage(coder, ctx, update.layout, [sections]), state, decoded: paramsFrom(update.layout, decoded) };
    },
    ...(encodeSection && {
      encodeBytes(update: Params, state: null, ctx: CompressionContext) {
        checkUpdate(update, ctx);
        return { message: updateMessage(coder, ctx, update.layout, [encodeLayers(update.data, update.layout, ctx, 0, encodeSection)]), state };
      },
    }),
    decodeTo(message, layout, ctx, receiver, out, limits) {
      const msg = readUpdate(coder, message, layout, ctx, {}, [], 1, limits);
      return { update: paramsFrom(layout, decodePart(coder, msg.parts[0], layout, ctx, 0, out)), receiver };
    },
  });
}
