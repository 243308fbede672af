// One gossip exchange of one peer: send my (encoded) model to the peers that average it, gather
// the models of the peers I average before the deadline, validate each, and mix them with my
// aggregation rule. The same function runs in the simulator and on libp2p; only the Transport
// differs.
import type { Params } from '../params/index.js';
import type { MixingRow } from '../topology/mixing.js';
import type { AggregationContext, AggregationRule, Contribution } from '../aggregation/types.js';
import { globalAverage } from '../aggregation/fedavg.js';
import { AggregationError } from '../util/errors.js';
import type { Envelope, PeerId, Transport } from './transport.js';
import { PHASES } from './phases.js';

/** Turns a model into wire bytes and back; decode validates and throws on anything malformed. */
export interface ModelCodec {
  /** Encodes a model for one (round, phase, sender). */
  encode(params: Params, meta: { round: number; phase: number; sender: number }): Uint8Array;
  /** Decodes and validates a model; throws when the bytes or their header are wrong. */
  decode(bytes: Uint8Array, expected: { round: number; phase: number; sender: number }): Params;
}

/**
 * What one gossip exchange sends and how it reads what arrives: whole models (ModelCodec), or
 * compressed differences to public copies (CHOCO), where the aggregation also needs the decoded
 * form of this peer's own message.
 */
export interface GossipWire {
  /** This peer's message for one (round, phase), and the decoded form of it when the aggregation needs it. */
  encode(meta: { round: number; phase: number; sender: number }): { bytes: Uint8Array; ownUpdate?: Params };
  /** Decodes and validates one sender's message; throws when it is malformed. */
  decode(bytes: Uint8Array, expected: { round: number; phase: number; sender: number }): Params;
}

/** Sends `outgoing` (default: my model) whole through a model codec. */
export function wholeModels(codec: ModelCodec, outgoing: Params): GossipWire {
  return { encode: (meta) => ({ bytes: codec.encode(outgoing, meta) }), decode: (bytes, meta) => codec.decode(bytes, meta) };
}

/** One peer's part in one gossip exchange: whom it averages, whom it sends to, the deadline. */
export interface GossipPlan {
  readonly round: number;
  readonly phase: number;
  /** Run members in index order; topology indices refer to this list. */
  readonly members: readonly PeerId[];
  readonly selfIndex: number;
  /** Whose models I average and with what weights (topology row of this round). */
  readonly row: MixingRow;
  /** Indices of the peers that average my model. */
  readonly sendTo: ArrayLike<number>;
  readonly deadlineMs: number;
}

/** What a gossip exchange produced: the new model, who was missing or rejected, bytes moved. */
export interface ExchangeOutcome {
  readonly params: Params;
  readonly received: number;
  readonly missing: readonly PeerId[];
  /** Messages refused by validation, with the reason. */
  readonly rejected: ReadonlyArray<{ from: PeerId; reason: string }>;
  /** Payload bytes this peer put on the wire (one copy per recipient) and took off it. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** Sends this peer's message, gathers its neighbours' and aggregates them with the rule. */
export async function gossipExchange(
  own: Params,
  plan: GossipPlan,
  transport: Transport,
  wire: GossipWire,
  rule: AggregationRule,
): Promise<ExchangeOutcome> {
  const { members, row } = plan;
  const { bytes: payload, ownUpdate } = wire.encode({ round: plan.round, phase: plan.phase, sender: plan.selfIndex });
  const expectFrom = Array.from(row.peers, (j) => members[j]);
  const sendTo = Array.from(plan.sendTo, (j) => members[j]);
  const result = await transport.exchange({
    round: plan.round,
    phase: plan.phase,
    payload,
    sendTo,
    expectFrom,
    deadlineMs: plan.deadlineMs,
  });
  const weightOf = new Map<PeerId, number>(expectFrom.map((id, k) => [id, row.weights[k]]));
  const indexOf = new Map<PeerId, number>(members.map((id, k) => [id, k]));
  const contributions: Contribution[] = [];
  const rejected: Array<{ from: PeerId; reason: string }> = [];
  // In member order, whatever order the network delivered them in: the same sums bit for bit
  // in the simulator and between real peers.
  for (const env of inMemberOrder(result.received, indexOf)) {
    try {
      const params = wire.decode(env.bytes, { round: plan.round, phase: plan.phase, sender: indexOf.get(env.from) ?? -1 });
      contributions.push({ from: env.from, params, weight: weightOf.get(env.from) ?? 0 });
    } catch (err) {
      rejected.push({ from: env.from, reason: (err as Error).message });
    }
  }
  // Nobody arrived: keep my model (every rule would return it, some would refuse an empty group),
  // unless the rule tracks my own published difference (CHOCO), which it must see every round.
  const ctx = { round: plan.round, members, ...(ownUpdate ? { ownUpdate } : {}) };
  const params = contributions.length || ownUpdate ? aggregateOrKeep(rule, own, contributions, ctx, rejected) : own;
  const bytesReceived = result.received.reduce((n, env) => n + env.bytes.byteLength, 0);
  return { params, received: contributions.length, missing: result.missing, rejected, bytesSent: payload.byteLength * sendTo.length, bytesReceived };
}

/**
 * The rule's mix of `own` and `contributions`. When the rule refuses the group (too few valid
 * neighbours for a robust rule: refused messages shrink it), the peer keeps `own` this step
 * rather than stop the run, and `rejected` says why.
 */
export function aggregateOrKeep(
  rule: AggregationRule,
  own: Params,
  contributions: readonly Contribution[],
  ctx: AggregationContext,
  rejected: Array<{ from: PeerId; reason: string }>,
): Params {
  try {
    return rule(own, contributions, ctx);
  } catch (err) {
    if (!(err instanceof AggregationError)) throw err;
    rejected.push({ from: '(aggregation)', reason: err.message });
    return own;
  }
}

/** One peer's part in an exact merge (the average of a group's models). */
export interface MergePlan {
  readonly round: number;
  readonly members: readonly PeerId[];
  readonly selfIndex: number;
  /** Everyone taking part in the merge (ids), self included. */
  readonly group: readonly PeerId[];
  /** How long to wait for the others' models (default: no limit). */
  readonly deadlineMs?: number;
}

/** Phase number of exact merges, apart from the gossip steps of the same round (see ./phases.ts). */
export const MERGE_PHASE = PHASES.merge;

/**
 * Work that simulated peers of one merge share (one per merge round): each distinct message
 * decoded once, and each distinct set of models averaged once. A peer that holds exactly the
 * models another already averaged gets a copy of that average, so an all-to-all merge of P
 * simulated peers costs O(P·d) instead of O(P²·d). Real peers (one per process) pass none.
 */
export class MergeMemo {
  private readonly ids = new WeakMap<Uint8Array, number>();
  private nextId = 0;
  private readonly decoded = new Map<number, Params | null>();
  private readonly averages = new Map<string, Params>();

  /** The decoded model of a message, or null when it is malformed (each distinct message decoded once). */
  decode(bytes: Uint8Array, codec: ModelCodec, expected: { round: number; phase: number; sender: number }): Params | null {
    const id = this.idOf(bytes);
    if (!this.decoded.has(id)) this.decoded.set(id, decodeOrNull(codec, bytes, expected));
    return this.decoded.get(id)!;
  }

  /** The average of the models of these messages, computed once per distinct set. */
  average(messages: readonly Uint8Array[], models: () => Params[]): Params {
    const key = messages
      .map((m) => this.idOf(m))
      .sort((a, b) => a - b)
      .join(',');
    let avg = this.averages.get(key);
    if (!avg) this.averages.set(key, (avg = globalAverage(models())));
    // A copy: peers train their models in place afterwards.
    return { layout: avg.layout, data: avg.data.slice() };
  }

  /** A stable id for a message's bytes (the same array delivered to many peers has one id). */
  private idOf(bytes: Uint8Array): number {
    let id = this.ids.get(bytes);
    if (id === undefined) this.ids.set(bytes, (id = this.nextId++));
    return id;
  }
}

/**
 * The exact global merge: every member of the group sends its model to every other (lossless)
 * and each takes the plain average of all it holds. With no loss all end with the same model.
 */
export async function exactMerge(own: Params, plan: MergePlan, transport: Transport, codec: ModelCodec, memo?: MergeMemo): Promise<Params> {
  const me = plan.members[plan.selfIndex];
  const others = plan.group.filter((id) => id !== me);
  const payload = codec.encode(own, { round: plan.round, phase: MERGE_PHASE, sender: plan.selfIndex });
  const result = await transport.exchange({
    round: plan.round,
    phase: MERGE_PHASE,
    payload,
    sendTo: others,
    expectFrom: others,
    deadlineMs: plan.deadlineMs ?? Number.POSITIVE_INFINITY,
  });
  const indexOf = new Map<PeerId, number>(plan.members.map((id, k) => [id, k]));
  const expected = (from: PeerId) => ({ round: plan.round, phase: MERGE_PHASE, sender: indexOf.get(from) ?? -1 });
  // My own message stands for my model in the shared work only if it decodes to it bit for bit
  // (a lossless codec, an honest peer); otherwise I average on my own.
  const ownDecoded = memo?.decode(payload, codec, { round: plan.round, phase: MERGE_PHASE, sender: plan.selfIndex });
  const shared = ownDecoded && sameBits(ownDecoded.data, own.data) ? memo : undefined;
  const messages: Uint8Array[] = [];
  const models: Params[] = [];
  // Averaged in member order (own model at its place): every member of the group sums the same
  // models in the same order, so all end with the same bits.
  const self = { from: me, round: plan.round, phase: MERGE_PHASE, bytes: payload };
  for (const env of inMemberOrder([...result.received, self], indexOf)) {
    if (env === self) {
      messages.push(payload);
      models.push(own);
      continue;
    }
    // A malformed model is left out of the average; the caller's log shows who is missing.
    const m = shared ? shared.decode(env.bytes, codec, expected(env.from)) : decodeOrNull(codec, env.bytes, expected(env.from));
    if (m) {
      messages.push(env.bytes);
      models.push(m);
    }
  }
  return shared ? shared.average(messages, () => models) : globalAverage(models);
}

/** Envelopes sorted by their sender's member index (unknown senders last, by id). */
function inMemberOrder<E extends Envelope>(envelopes: readonly E[], indexOf: ReadonlyMap<PeerId, number>): E[] {
  const rank = (e: E) => indexOf.get(e.from) ?? Number.MAX_SAFE_INTEGER;
  return [...envelopes].sort((a, b) => rank(a) - rank(b) || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/** A decoded model, or null when the message is malformed. */
export function decodeOrNull(codec: ModelCodec, bytes: Uint8Array, expected: { round: number; phase: number; sender: number }): Params | null {
  try {
    return codec.decode(bytes, expected);
  } catch {
    return null;
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
