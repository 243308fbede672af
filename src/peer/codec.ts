// The peer's uses of the compression layer's wire codec:
//   exact   lossless models (exact merges, the server's download)
//   model   whole models in gossip: identity, fp16 or int8 (a model can be quantized; it cannot
//           be sparsified without losing it)
//   choco   gossip with a lossy compressor (top-k, rand-k, sign, random subspace): compressed
//           differences to public copies, CHOCO-Gossip style (aggregation 'choco-gossip')
//   update  federated uploads: the change since the global model, compressed with error feedback
//   group   the group compressor (PowerSGD, ARC-Top-K, GreedyLore), when the config names one
// Every decode validates (layout, round, phase, sender, finiteness, checksum) and throws a
// WireError that the caller logs and drops.
// The codecs reuse model-sized buffers from call to call (a fresh 40 MB array costs the OS
// zeroing its pages, more than compressing it): what a call returns stays valid only as long as
// the interface below says; a caller that keeps it longer copies it.
import type { Params, ParamLayout } from '../params/index.js';
import { paramsFrom, sub } from '../params/index.js';
import { ConfigError } from '../util/errors.js';
import {
  buildCompressor,
  isGroupMethod,
  isWholeModelMethod,
  type CompressionSpec,
  type GroupCompressor,
  type PointwiseCompressor,
  type MethodName,
} from '../compression/index.js';
import type { GossipWire, ModelCodec } from './gossip.js';
import { wholeModels } from './gossip.js';
import type { AggregationState } from '../aggregation/build.js';
import { aggregationRegistry, rulesWhere } from '../aggregation/registry.js';
import { orList } from './local-training.js';

/** Where a message belongs: its round, phase and sender index. */
export interface MessageMeta {
  readonly round: number;
  readonly phase: number;
  readonly sender: number;
}

/**
 * Where a DeltaCodec decodes into, and so how long a decoded difference stays valid:
 * 'per-sender', until the codec decodes the next message of the same sender (gossip holds every
 * neighbour's difference until it mixes); 'one', until it decodes the next message of anyone (a
 * server that folds each upload in before decoding the next).
 */
export type DecodeBuffers = 'per-sender' | 'one';

/** Encodes model differences with a compressor and decodes them, keeping per-sender memory. */
export interface DeltaCodec {
  readonly decodeBuffers: DecodeBuffers;
  /** Fresh per-peer compressor memory (error feedback). */
  initState(): unknown;
  /** Encodes `current − base` (`current` itself when base is null); returns the bytes and the new state. */
  encode(current: Params, base: Float32Array | null, state: unknown, meta: MessageMeta): { bytes: Uint8Array; state: unknown };
  /**
   * As encode, and also returns what receivers will decode, in a buffer the codec keeps for
   * `meta.sender`: valid until that sender's next encodeWithDecoded.
   */
  encodeWithDecoded(current: Params, base: Float32Array | null, state: unknown, meta: MessageMeta): { bytes: Uint8Array; state: unknown; decoded: Params };
  /**
   * Decodes a message from `meta.sender`; keeps that sender's receiver-side memory (EF21's h).
   * The result lives in a buffer the codec reuses (see `decodeBuffers`).
   */
  decode(bytes: Uint8Array, meta: MessageMeta): Params;
}

/** The codecs a run's compression config yields: exact models, compressed models and deltas. */
export interface UpdateCodec {
  readonly method: MethodName;
  readonly exact: ModelCodec;
  readonly model: ModelCodec;
  /** Present when gossip must send compressed differences (lossy pointwise methods); decodes per sender. */
  readonly choco: DeltaCodec | undefined;
  /** Federated uploads; decodes into one buffer. */
  readonly update: DeltaCodec;
  /** Present for PowerSGD, ARC-Top-K, GreedyLore. */
  readonly group: GroupCompressor<unknown, unknown> | undefined;
  /** Run seed, for compression contexts built outside the codec (group rounds). */
  readonly seed: number;
}

/** Builds the update codecs for a compression spec over a parameter layout. */
export function buildCodec(spec: CompressionSpec & { consensusStep?: number }, layout: ParamLayout, seed: number): UpdateCodec {
  const { consensusStep: _ignored, ...compression } = spec;
  const exact = modelCodec(buildCompressor({ method: 'identity' }, seed) as PointwiseCompressor, layout, seed);
  const group = isGroupMethod(compression.method) ? (buildCompressor(compression, seed) as GroupCompressor<unknown, unknown>) : undefined;
  const pointwise = group ? undefined : (buildCompressor(compression, seed) as PointwiseCompressor);
  const lossless = isWholeModelMethod(compression.method) && (compression.errorFeedback ?? 'none') === 'none';
  return {
    method: compression.method,
    exact,
    model: pointwise && lossless ? modelCodec(pointwise, layout, seed) : exact,
    choco: pointwise && !lossless ? deltaCodec(pointwise, layout, seed, 'per-sender') : undefined,
    update: deltaCodec(pointwise ?? (buildCompressor({ method: 'identity' }, seed) as PointwiseCompressor), layout, seed, 'one'),
    group,
    seed,
  };
}

/**
 * Whole models through a stateless pointwise compressor. Decoding allocates: a decoded model is
 * kept (a peer adopts it, an exact merge holds it), so it cannot live in a reused buffer.
 */
function modelCodec(c: PointwiseCompressor, layout: ParamLayout, seed: number): ModelCodec {
  const state = c.initialState(layout);
  const receiver = c.initialReceiverState(layout);
  return {
    encode: (params, meta) => c.encodeBytes(params, state, { seed, ...meta }).message,
    decode: (bytes, meta) => c.decode(bytes, layout, { seed, ...meta }, receiver).update,
  };
}

/** A model-sized buffer per key, made on first use and reused after. */
function buffersByKey(size: number): (key: number) => Float32Array {
  const buffers = new Map<number, Float32Array>();
  return (key) => {
    let b = buffers.get(key);
    if (!b) buffers.set(key, (b = new Float32Array(size)));
    return b;
  };
}

/** Changes through a pointwise compressor with per-peer (sender) and per-sender (receiver) memory. */
function deltaCodec(c: PointwiseCompressor, layout: ParamLayout, seed: number, decodeBuffers: DecodeBuffers): DeltaCodec {
  const receivers = new Map<number, unknown>();
  // current − base is consumed inside the encode call, so one buffer serves every sender.
  const difference = new Float32Array(layout.size);
  const decodedOf = buffersByKey(layout.size);
  const decodeBuffer = buffersByKey(layout.size);
  const input = (current: Params, base: Float32Array | null): Params => (base ? paramsFrom(current.layout, sub(difference, current.data, base)) : current);
  return {
    decodeBuffers,
    initState: () => c.initialState(layout),
    encode: (current, base, state, meta) => {
      const r = c.encodeBytes(input(current, base), state ?? c.initialState(layout), { seed, ...meta });
      return { bytes: r.message, state: r.state };
    },
    encodeWithDecoded: (current, base, state, meta) => {
      const r = c.encodeInto(input(current, base), state ?? c.initialState(layout), { seed, ...meta }, decodedOf(meta.sender));
      return { bytes: r.message, state: r.state, decoded: r.decoded };
    },
    decode: (bytes, meta) => {
      const before = receivers.has(meta.sender) ? receivers.get(meta.sender) : c.initialReceiverState(layout);
      const r = c.decodeInto(bytes, layout, { seed, ...meta }, before, decodeBuffer(decodeBuffers === 'per-sender' ? meta.sender : 0));
      receivers.set(meta.sender, r.receiver);
      return r.update;
    },
  };
}

/** Checks that the run's mode, aggregation and compressor can work together. */
export function checkCompressionFits(mode: 'gossip' | 'federated', aggregation: string, codec: UpdateCodec, errorFeedback = 'none'): void {
  if (mode === 'gossip' && errorFeedback !== 'none') {
    throw new ConfigError(`compression.errorFeedback: ${errorFeedback} applies to federated uploads; gossip with a lossy compressor keeps its error in CHOCO's public copies (set errorFeedback: none)`);
  }
  if (mode === 'gossip' && codec.group) {
    throw new ConfigError(
      `compression: ${codec.method} needs the whole group to agree each round; use it with mode: federated (gossip mode takes identity, fp16, int8, or a lossy pointwise method with aggregation choco-gossip)`,
    );
  }
  if (mode === 'gossip' && codec.choco && aggregation !== 'choco-gossip') {
    throw new ConfigError(
      `compression: ${codec.method} loses most of a model, so gossip must send compressed differences: set aggregation: { name: choco-gossip } (or compress with identity, fp16 or int8)`,
    );
  }
  if (mode === 'gossip' && !codec.choco && aggregation === 'choco-gossip') {
    throw new ConfigError(`aggregation choco-gossip exchanges compressed differences; pick a lossy compression method (top-k, rand-k, sign, random-subspace)`);
  }
  // A rule whose server step is the plain mean (FedAvg, FedProx) is what the group's average replaces.
  if (mode === 'federated' && codec.group && !(aggregationRegistry.has(aggregation) && aggregationRegistry.get(aggregation).serverMean)) {
    throw new ConfigError(`compression: ${codec.method} averages the group's updates itself; use aggregation ${orList(rulesWhere((e) => Boolean(e.serverMean)))} with it`);
  }
}

/**
 * The gossip wire of one peer for one exchange: whole models, or (lossy compression) the
 * compressed difference between `outgoing` and this peer's public copy x̂ held in its CHOCO state.
 */
export function gossipWire(codec: UpdateCodec, outgoing: Params, aggState: AggregationState): GossipWire {
  const choco = codec.choco;
  if (!choco) return wholeModels(codec.model, outgoing);
  const publicCopy = aggState && aggState.rule === 'choco-gossip' ? aggState.self : null;
  return {
    encode: (meta) => {
      // The aggregation reads ownUpdate (in the codec's buffer for this sender) before this peer encodes again.
      const r = choco.encodeWithDecoded(outgoing, publicCopy, null, meta);
      return { bytes: r.bytes, ownUpdate: r.decoded };
    },
    decode: (bytes, meta) => choco.decode(bytes, meta),
  };
}
