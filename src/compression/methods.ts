// The built-in compression methods, one entry each: kind, capabilities, parameters and builder.
// The registry (./registry.ts) starts from this list; the config's method list, the group and
// whole-model methods and the builder all read the registry. A new built-in method is its
// coder's file plus one entry below, and its name appended to the wire's id list (./wire-ids.ts).
import { fp16Coder, identityCoder, int8Coder, signCoder } from './coders.js';
import { randKCoder, topKCoder } from './sparse.js';
import { randomSubspaceCoder } from './subspace.js';
import { arcTopK } from './arc-topk.js';
import { powerSgd } from './powersgd.js';
import { greedyLore } from './greedylore.js';
import { builtInSchema, defineGroup, definePointwise } from './entry.js';
import { BUILT_IN_METHODS } from './wire-ids.js';

const rankOf = (spec: { rank?: number }) => spec.rank ?? 4;
const ratioOf = (spec: { ratio?: number }) => spec.ratio ?? 0.01;

/** The built-in methods, in wire-id order. */
export const COMPRESSION_METHODS = [
  definePointwise({ name: 'identity', wholeModel: true, schema: builtInSchema('identity', []), summary: 'float32, lossless', build: () => identityCoder }),
  definePointwise({ name: 'fp16', wholeModel: true, schema: builtInSchema('fp16', []), summary: 'half precision', build: () => fp16Coder }),
  definePointwise({
    name: 'int8',
    wholeModel: true,
    schema: builtInSchema('int8', ['blockSize']),
    summary: 'int8 with a scale per block, stochastic rounding',
    build: (s, seed) => int8Coder(s.blockSize ?? 256, seed),
  }),
  definePointwise({ name: 'sign', wholeModel: false, schema: builtInSchema('sign', []), summary: 'one bit per value and a scale', build: () => signCoder }),
  definePointwise({ name: 'top-k', wholeModel: false, schema: builtInSchema('top-k', ['ratio']), summary: 'the largest entries of each layer', build: (s) => topKCoder(ratioOf(s)) }),
  definePointwise({ name: 'rand-k', wholeModel: false, schema: builtInSchema('rand-k', ['ratio']), summary: 'seeded random entries', build: (s, seed) => randKCoder(ratioOf(s), false, seed) }),
  definePointwise({
    name: 'rand-k-unbiased',
    wholeModel: false,
    schema: builtInSchema('rand-k-unbiased', ['ratio']),
    summary: 'seeded random entries scaled by d/k',
    build: (s, seed) => randKCoder(ratioOf(s), true, seed),
  }),
  definePointwise({
    name: 'random-subspace',
    wholeModel: false,
    schema: builtInSchema('random-subspace', ['rank']),
    summary: 'projection on a shared random subspace',
    build: (s, seed) => randomSubspaceCoder(rankOf(s), seed),
  }),
  defineGroup({
    name: 'arc-top-k',
    schema: builtInSchema('arc-top-k', ['rho', 'sketchRank', 'denseRounds']),
    summary: 'rows chosen together from a shared sketch',
    build: (s, seed) => arcTopK({ rho: s.rho, sketchRank: s.sketchRank, denseRounds: s.denseRounds, seed }),
  }),
  defineGroup({ name: 'powersgd', schema: builtInSchema('powersgd', ['rank']), summary: 'rank-r power iteration', build: (s, seed) => powerSgd({ rank: rankOf(s), seed }) }),
  defineGroup({
    name: 'powersgd-plus',
    schema: builtInSchema('powersgd-plus', ['rank', 'refreshEvery']),
    summary: 'PowerSGD with periodic dense refreshes',
    build: (s, seed) => powerSgd({ rank: rankOf(s), seed, refreshEvery: s.refreshEvery ?? 10 }),
  }),
  defineGroup({
    name: 'greedylore',
    schema: builtInSchema('greedylore', ['rank', 'refreshEvery']),
    summary: 'greedy choice of basis vectors by a shared probe',
    build: (s, seed) => greedyLore({ rank: rankOf(s), refreshEvery: s.refreshEvery ?? 10, seed }),
  }),
] as const;

/** Built-in method names, in wire order. */
export const METHOD_NAMES = BUILT_IN_METHODS;

/** Built-in methods whose messages are whole models (identity, fp16, int8): gossip without CHOCO, async rounds. */
export const WHOLE_MODEL_METHODS: readonly string[] = COMPRESSION_METHODS.filter((m) => m.kind === 'pointwise' && m.wholeModel).map((m) => m.name);
