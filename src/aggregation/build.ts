// buildAggregation: one config object in, one uniform Aggregator out. Every rule looks
// stateful from here (stateless ones carry null), so a peer runs any of them the same way:
//   let state = agg.initialState();
//   ({ params, state } = agg.aggregate(state, own, received, ctx));
import type { Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { d2Mix } from './d2.js';
import { chocoGossip, chocoInitialState, type ChocoState } from './choco.js';
import { coordinateMedian, coordinateMinGroup, medianTolerates, trimmedMean } from './coordinate.js';
import { fedAu, fedAuInitialState, type FedAuState } from './fedau.js';
import { fedAvg } from './fedavg.js';
import { fedAvgM, fedAvgMInitialState, type FedAvgMState } from './fedavg-m.js';
import { gossipMix } from './gossip.js';
import { krum, krumMinGroup } from './krum.js';
import { nearestNeighbourAverage, nnaMinGroup } from './nna.js';
import { scaffold, scaffoldInitialState, type ScaffoldState } from './scaffold.js';
import { serverOptimizer, serverOptimizerInitialState, type ServerOptimizerState } from './server-opt.js';
import { parseAggregationSpec, type AggregationSpec } from './spec.js';
import type { AggregationContext, AggregationRule, Contribution, StatefulAggregationRule, StatefulResult } from './types.js';
import { varianceCorrected } from './vca.js';

/** The memory of a stateful rule, tagged with the rule it belongs to; null for stateless rules. */
export type AggregationState = ChocoState | FedAuState | FedAvgMState | ServerOptimizerState | ScaffoldState | null;

/**
 * What a rule needs from local training (the round driver passes it to Trainer.train):
 * FedProx's proximal term, SCAFFOLD's control variates. Absent for rules that need nothing.
 */
export interface LocalTrainingNeeds {
  /** FedProx: add μ·(w − anchor) to every local gradient; anchor = the model the round started from. */
  readonly proximalMu?: number;
  /** SCAFFOLD: add c − c_i to every local gradient, then update c_i and send Δc_i (see scaffold.ts). */
  readonly controlVariates?: boolean;
  /** D²: send ψ_t + x_t − ψ_{t−1} (trained model corrected by the last round's) instead of ψ_t (see d2.ts). */
  readonly d2?: boolean;
}

/** An aggregation rule built from its spec, stateless or stateful behind one interface. */
export interface Aggregator {
  readonly spec: AggregationSpec;
  /** What contributions must carry: whole models, or decoded compressed differences (CHOCO). */
  readonly input: 'model' | 'difference';
  /** Smallest group (own included where the rule includes it) the rule accepts. */
  readonly minGroupSize: number;
  /** How many faulty group members the rule withstands at this group size; 0 for non-robust rules or a group it refuses. */
  tolerates(groupSize: number): number;
  /** What local training must do for this rule; undefined when plain local steps suffice. */
  readonly training?: LocalTrainingNeeds;
  /** The rule's memory before the first round (null for stateless rules). */
  initialState(): AggregationState;
  /** Combines the own model with the received contributions; returns the new model and memory. */
  aggregate(
    state: AggregationState,
    own: Params,
    received: readonly Contribution[],
    ctx?: AggregationContext,
  ): StatefulResult<AggregationState>;
}

interface Parts {
  input?: 'model' | 'difference';
  minGroupSize?: number;
  tolerates?: (n: number) => number;
}

function stateless(spec: AggregationSpec, rule: AggregationRule, parts: Parts = {}): Aggregator {
  return {
    spec,
    input: parts.input ?? 'model',
    minGroupSize: parts.minGroupSize ?? 0,
    tolerates: parts.tolerates ?? (() => 0),
    initialState: () => null,
    aggregate: (_state, own, received, ctx) => ({ params: rule(own, received, ctx), state: null }),
  };
}

function stateful<S extends Exclude<AggregationState, null>>(
  spec: AggregationSpec,
  initial: () => S,
  rule: StatefulAggregationRule<S>,
  input: 'model' | 'difference' = 'model',
): Aggregator {
  return {
    spec,
    input,
    minGroupSize: 0,
    tolerates: () => 0,
    initialState: initial,
    aggregate: (state, own, received, ctx) => {
      if (state === null || state.rule !== spec.name) {
        throw new AggregationError(
          `${spec.name}: got state of ${state === null ? 'a stateless rule' : `'${state.rule}'`}; pass the state from this aggregator's initialState() or its last aggregate()`,
        );
      }
      return rule(state as S, own, received, ctx);
    },
  };
}

/** f if a group of n is large enough for the configured f, else 0. */
const withstands = (f: number, min: number) => (n: number) => (n >= min ? f : 0);

/** Builds the rule a config names. The config is validated first (ConfigError on bad values). */
export function buildAggregation(config: AggregationSpec): Aggregator {
  const spec = parseAggregationSpec(config);
  switch (spec.name) {
    case 'fedavg':
      return stateless(spec, fedAvg, { minGroupSize: 1 });
    case 'gossip':
      return stateless(spec, gossipMix);
    case 'choco-gossip':
      return stateful(spec, chocoInitialState, chocoGossip(spec), 'difference');
    case 'vca':
      return stateless(spec, varianceCorrected(spec));
    case 'median': {
      const min = coordinateMinGroup(spec.f ?? 0);
      return stateless(spec, coordinateMedian(spec), { minGroupSize: min, tolerates: (n) => (n >= min ? medianTolerates(n) : 0) });
    }
    case 'trimmed-mean': {
      const min = coordinateMinGroup(spec.f);
      return stateless(spec, trimmedMean(spec), { minGroupSize: min, tolerates: withstands(spec.f, min) });
    }
    case 'krum': {
      const min = krumMinGroup(spec.f);
      return stateless(spec, krum(spec), { minGroupSize: min, tolerates: withstands(spec.f, min) });
    }
    case 'nna': {
      const min = nnaMinGroup(spec.f);
      return stateless(spec, nearestNeighbourAverage(spec), { minGroupSize: min, tolerates: withstands(spec.f, min) });
    }
    case 'fedau':
      return stateful(spec, fedAuInitialState, fedAu(spec));
    case 'fedavg-m':
      return stateful(spec, fedAvgMInitialState, fedAvgM(spec));
    case 'fedadagrad':
    case 'fedyogi':
    case 'fedadam': {
      const kind = spec.name;
      return stateful(spec, () => serverOptimizerInitialState(kind), serverOptimizer(kind, spec));
    }
    // FedProx changes local training only; the server (or the group) averages as FedAvg does.
    case 'fedprox':
      return { ...stateless(spec, fedAvg, { minGroupSize: 1 }), training: { proximalMu: spec.mu } };
    case 'scaffold':
      return { ...stateful(spec, scaffoldInitialState, scaffold(spec)), training: { controlVariates: true } };
    // D² corrects the model before it is sent (local training) and mixes with the topology's weights.
    case 'd2':
      return { ...stateless(spec, d2Mix(spec)), training: { d2: true } };
  }
}
