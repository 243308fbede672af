// The registry of aggregation rules: one entry per `aggregation.name`, with its parameters (a
// zod object), its builder and its capabilities (the modes it runs in, whether it withstands f
// faulty contributions, what it asks of local training, whether it needs a server, whether
// its server step is a plain mean). The config's aggregation section, the
// mode/rule checks and docs/config.md derive from it. A new rule is its file plus one entry in
// AGGREGATION_RULES, or, from code, aggregationRegistry.register().
import { z } from 'zod';
import { Registry } from '../util/registry.js';
import { stateful, stateless, withstands, type Aggregator } from './aggregator.js';
import { chocoGossip, chocoInitialState } from './choco.js';
import { coordinateMedian, coordinateMinGroup, medianTolerates, trimmedMean } from './coordinate.js';
import { d2Mix } from './d2.js';
import { fedAu, fedAuInitialState } from './fedau.js';
import { fedAvg } from './fedavg.js';
import { fedAvgM, fedAvgMInitialState } from './fedavg-m.js';
import { gossipMix } from './gossip.js';
import { krum, krumMinGroup } from './krum.js';
import { nearestNeighbourAverage, nnaMinGroup } from './nna.js';
import { scaffold, scaffoldInitialState } from './scaffold.js';
import { scaffoldGossip, scaffoldGossipInitialState } from './scaffold-gossip.js';
import { serverOptimizer, serverOptimizerInitialState, type ServerOptimizerKind } from './server-opt.js';
import { varianceCorrected } from './vca.js';

/**
 * Where a rule runs: gossip (mixing over the topology's weights) or federated (a server, a
 * serverless all-reduce group or MoDeST aggregators average the round's contributions).
 */
export type RuleMode = 'gossip' | 'federated';

/** What a rule can do and needs, read by the config's checks and shown in docs/config.md. */
export interface RuleCapabilities {
  readonly modes: readonly RuleMode[];
  /** Reads f, the faulty contributions it withstands: required, optional, or not at all. */
  readonly faults: 'required' | 'optional' | 'none';
  /** Its local-training part (the round driver applies it around the local steps, src/peer/local-training.ts). */
  readonly localTraining?: 'proximal' | 'control-variates' | 'd2';
  /**
   * Runs with a server only (mode federated; not the serverless all-reduce or MoDeST): why, as
   * the refusal says it (e.g. 'keeps the server control variate c').
   */
  readonly serverOnly?: string;
  /**
   * Its server step is FedAvg's mean of the contributions and nothing more: central DP can noise
   * that mean (DP-FedAvg), and a group compressor, which averages the updates itself, can stand
   * in for it.
   */
  readonly serverMean?: boolean;
}

/** An aggregation rule a config can name. */
export interface RuleEntry<S extends z.ZodObject = z.ZodObject> extends RuleCapabilities {
  readonly name: string;
  readonly summary: string;
  /** Parameters, `name` fixed to the rule's. */
  readonly schema: S;
  /** The Aggregator of a validated spec. */
  build(spec: z.output<S> & { readonly name: string }): Aggregator;
}

/** An entry with its schema's type kept, so `build` sees the typed spec (use it for a plug-in too). */
export function defineRule<const S extends z.ZodObject>(e: RuleEntry<S>): RuleEntry<S> {
  return e;
}

const faults = z.number().int().min(0);
const positive = z.number().positive().finite();
const includeSelf = z
  .boolean()
  .optional()
  .describe('aggregate the own model together with the received ones (default true; set false for a server aggregating clients)');
const both: readonly RuleMode[] = ['gossip', 'federated'];
const federated: readonly RuleMode[] = ['federated'];
const gossip: readonly RuleMode[] = ['gossip'];
const fRequired = 'f: faulty contributions to withstand; groups smaller than 2f + 1 are refused';

function adaptive<const N extends ServerOptimizerKind>(name: N, summary: string) {
  return defineRule({
    name,
    summary,
    modes: federated,
    faults: 'none',
    schema: z.strictObject({
      name: z.literal(name),
      serverLr: positive.describe('η: server learning rate of the adaptive step (Reddi et al. 2021 tune it per task, e.g. 1e-2 to 1)'),
      beta1: z.number().min(0).lt(1).optional().describe('β1: momentum of the pseudo-gradient, in [0, 1) (default 0.9)'),
      beta2: z.number().min(0).lt(1).optional().describe('β2: decay of the second moment, in [0, 1) (default 0.99; FedAdagrad ignores it)'),
      tau: positive.optional().describe('τ: adaptivity, added to √v; v starts at τ² (default 1e-3)'),
    }),
    build: (s) => stateful(s, () => serverOptimizerInitialState(name), serverOptimizer(name, s)),
  });
}

/** The built-in rules, in the order the config lists them. */
export const AGGREGATION_RULES = [
  defineRule({ name: 'fedavg', summary: 'sample-weighted mean', modes: federated, faults: 'none', serverMean: true, schema: z.strictObject({ name: z.literal('fedavg') }), build: (s) => stateless(s, fedAvg, { minGroupSize: 1 }) }),
  defineRule({ name: 'gossip', summary: 'mix with the topology row\'s weights', modes: gossip, faults: 'none', schema: z.strictObject({ name: z.literal('gossip') }), build: (s) => stateless(s, gossipMix) }),
  defineRule({
    name: 'choco-gossip',
    summary: 'CHOCO-Gossip: mix public copies updated by compressed differences',
    modes: gossip,
    faults: 'none',
    schema: z.strictObject({ name: z.literal('choco-gossip'), stepSize: positive.max(1).optional().describe('γ: consensus step size, in (0, 1] (default 1)') }),
    build: (s) => stateful(s, chocoInitialState, chocoGossip(s), 'difference'),
  }),
  defineRule({
    name: 'vca',
    summary: 'variance-corrected averaging',
    modes: gossip,
    faults: 'none',
    schema: z.strictObject({
      name: z.literal('vca'),
      selfWeight: z.number().min(0).max(1).optional().describe('c: weight of the own model in the average, in [0, 1] (default 0.5)'),
      targetVariance: z
        .enum(['follow-others', 'mix', 'own'])
        .optional()
        .describe('variance each tensor is rescaled to: the received models\' mean variance, its mix with the own (weight c), or the own (default follow-others)'),
      epsilon: z.number().min(0).finite().optional().describe('ε added to both variances in the rescaling factor, for stability (default 1e-4)'),
    }),
    build: (s) => stateless(s, varianceCorrected(s)),
  }),
  defineRule({
    name: 'median',
    summary: 'coordinate-wise median',
    modes: both,
    faults: 'optional',
    schema: z.strictObject({
      name: z.literal('median'),
      f: faults.optional().describe('f: faulty contributions to withstand; groups smaller than 2f + 1 are refused (default 0)'),
      includeSelf,
    }),
    build: (s) => {
      const min = coordinateMinGroup(s.f ?? 0);
      return stateless(s, coordinateMedian(s), { minGroupSize: min, tolerates: (n) => (n >= min ? medianTolerates(n) : 0) });
    },
  }),
  defineRule({
    name: 'trimmed-mean',
    summary: 'coordinate-wise mean without the f largest and f smallest values',
    modes: both,
    faults: 'required',
    schema: z.strictObject({ name: z.literal('trimmed-mean'), f: faults.describe('f: values dropped at each end of every coordinate; groups smaller than 2f + 1 are refused'), includeSelf }),
    build: (s) => {
      const min = coordinateMinGroup(s.f);
      return stateless(s, trimmedMean(s), { minGroupSize: min, tolerates: withstands(s.f, min) });
    },
  }),
  defineRule({
    name: 'krum',
    summary: 'Krum / Multi-Krum: the contributions closest to their neighbours',
    modes: both,
    faults: 'required',
    schema: z.strictObject({
      name: z.literal('krum'),
      f: faults.describe(fRequired),
      m: z.number().int().min(1).optional().describe('lowest-scoring members averaged: 1 is Krum, more is Multi-Krum (default 1)'),
      includeSelf,
    }),
    build: (s) => {
      const min = krumMinGroup(s.f);
      return stateless(s, krum(s), { minGroupSize: min, tolerates: withstands(s.f, min) });
    },
  }),
  defineRule({
    name: 'nna',
    summary: 'nearest-neighbour averaging',
    modes: both,
    faults: 'required',
    schema: z.strictObject({ name: z.literal('nna'), f: faults.describe(fRequired) }),
    build: (s) => {
      const min = nnaMinGroup(s.f);
      return stateless(s, nearestNeighbourAverage(s), { minGroupSize: min, tolerates: withstands(s.f, min) });
    },
  }),
  defineRule({
    name: 'fedau',
    summary: 'FedAU: averaging that corrects for unequal participation',
    modes: federated,
    faults: 'none',
    schema: z.strictObject({ name: z.literal('fedau'), serverLr: positive.optional().describe('γ: server step size (default 1)') }),
    build: (s) => stateful(s, fedAuInitialState, fedAu(s)),
  }),
  adaptive('fedadagrad', 'FedAdagrad: adaptive server step'),
  adaptive('fedyogi', 'FedYogi: adaptive server step'),
  adaptive('fedadam', 'FedAdam: adaptive server step'),
  // FedProx changes local training only; the server (or the group) averages as FedAvg does.
  defineRule({
    name: 'fedprox',
    summary: 'FedAvg with a proximal term in local training',
    modes: federated,
    faults: 'none',
    localTraining: 'proximal',
    serverMean: true,
    schema: z.strictObject({
      name: z.literal('fedprox'),
      mu: z.number().min(0).finite().describe('μ: weight of the proximal term (μ/2)‖w − w_round‖² in local training; 0 is FedAvg'),
    }),
    build: (s) => ({ ...stateless(s, fedAvg, { minGroupSize: 1 }), training: { proximalMu: s.mu } }),
  }),
  defineRule({
    name: 'scaffold',
    summary: 'SCAFFOLD: control variates correct the client drift',
    modes: federated,
    faults: 'none',
    localTraining: 'control-variates',
    serverOnly: 'keeps the server control variate c',
    schema: z.strictObject({ name: z.literal('scaffold'), serverLr: positive.optional().describe('η_g: global step size on the mean client change (default 1)') }),
    build: (s) => ({ ...stateful(s, scaffoldInitialState, scaffold(s)), training: { controlVariates: true } }),
  }),
  // SCAFFOLD without a server: each peer tracks c by gossip (K-GT); local training as SCAFFOLD's.
  defineRule({
    name: 'scaffold-gossip',
    summary: 'SCAFFOLD over gossip (K-GT): control variates with a gossip-tracked estimate of c',
    modes: gossip,
    faults: 'none',
    localTraining: 'control-variates',
    schema: z.strictObject({ name: z.literal('scaffold-gossip'), stepSize: positive.optional().describe('η_s: step on each peer\'s round change before mixing, x + η_s(y − x) (K-GT\'s server step; default 1)') }),
    build: (s) => ({ ...stateful(s, scaffoldGossipInitialState, scaffoldGossip()), training: { trackedControl: { stepSize: s.stepSize ?? 1 } } }),
  }),
  // D² corrects the model before it is sent (local training) and mixes with the topology's weights.
  defineRule({
    name: 'd2',
    summary: 'D² / Exact Diffusion: gossip with drift correction',
    modes: gossip,
    faults: 'none',
    localTraining: 'd2',
    schema: z.strictObject({
      name: z.literal('d2'),
      lazy: z.boolean().optional().describe('mix with (I + W)/2 (Exact Diffusion, stable for any symmetric W; default true) or with W as in D² (needs λ_min(W) > −1/3)'),
    }),
    build: (s) => ({ ...stateless(s, d2Mix(s)), training: { d2: true } }),
  }),
  defineRule({
    name: 'fedavg-m',
    summary: 'FedAvg with server momentum',
    modes: federated,
    faults: 'none',
    schema: z.strictObject({
      name: z.literal('fedavg-m'),
      serverLr: positive.describe('γ: server step size'),
      localLr: positive.describe('η: the clients\' local learning rate'),
      localSteps: z.number().int().min(1).describe('K: local steps per round'),
    }),
    build: (s) => stateful(s, fedAvgMInitialState, fedAvgM(s)),
  }),
] as const;

/** Every aggregation rule a config can name. */
export const aggregationRegistry = new Registry<RuleEntry>('aggregation rule', 'aggregation.name', AGGREGATION_RULES as unknown as RuleEntry[]);

/** The names of the registered rules with a capability, in registry order (for refusals that list what fits). */
export function rulesWhere(test: (e: RuleEntry) => boolean): string[] {
  return aggregationRegistry.entries.filter(test).map((e) => e.name);
}

/** The names of the registered rules that run in a mode, in registry order. */
export function rulesFor(mode: RuleMode): string[] {
  return rulesWhere((e) => e.modes.includes(mode));
}
