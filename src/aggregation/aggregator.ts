// The Aggregator: one uniform object per aggregation rule. Every rule looks stateful from here
// (stateless ones carry null), so a peer runs any of them the same way:
//   let state = agg.initialState();
//   ({ params, state } = agg.aggregate(state, own, received, ctx));
// The registry's entries (./registry.ts) build theirs with the helpers below.
import type { Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import type { ChocoState } from './choco.js';
import type { FedAuState } from './fedau.js';
import type { FedAvgMState } from './fedavg-m.js';
import type { ScaffoldState } from './scaffold.js';
import type { ScaffoldGossipState } from './scaffold-gossip.js';
import type { ServerOptimizerState } from './server-opt.js';
import type { AggregationContext, AggregationRule, Contribution, StatefulAggregationRule, StatefulResult } from './types.js';

/** The memory of a stateful rule, tagged with the rule it belongs to; null for stateless rules. */
export type AggregationState = ChocoState | FedAuState | FedAvgMState | ServerOptimizerState | ScaffoldState | ScaffoldGossipState | null;

/**
 * What a rule needs from local training (the round driver passes it to Trainer.train):
 * FedProx's proximal term, SCAFFOLD's control variates. Absent for rules that need nothing.
 */
export interface LocalTrainingNeeds {
  /** FedProx: add μ·(w − anchor) to every local gradient; anchor = the model the round started from. */
  readonly proximalMu?: number;
  /** SCAFFOLD: add c − c_i to every local gradient, then update c_i and send Δc_i (see scaffold.ts). */
  readonly controlVariates?: boolean;
  /**
   * SCAFFOLD over gossip (K-GT): add ĉ_i − c_i to every local gradient (ĉ_i: the rule state),
   * then update c_i, move ĉ_i by Δc_i, send x + η_s·(y − x) and exchange ĉ_i (see scaffold-gossip.ts).
   */
  readonly trackedControl?: { readonly stepSize: number };
  /** D²: send ψ_t + x_t − ψ_{t−1} (trained model corrected by the last round's) instead of ψ_t (see d2.ts). */
  readonly d2?: boolean;
}

/**
 * The spec an Aggregator was built from: a built-in rule's AggregationSpec, or a plug-in's own
 * parameters; `name` is the registered rule name.
 */
export interface RuleSpec {
  readonly name: string;
}

/** An aggregation rule built from its spec, stateless or stateful behind one interface. */
export interface Aggregator {
  readonly spec: RuleSpec;
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

/** The parts of an Aggregator that differ between stateless rules (defaults: whole models, any group, no faults withstood). */
export interface Parts {
  input?: 'model' | 'difference';
  minGroupSize?: number;
  tolerates?: (n: number) => number;
}

/** A rule without memory behind the Aggregator interface (its state is null). */
export function stateless(spec: RuleSpec, rule: AggregationRule, parts: Parts = {}): Aggregator {
  return {
    spec,
    input: parts.input ?? 'model',
    minGroupSize: parts.minGroupSize ?? 0,
    tolerates: parts.tolerates ?? (() => 0),
    initialState: () => null,
    aggregate: (_state, own, received, ctx) => ({ params: rule(own, received, ctx), state: null }),
  };
}

/** A rule with memory behind the Aggregator interface; a state of another rule is refused. */
export function stateful<S extends Exclude<AggregationState, null>>(
  spec: RuleSpec,
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
export const withstands = (f: number, min: number) => (n: number) => (n >= min ? f : 0);
