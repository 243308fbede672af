// What every compressor call knows about its place in the run. All shared randomness (rand-k
// indices, projectors, sketches, probes, stochastic rounding) is derived from these numbers,
// never from per-peer state, so sender and receivers draw the same values.
import { Rng, deriveSeed } from '../util/rng.js';

/** What sender and receivers share about one message (seed, round, sender), so they draw the same random values. */
export interface CompressionContext {
  /** The run's seed (shared by every peer). */
  readonly seed: number;
  readonly round: number;
  /** Index of the sending peer (on encode: this peer; on decode: whom the message is from). */
  readonly sender: number;
  /** The exchange phase the message travels in (default 0); checked on decode. */
  readonly phase?: number;
}

/**
 * The seed of one purpose's randomness in one layer. `perSender` seeds differ between senders
 * (rand-k indices, stochastic rounding); group-shared ones (projectors, sketches) do not.
 * `salt` separates the two compressions of one message (EControl).
 */
export function layerSeed(ctx: CompressionContext, purpose: string, layer: number, perSender: boolean, salt = 0): number {
  return perSender ? deriveSeed(ctx.seed, purpose, ctx.round, ctx.sender, salt, layer) : deriveSeed(ctx.seed, purpose, ctx.round, salt, layer);
}

/** The random stream seeded by layerSeed. */
export function layerRng(ctx: CompressionContext, purpose: string, layer: number, perSender: boolean, salt = 0): Rng {
  return new Rng(layerSeed(ctx, purpose, layer, perSender, salt));
}

export function assertContext(ctx: CompressionContext): void {
  for (const key of ['seed', 'round', 'sender'] as const) {
    const v = ctx[key];
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`compression context: ${key} must be an integer in [0, 2^32), got ${v}`);
  }
}
