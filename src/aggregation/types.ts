// The data every aggregation rule works on. A rule is a function, never an object with
// hidden state: stateless rules map (own, received) to new params; rules that need memory
// (FedAU's participation counters, server momentum, CHOCO public copies) take their state in
// and hand a new one back, so a peer can checkpoint it and the simulator can hold thousands.
import type { Params } from '../params/index.js';
import type { PeerId } from '../util/ids.js';

/** One received model (or decoded difference) with the sender and the weight its rule reads. */
export interface Contribution {
  readonly from: PeerId;
  readonly params: Params;
  /**
   * FedAvg: the sender's number of training samples. Gossip: the mixing weight W_ij of the
   * edge the message came over. Rules that weight by something else (robust rules, VCA, FedAU,
   * FedAvg-M) check it is finite and ≥ 0 but do not use it.
   */
  readonly weight: number;
  /** SCAFFOLD: the sender's change of its control variate this round, Δc_i (other rules ignore it). */
  readonly control?: Params;
}

/** What a round knows beyond the models; each rule reads only the fields it documents. */
export interface AggregationContext {
  /** 0-based round index, only for error messages. */
  readonly round?: number;
  /** Every peer of the run, participants or not (FedAU: N and who missed the round). */
  readonly members?: readonly PeerId[];
  /** The decoded compressed difference this peer published this round (CHOCO gossip). */
  readonly ownUpdate?: Params;
}

/** A stateless rule. */
export type AggregationRule = (own: Params, received: readonly Contribution[], ctx?: AggregationContext) => Params;

/** What a stateful rule returns: the new model and its updated memory. */
export interface StatefulResult<S> {
  readonly params: Params;
  readonly state: S;
}

/** A rule with memory; `state` is a plain object (numbers, records, Float32Arrays) and is never mutated. */
export type StatefulAggregationRule<S> = (
  state: S,
  own: Params,
  received: readonly Contribution[],
  ctx?: AggregationContext,
) => StatefulResult<S>;
