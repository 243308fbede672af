/**
 * Public API of the compression layer: compressors (pointwise and group), error feedback,
 * the wire codec and its typed error.
 * @module
 */
export { WireError, type WireProblem } from './errors.js';
export type { CompressionContext } from './context.js';
export {
  WIRE_FORMAT_VERSION,
  MAX_PARTS,
  METHODS,
  PARAM_NAMES,
  encodeMessage,
  decodeMessage,
  expectParams,
  layoutHash,
  maxMessageBytes,
  type WireMessage,
  type MessageKind,
  type MethodName,
  type MethodParams,
  type ParamName,
  type Expected,
  type DecodeLimits,
} from './wire.js';
export type { Section, Coding } from './sections.js';
export { crc32 } from './crc32.js';
export { matrixShape, denseBytes, keepCount, type MatrixShape } from './layers.js';
export { identityCoder, fp16Coder, int8Coder, signCoder, expectSection, assertFiniteOutput, type LayerCoder, type LayerInfo } from './coders.js';
export { layerSeed, layerRng } from './context.js';
export { topKCoder, randKCoder } from './sparse.js';
export { randomSubspaceCoder } from './subspace.js';
export { topKIndices, sampleSortedIndices } from './select.js';
export { plainCompressor, type PointwiseCompressor, type PointwiseEncodeResult, type PointwiseDecodeResult, type PointwiseMessage } from './pointwise.js';
export {
  ef14,
  ef21,
  ef21m,
  econtrol,
  ERROR_FEEDBACK_IDS,
  type ErrorFeedbackKind,
  type Ef14State,
  type Ef21State,
  type Ef21MState,
  type EControlState,
  type TrackedEstimate,
} from './feedback.js';
export {
  runGroupRound,
  type GroupCompressor,
  type GroupMessage,
  type GroupStep,
  type GroupSend,
  type GroupExclusion,
  type GroupPeerInput,
  type GroupRoundResult,
} from './group.js';
export { powerSgd, powerSgdPlan, type PowerSgdOptions, type PowerSgdState, type PowerSgdSession } from './powersgd.js';
export { arcTopK, arcTopKPlan, type ArcTopKOptions, type ArcTopKState, type ArcTopKSession, type ArcLayer } from './arc-topk.js';
export { greedyLore, greedyLorePlan, type GreedyLoreOptions, type GreedyLoreState, type GreedyLoreSession, type LoreLayer } from './greedylore.js';
export { buildCompressor, GROUP_METHODS, type Compressor, type CompressionSpec } from './build.js';
export { COMPRESSION_METHODS, METHOD_NAMES, WHOLE_MODEL_METHODS } from './methods.js';
export { compressorRegistry, methodEntry, isGroupMethod, isWholeModelMethod, methodsWhere } from './registry.js';
export {
  definePointwise,
  defineGroup,
  entryParams,
  type CompressorEntry,
  type PointwiseEntry,
  type GroupEntry,
} from './entry.js';
export { compressionSchema, currentCompressionSchema } from './spec.js';
export { PLUGIN_METHOD_IDS, pluginMethodId, type BuiltInMethodName } from './wire-ids.js';
