// What a compressor registry entry is: its name (`compression.method`), its parameters as a zod
// object, its capabilities and its factory. Built-in methods share one set of parameter keys
// (so a sweep can switch the method and keep `ratio`); a plug-in brings its own keys.
import { z } from 'zod';
import type { RegistryEntry } from '../util/registry.js';
import type { LayerCoder } from './coders.js';
import type { GroupCompressor } from './group.js';

const positiveInt = z.number().int().min(1);

/** The parameter keys of the built-in methods, one description each (the config's compression section). */
export const SHARED_KEYS = {
  ratio: z.number().gt(0).max(1).optional().describe('top-k / rand-k: fraction of entries kept'),
  rank: positiveInt.optional().describe('low-rank methods: rank r'),
  blockSize: positiveInt.optional().describe('int8: values per scale block'),
  rho: z.number().gt(0).max(1).optional().describe('ARC-Top-K: fraction of rows kept'),
  sketchRank: positiveInt.optional().describe('ARC-Top-K: sketch columns'),
  denseRounds: z.number().int().min(0).optional().describe('ARC-Top-K: dense rounds at the start'),
  refreshEvery: positiveInt.optional().describe('PowerSGD+ / GreedyLore: rounds between dense refreshes'),
};

/** Keys every method's section has: error feedback wraps any pointwise method (a group method refuses it when built). */
export const FEEDBACK_KEYS = {
  errorFeedback: z.enum(['none', 'ef14', 'ef21', 'ef21-m', 'econtrol']).default('none').describe('federated uploads with a pointwise method'),
  eta: z.number().gt(0).max(1).optional().describe('EF21-M momentum weight, EControl error weight'),
};

export type SharedKey = keyof typeof SHARED_KEYS;

/** A built-in method's own schema: `method` and the shared keys it reads. */
export function builtInSchema<const N extends string, const K extends SharedKey>(name: N, keys: readonly K[]) {
  const shape = Object.fromEntries(keys.map((k) => [k, SHARED_KEYS[k]])) as Pick<typeof SHARED_KEYS, K>;
  return z.strictObject({ method: z.literal(name), ...shape });
}

interface EntryBase<S extends z.ZodObject> extends RegistryEntry {
  /** `method` fixed to the entry's name, and its parameters. */
  readonly schema: S;
}

/**
 * A method that compresses each peer's update on its own, layer by layer (error feedback can
 * wrap it, and it gossips as CHOCO differences, or as whole models when `wholeModel`).
 */
export interface PointwiseEntry<S extends z.ZodObject = z.ZodObject> extends EntryBase<S> {
  readonly kind: 'pointwise';
  /**
   * Sends a whole model close enough to gossip it as is (no CHOCO differences needed); such
   * messages are stateless, so asynchronous rounds can mix them.
   */
  readonly wholeModel: boolean;
  /** The layer coder of a validated spec; its `method` is the entry's name. `seed` is the run's. */
  build(spec: z.output<S>, seed: number): LayerCoder;
}

/** A method the whole group runs together in phases (the peers agree on a projection or rows); it keeps its own error memory. */
export interface GroupEntry<S extends z.ZodObject = z.ZodObject> extends EntryBase<S> {
  readonly kind: 'group';
  build(spec: z.output<S>, seed: number): GroupCompressor<unknown, unknown>;
}

/** A compression method a config can name. */
export type CompressorEntry = PointwiseEntry | GroupEntry;

/** A pointwise entry with its schema's type kept, so `build` sees the typed spec (use it for a plug-in too). */
export function definePointwise<const S extends z.ZodObject>(e: Omit<PointwiseEntry<S>, 'kind'>): PointwiseEntry<S> {
  return { ...e, kind: 'pointwise' };
}

/** A group entry with its schema's type kept. */
export function defineGroup<const S extends z.ZodObject>(e: Omit<GroupEntry<S>, 'kind'>): GroupEntry<S> {
  return { ...e, kind: 'group' };
}

/** The parameter keys of an entry (its schema's keys but `method`), for docs and errors. */
export function entryParams(e: { readonly schema: z.ZodObject }): string[] {
  return Object.keys(e.schema.shape).filter((k) => k !== 'method');
}
