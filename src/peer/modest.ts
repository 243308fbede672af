// MoDeST (decentralized sampling; de Vos et al., "MoDeST: Bridging the Gap between Federated
// and Decentralized Learning with Decentralized Sampling"): no fixed server. Every peer can
// compute, from the member list alone, round k's order of peers — sorted by hash(id ‖ k) — and
// so who trains (the first s live peers of round k's order) and who aggregates (the first a
// live peers of round k+1's order). Trainers fetch the model from the previous round's
// aggregators, train, and send it to this round's aggregators, which average (FedAvg) what
// arrived and hold the result for the next round's trainers.
// Simplification: liveness is known (the paper pings down the order until s peers answer).
import { Rng } from '../util/rng.js';
import type { PeerId } from './transport.js';

export interface ModestSpec {
  /** s: trainers per round. */
  readonly trainers: number;
  /** a: aggregators per round. */
  readonly aggregators: number;
  /** sf: an aggregator averages once ⌊s·sf⌋ models arrived (or at the deadline). */
  readonly successFraction: number;
}

/** Round k's order of the given peers: ascending hash(seed, id, k). The same at every peer. */
export function modestOrder(ids: readonly PeerId[], round: number, seed: number): PeerId[] {
  return ids
    .map((id) => ({ id, h: Rng.derive(seed, 'modest', id, round).nextUint32() }))
    .sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1))
    .map((e) => e.id);
}

/** Round k's trainers and aggregators among the live peers. */
export function modestRoles(live: readonly PeerId[], round: number, seed: number, spec: ModestSpec): { trainers: PeerId[]; aggregators: PeerId[] } {
  return {
    trainers: modestOrder(live, round, seed).slice(0, Math.min(spec.trainers, live.length)),
    aggregators: modestOrder(live, round + 1, seed).slice(0, Math.min(spec.aggregators, live.length)),
  };
}
