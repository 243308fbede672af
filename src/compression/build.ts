// From a compression config (method, its parameters, error feedback) to a compressor, through
// the method's registry entry.
import { ConfigError } from '../util/errors.js';
import { deriveSeed } from '../util/rng.js';
import type { LayerCoder } from './coders.js';
import { ef14, ef21, ef21m, econtrol, type ErrorFeedbackKind } from './feedback.js';
import type { GroupCompressor } from './group.js';
import { plainCompressor, type PointwiseCompressor } from './pointwise.js';
import type { MethodName } from './wire.js';
import { BUILT_IN_METHODS } from './wire-ids.js';
import { COMPRESSION_METHODS } from './methods.js';
import { methodEntry } from './registry.js';
import { FEEDBACK_KEYS } from './entry.js';

/** Either kind of compressor; `kind` tells the peer algorithm how to drive it. */
export type Compressor = PointwiseCompressor<any, any> | GroupCompressor<any, any>;

/** A compression method and its parameters, as a config gives them (a plug-in's own keys as well). */
export interface CompressionSpec {
  readonly method: MethodName;
  /** top-k / rand-k: fraction of each layer's entries kept (default 0.01). */
  readonly ratio?: number;
  /** PowerSGD(+), GreedyLore, random-subspace: rank r (default 4). */
  readonly rank?: number;
  /** int8: values per scale (default 256). */
  readonly blockSize?: number;
  /** ARC-Top-K: fraction of rows kept (default 0.2). */
  readonly rho?: number;
  /** ARC-Top-K: sketch columns (default 4). */
  readonly sketchRank?: number;
  /** ARC-Top-K: dense rounds at the start (default 0). */
  readonly denseRounds?: number;
  /** PowerSGD+ / GreedyLore: rounds between dense refreshes (default 10). */
  readonly refreshEvery?: number;
  /** Pointwise methods only (default none). */
  readonly errorFeedback?: 'none' | ErrorFeedbackKind;
  /** EF21-M momentum weight, EControl error weight (default 0.1). */
  readonly eta?: number;
}

/** The built-in methods that run as group compressors. */
export const GROUP_METHODS: readonly MethodName[] = COMPRESSION_METHODS.filter((m) => m.kind === 'group').map((m) => m.name);

/** Builds the compressor of a spec; `seed` is the run's seed (shared randomness). Bad specs throw ConfigError. */
export function buildCompressor(spec: CompressionSpec, seed: number): Compressor {
  try {
    return build(spec, seed);
  } catch (err) {
    if (err instanceof RangeError) throw new ConfigError(`compression: ${err.message}`);
    throw err;
  }
}

function build(spec: CompressionSpec, seed: number): Compressor {
  const entry = methodEntry(spec.method);
  const ef = spec.errorFeedback ?? 'none';
  if (entry.kind === 'group') {
    if (ef !== 'none') {
      throw new ConfigError(`compression: ${spec.method} keeps its own error memory; set errorFeedback to none (error feedback wraps pointwise methods only)`);
    }
    const group = entry.build(spec as never, seed);
    if (group.name !== spec.method) throw new ConfigError(`compression.method: compressor '${spec.method}' built a group compressor named '${group.name}'; they must be the same (its messages carry that name's wire id)`);
    return group;
  }
  const coder = pluginCoder(entry.build(spec as never, seed), spec);
  const eta = spec.eta ?? 0.1;
  switch (ef) {
    case 'none':
      return plainCompressor(coder);
    case 'ef14':
      return ef14(coder);
    case 'ef21':
      return ef21(coder);
    case 'ef21-m':
      return ef21m(coder, eta);
    case 'econtrol':
      return econtrol(coder, eta);
    default:
      throw new ConfigError(`compression: unknown errorFeedback '${String(ef)}' (use none, ef14, ef21, ef21-m or econtrol)`);
  }
}

/**
 * A plug-in's coder, checked, with a digest of its name and parameters in the message header:
 * the wire names a plug-in by a 7-bit hash of its name only, and its own parameters have no
 * header ids, so the digest is what makes peers with another plug-in under the same id, or other
 * parameters, refuse each other's messages (mismatch) instead of decoding them wrongly.
 */
function pluginCoder(coder: LayerCoder, spec: CompressionSpec): LayerCoder {
  if ((BUILT_IN_METHODS as readonly string[]).includes(spec.method)) return coder;
  if (coder.method !== spec.method) throw new ConfigError(`compression.method: compressor '${spec.method}' built a coder whose method is '${coder.method}'; they must be the same (its messages carry that name's wire id)`);
  if (coder.params.digest !== undefined) return coder;
  const own = Object.entries(spec)
    .filter(([k]) => !(k in FEEDBACK_KEYS))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // A view of the coder with the digest added (its prototype is the coder, so a class's methods still work).
  return Object.create(coder, { params: { value: { ...coder.params, digest: deriveSeed('compressor', JSON.stringify(own)) }, enumerable: true } }) as LayerCoder;
}
