// Asynchronous gossip (AD-PSGD style, Lian et al. 2018): every peer runs at its own pace. After
// its local steps it publishes its model to the peers that average it, without waiting for
// anyone, then mixes with the LATEST model it holds from each in-neighbour, whatever round that
// model came from — as long as it is at most `maxStaleness` rounds older than its own round.
//
// Mixing weights over the present set: the topology row's own W_ij for every neighbour present,
// and the weight of every neighbour absent (never heard from, or too stale) moved onto self:
//   W'_ii = W_ii + Σ_{j absent} W_ij,   W'_ij = W_ij (j present).
// Each peer computes it alone from what it holds (Metropolis weights over the present set would
// need the neighbours' own present sets, which an asynchronous peer cannot know); every row sums
// to 1, so a model is never shrunk or inflated; it is exactly what synchronous gossip does with a
// straggler, so with everyone present and maxStaleness 0 the two coincide. The matrix is doubly
// stochastic only when absences are symmetric (in expectation, for peers of equal speed): fast
// peers can pull the average towards their models. The exact merges of the schedule stay
// synchronous barriers, so the final model is still the exact average of all peers.
//
// Only whole models can be mixed this way: a stale or skipped message of a stateful codec (CHOCO's
// compressed differences to public copies, error feedback) would corrupt the receiver's copy, so
// asynchronous mode refuses those (see `asyncConfigProblem`).
import type { Params } from '../params/index.js';
import type { MixingRow } from '../topology/mixing.js';
import type { AggregationRule, Contribution } from '../aggregation/types.js';
import { AggregationError } from '../util/errors.js';
import { aggregateOrKeep, type GossipPlan, type GossipWire } from './gossip.js';
import type { Envelope, PeerId } from './transport.js';
import type { RunConfig } from './config.js';
import { WHOLE_MODEL_METHODS, isWholeModelMethod, methodsWhere } from '../compression/index.js';

/** Compression methods whose gossip messages are whole models (stateless across rounds). */
export const ASYNC_METHODS = WHOLE_MODEL_METHODS;

/** True when an update of round `theirs` may be mixed at round `mine`: at most `maxStaleness` rounds older (newer is always fine). */
export function isFresh(mine: number, theirs: number, maxStaleness: number): boolean {
  return mine - theirs <= maxStaleness;
}

/** The async side of a transport: publish without waiting, read the latest update held per sender. */
export interface AsyncTransport {
  readonly self: PeerId;
  /** Sends `payload` to `sendTo` without waiting; a newer message to a recipient replaces one still queued for it. */
  publish(message: { readonly round: number; readonly phase: number; readonly payload: Uint8Array; readonly sendTo: readonly PeerId[] }): void;
  /** The latest update held from each of `from` (those never heard from are left out), as of this peer's `round`. */
  latest(from: readonly PeerId[], round: number): readonly Envelope[];
}

/** Row i of the mixing actually used: the topology row restricted to the present neighbours, the rest on self. */
export function presentRow(row: MixingRow, present: ReadonlySet<number>): MixingRow {
  const peers: number[] = [];
  const weights: number[] = [];
  let self = row.self;
  row.peers.forEach((j, k) => {
    if (present.has(j)) {
      peers.push(j);
      weights.push(row.weights[k]);
    } else self += row.weights[k];
  });
  return { self, peers: Uint32Array.from(peers), weights: Float64Array.from(weights) };
}

/** One peer's part in one asynchronous gossip step: a gossip plan (round = this peer's own) with a staleness bound in place of a deadline. */
export interface AsyncGossipPlan extends Omit<GossipPlan, 'deadlineMs'> {
  /** Updates more than this many rounds older than `round` are left out. */
  readonly maxStaleness: number;
}

/** What an asynchronous step did: the new model, who it mixed with and how old their models were. */
export interface AsyncStepOutcome {
  readonly params: Params;
  /** The mixing row used (present neighbours; the absent ones' weight on self). */
  readonly used: MixingRow;
  /** round − (the round of the update used), per present neighbour, in `used.peers` order (≤ maxStaleness; negative when the neighbour is ahead). */
  readonly staleness: readonly number[];
  /** Neighbours never heard from, or whose latest update is too old. */
  readonly absent: readonly PeerId[];
  readonly rejected: ReadonlyArray<{ from: PeerId; reason: string }>;
  /** Payload bytes offered to the transport (one copy per recipient). */
  readonly bytesQueued: number;
}

/** Publishes this peer's model, then mixes it with the freshest neighbour models held, never waiting. */
export function asyncGossipStep(own: Params, plan: AsyncGossipPlan, transport: AsyncTransport, wire: GossipWire, rule: AggregationRule): AsyncStepOutcome {
  const bytesQueued = publishModel(plan, transport, wire);
  return { ...mixLatest(own, plan, transport, wire, rule), bytesQueued };
}

/** Sends this peer's message of (round, phase) to the peers that average it; returns the payload bytes queued (one copy per recipient). */
export function publishModel(plan: AsyncGossipPlan, transport: AsyncTransport, wire: GossipWire): number {
  const { bytes: payload, ownUpdate } = wire.encode({ round: plan.round, phase: plan.phase, sender: plan.selfIndex });
  if (ownUpdate) throw new AggregationError('asynchronous gossip mixes whole models; a codec that sends differences to public copies needs synchronous rounds');
  const sendTo = Array.from(plan.sendTo, (j) => plan.members[j]);
  transport.publish({ round: plan.round, phase: plan.phase, payload, sendTo });
  return payload.byteLength * sendTo.length;
}

/** Mixes `own` with the latest fresh model held from each in-neighbour; the absent ones' weight stays on self. */
export function mixLatest(own: Params, plan: AsyncGossipPlan, transport: AsyncTransport, wire: GossipWire, rule: AggregationRule): Omit<AsyncStepOutcome, 'bytesQueued'> {
  const { members, row } = plan;
  const indexOf = new Map<PeerId, number>(members.map((id, k) => [id, k]));
  const held = transport.latest(Array.from(row.peers, (j) => members[j]), plan.round);
  const decoded = new Map<number, { params: Params; staleness: number }>();
  const rejected: Array<{ from: PeerId; reason: string }> = [];
  for (const env of held) {
    const j = indexOf.get(env.from) ?? -1;
    if (!isFresh(plan.round, env.round, plan.maxStaleness)) continue;
    try {
      decoded.set(j, { params: wire.decode(env.bytes, { round: env.round, phase: env.phase, sender: j }), staleness: plan.round - env.round });
    } catch (err) {
      rejected.push({ from: env.from, reason: (err as Error).message });
    }
  }
  const used = presentRow(row, new Set(decoded.keys()));
  // In member order, as a synchronous exchange sums them: the same sums, bit for bit.
  const contributions: Contribution[] = Array.from(used.peers, (j, k) => ({ from: members[j], params: decoded.get(j)!.params, weight: used.weights[k] })).sort(
    (a, b) => indexOf.get(a.from)! - indexOf.get(b.from)!,
  );
  const params = contributions.length ? aggregateOrKeep(rule, own, contributions, { round: plan.round, members }, rejected) : own;
  return {
    params,
    used,
    staleness: Array.from(used.peers, (j) => decoded.get(j)!.staleness),
    absent: Array.from(row.peers).filter((j) => !decoded.has(j)).map((j) => members[j]),
    rejected,
  };
}

/** Null when the run can use asynchronous rounds; otherwise one line saying what to change. */
export function asyncConfigProblem(c: Pick<RunConfig, 'mode' | 'engine' | 'compression' | 'aggregation' | 'topology'>, staticGraphNames: readonly string[]): string | null {
  const why = 'timing.mode async';
  if (c.mode !== 'gossip') return `${why} runs gossip only (mode ${c.mode} averages a group in step every round); use mode: gossip or timing.mode: sync`;
  if (c.engine !== 'per-peer') return `${why}: engine batched trains and mixes all peers in lockstep; use engine: per-peer`;
  if (!isWholeModelMethod(c.compression.method) || c.compression.errorFeedback !== 'none') {
    return `${why} mixes the latest whole model of each neighbour, so compression must be stateless across rounds: method ${methodsWhere((e) => e.kind === 'pointwise' && e.wholeModel).join(', ')} with errorFeedback none (got ${c.compression.method}, errorFeedback ${c.compression.errorFeedback}); compressed differences and error feedback go wrong when messages are skipped or stale`;
  }
  if (c.aggregation?.name === 'choco-gossip') return `${why}: choco-gossip keeps public copies updated by every difference in turn, which skipped or stale messages corrupt; use aggregation gossip, vca or a robust rule`;
  if (!staticGraphNames.includes(c.topology.name)) {
    return `${why} needs a static topology (peers at different rounds must agree on who their neighbours are); topology '${c.topology.name}' changes with the round — use one of ${staticGraphNames.join(', ')}`;
  }
  return null;
}
