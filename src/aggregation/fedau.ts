// FedAU (Wang & Ji, "A lightweight method for tackling unknown participation statistics in
// federated averaging"): weight each participant by an online estimate of 1/(its
// participation probability), namely the mean interval between its participations.
// Per peer the state keeps c, the run of consecutive rounds it missed, and the intervals
// recorded so far. In a round with participants S:
//   participant i: ω_i = mean of its recorded intervals (1 if none yet); record c_i + 1; c_i ← 0
//   everyone else in ctx.members: c_i ← c_i + 1
//   x ← x + γ · (1/N) · Σ_{i∈S} ω_i (x_i − x),  N = |ctx.members|, own = the global x.
// Implemented as written in the project's algorithm notes; the paper's optional cap on
// interval length is not applied. Contribution weights are not used.
import { paramsFrom } from '../params/index.js';
import type { PeerId } from '../util/ids.js';
import { AggregationError } from '../util/errors.js';
import { addWeightedDifferences } from './kernels.js';
import type { StatefulAggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** What FedAU remembers about one peer's participation. */
export interface FedAuPeerRecord {
  /** Consecutive rounds missed since the last participation (or since the start). */
  readonly missed: number;
  readonly intervalSum: number;
  readonly intervalCount: number;
}

/** FedAU's memory: a participation record per peer. */
export interface FedAuState {
  readonly rule: 'fedau';
  readonly peers: Readonly<Record<PeerId, FedAuPeerRecord>>;
}

/** FedAU's memory before the first round. */
export function fedAuInitialState(): FedAuState {
  return { rule: 'fedau', peers: {} };
}

const FRESH: FedAuPeerRecord = { missed: 0, intervalSum: 0, intervalCount: 0 };

/** One round of FedAU bookkeeping: the participants' weights ω (in `participants` order) and the next state. */
export function fedAuStep(
  state: FedAuState,
  members: readonly PeerId[],
  participants: readonly PeerId[],
): { weights: number[]; state: FedAuState } {
  const memberSet = new Set(members);
  if (memberSet.size !== members.length) throw new AggregationError('fedau: ctx.members lists a peer twice; pass each member once');
  const records = new Map<PeerId, FedAuPeerRecord>(Object.entries(state.peers));
  const present = new Set(participants);
  const weights = participants.map((id) => {
    if (!memberSet.has(id)) {
      throw new AggregationError(`fedau: participant '${id}' is not in ctx.members; pass every peer of the run as members`);
    }
    const r = records.get(id) ?? FRESH;
    return r.intervalCount === 0 ? 1 : r.intervalSum / r.intervalCount;
  });
  for (const id of members) {
    const r = records.get(id) ?? FRESH;
    records.set(
      id,
      present.has(id)
        ? { missed: 0, intervalSum: r.intervalSum + r.missed + 1, intervalCount: r.intervalCount + 1 }
        : { ...r, missed: r.missed + 1 },
    );
  }
  return { weights, state: { rule: 'fedau', peers: Object.fromEntries(records) } };
}

/** FedAU: weights each participant by the mean interval between its participations (an estimate of 1 / its participation probability). */
export function fedAu(options: { serverLr?: number } = {}): StatefulAggregationRule<FedAuState> {
  const serverLr = options.serverLr ?? 1;
  return (state, own, received, ctx) => {
    validateInputs('fedau', own, received, ctx);
    const members = ctx?.members;
    if (!members || members.length === 0) {
      throw new AggregationError('fedau: ctx.members is missing or empty; pass every peer of the run (N counts non-participants too)');
    }
    const step = fedAuStep(
      state,
      members,
      received.map((c) => c.from),
    );
    const out = new Float32Array(own.data.length);
    addWeightedDifferences(
      out,
      own.data,
      own.data,
      received.map((c) => c.params.data),
      step.weights,
      serverLr / members.length,
    );
    return { params: paramsFrom(own.layout, out), state: step.state };
  };
}
