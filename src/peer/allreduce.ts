// One peer's side of a group-compressed all-reduce (PowerSGD, ARC-Top-K, GreedyLore): every
// member of the group sends each phase's message to every other member, steps the compressor
// with what arrived before the deadline (its own included), and ends with the group's estimate
// of the mean update. The simulator runs it for all participants at once; a real peer runs it
// for itself over libp2p.
import type { Params } from '../params/index.js';
import type { GroupExclusion } from '../compression/index.js';
import type { PeerId, Transport } from './transport.js';
import type { UpdateCodec } from './codec.js';
import { PHASES } from './phases.js';

/** Group phases travel as phases 0, 1, … of the round: the compressor numbers its messages that way and receivers check it. */
export const GROUP_PHASE_BASE = PHASES.firstGroupPhase;

export interface GroupPlan {
  readonly round: number;
  /** The group's members (ids), self included. */
  readonly group: readonly PeerId[];
  /** Each member's index (the compressor's sender number). */
  readonly indexOf: ReadonlyMap<PeerId, number>;
  readonly self: PeerId;
  readonly deadlineMs: number;
}

export interface GroupOutcome {
  /** The group-mean estimate of the updates. */
  readonly estimate: Params;
  /** The compressor's new per-peer state. */
  readonly state: unknown;
  readonly excluded: readonly GroupExclusion[];
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

export async function groupAllReduce(update: Params, state: unknown, plan: GroupPlan, transport: Transport, codec: UpdateCodec): Promise<GroupOutcome> {
  const group = codec.group;
  if (!group) throw new Error('groupAllReduce: the codec has no group compressor');
  const me = plan.indexOf.get(plan.self);
  if (me === undefined) throw new Error(`groupAllReduce: ${plan.self} is not in its group`);
  const others = plan.group.filter((id) => id !== plan.self);
  let step: ReturnType<typeof group.begin> | ReturnType<typeof group.step> = group.begin(update, state ?? group.initialState(update.layout), {
    seed: codec.seed,
    round: plan.round,
    sender: me,
    phase: GROUP_PHASE_BASE,
  });
  let bytesSent = 0;
  let bytesReceived = 0;
  for (let k = 0; step.kind === 'send'; k++) {
    const result = await transport.exchange({
      round: plan.round,
      phase: GROUP_PHASE_BASE + k,
      payload: step.message,
      sendTo: others,
      expectFrom: others,
      deadlineMs: plan.deadlineMs,
    });
    bytesSent += step.message.byteLength * others.length;
    const received = result.received.map((env) => {
      bytesReceived += env.bytes.byteLength;
      return { sender: plan.indexOf.get(env.from) ?? -1, bytes: env.bytes };
    });
    // In sender order, own message included, whatever order they arrived in: every member steps
    // the compressor with the same list, so all sum in the same order and end with the same bits.
    step = group.step(step.session, [{ sender: me, bytes: step.message }, ...received].sort((a, b) => a.sender - b.sender));
  }
  return { estimate: step.estimate, state: step.state, excluded: step.excluded, bytesSent, bytesReceived };
}
