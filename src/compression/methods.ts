// The registry of compression methods: one entry per method says what kind it is, what it can
// carry, which parameters it reads, and how to build it. Everything else derives from here: the
// config's method list, the group methods, the methods that can gossip whole models (and so run
// asynchronously), and the builder. A new method is its coder's file plus one entry below (and
// its wire id, appended to METHODS in ./wire.ts).
import type { CompressionSpec } from './build.js';
import type { LayerCoder } from './coders.js';
import { fp16Coder, identityCoder, int8Coder, signCoder } from './coders.js';
import type { GroupCompressor } from './group.js';
import { randKCoder, topKCoder } from './sparse.js';
import { randomSubspaceCoder } from './subspace.js';
import { arcTopK } from './arc-topk.js';
import { powerSgd } from './powersgd.js';
import { greedyLore } from './greedylore.js';
import { METHODS, type MethodName } from './wire.js';
import { ConfigError } from '../util/errors.js';

type Param = Exclude<keyof CompressionSpec, 'method' | 'errorFeedback' | 'eta'>;

interface EntryBase {
  readonly name: MethodName;
  /** Parameters of the spec this method reads (others set are refused). */
  readonly params: readonly Param[];
  /** One line for docs and errors. */
  readonly summary: string;
}

/** A method that compresses each peer's update on its own (error feedback can wrap it). */
export interface PointwiseEntry extends EntryBase {
  readonly kind: 'pointwise';
  /** Sends a whole model close enough to gossip it as is (no CHOCO differences needed); such messages are stateless, so async rounds can mix them. */
  readonly wholeModel: boolean;
  build(spec: CompressionSpec, seed: number): LayerCoder;
}

/** A method the whole group runs together in phases (the peers agree on a projection or rows). */
export interface GroupEntry extends EntryBase {
  readonly kind: 'group';
  build(spec: CompressionSpec, seed: number): GroupCompressor<unknown, unknown>;
}

export type MethodEntry = PointwiseEntry | GroupEntry;

const rankOf = (spec: CompressionSpec) => spec.rank ?? 4;
const ratioOf = (spec: CompressionSpec) => spec.ratio ?? 0.01;

export const COMPRESSION_METHODS: readonly MethodEntry[] = [
  { name: 'identity', kind: 'pointwise', wholeModel: true, params: [], summary: 'float32, lossless', build: () => identityCoder },
  { name: 'fp16', kind: 'pointwise', wholeModel: true, params: [], summary: 'half precision', build: () => fp16Coder },
  { name: 'int8', kind: 'pointwise', wholeModel: true, params: ['blockSize'], summary: 'int8 with a scale per block, stochastic rounding', build: (s, seed) => int8Coder(s.blockSize ?? 256, seed) },
  { name: 'sign', kind: 'pointwise', wholeModel: false, params: [], summary: 'one bit per value and a scale', build: () => signCoder },
  { name: 'top-k', kind: 'pointwise', wholeModel: false, params: ['ratio'], summary: 'the largest entries of each layer', build: (s) => topKCoder(ratioOf(s)) },
  { name: 'rand-k', kind: 'pointwise', wholeModel: false, params: ['ratio'], summary: 'seeded random entries', build: (s, seed) => randKCoder(ratioOf(s), false, seed) },
  { name: 'rand-k-unbiased', kind: 'pointwise', wholeModel: false, params: ['ratio'], summary: 'seeded random entries scaled by d/k', build: (s, seed) => randKCoder(ratioOf(s), true, seed) },
  { name: 'random-subspace', kind: 'pointwise', wholeModel: false, params: ['rank'], summary: 'projection on a shared random subspace', build: (s, seed) => randomSubspaceCoder(rankOf(s), seed) },
  {
    name: 'arc-top-k',
    kind: 'group',
    params: ['rho', 'sketchRank', 'denseRounds'],
    summary: 'rows chosen together from a shared sketch',
    build: (s, seed) => arcTopK({ rho: s.rho, sketchRank: s.sketchRank, denseRounds: s.denseRounds, seed }),
  },
  { name: 'powersgd', kind: 'group', params: ['rank'], summary: 'rank-r power iteration', build: (s, seed) => powerSgd({ rank: rankOf(s), seed }) },
  {
    name: 'powersgd-plus',
    kind: 'group',
    params: ['rank', 'refreshEvery'],
    summary: 'PowerSGD with periodic dense refreshes',
    build: (s, seed) => powerSgd({ rank: rankOf(s), seed, refreshEvery: s.refreshEvery ?? 10 }),
  },
  {
    name: 'greedylore',
    kind: 'group',
    params: ['rank', 'refreshEvery'],
    summary: 'greedy choice of basis vectors by a shared probe',
    build: (s, seed) => greedyLore({ rank: rankOf(s), refreshEvery: s.refreshEvery ?? 10, seed }),
  },
];

const byName = new Map(COMPRESSION_METHODS.map((m) => [m.name, m]));

/** The entry of a method; an unknown name is a config error. */
export function methodEntry(name: string): MethodEntry {
  const m = byName.get(name as MethodName);
  if (!m) throw new ConfigError(`compression: unknown method '${name}' (use ${METHOD_NAMES.join(', ')})`);
  return m;
}

/** Registered method names, in wire order. */
export const METHOD_NAMES = METHODS.filter((m) => byName.has(m)) as readonly MethodName[];

/** Methods whose messages are whole models (identity, fp16, int8): gossip without CHOCO, async rounds. */
export const WHOLE_MODEL_METHODS: readonly MethodName[] = COMPRESSION_METHODS.filter((m) => m.kind === 'pointwise' && m.wholeModel).map((m) => m.name);
