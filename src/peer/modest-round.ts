// One MoDeST round for the members a process holds (all of them in the simulator, itself on the
// network). Every member computes the round's roles from the member list alone (./modest.ts):
//   1. the holder (the first live aggregator of the last round; in round 0 the first trainer)
//      sends its model to the round's trainers and aggregators (phase `download`);
//   2. trainers adopt it and train k local steps;
//   3. trainers send their change against it, compressed with their error feedback, to every
//      aggregator at once (phase `upload`);
//   4. each aggregator rebuilds the trainers' models as the round's model plus their change and
//      averages them with the run's rule (weights: the trainers' sample counts), its own model
//      too if it trained; the aggregators hold the model for the next round.
// Members with no role this round take no part in its exchanges.
import type { Params } from '../params/index.js';
import { cloneParams } from '../params/index.js';
import type { AggregationState, Aggregator } from '../aggregation/build.js';
import type { Contribution } from '../aggregation/types.js';
import type { ExchangeRequest, PeerId } from './transport.js';
import type { Peer } from './peer.js';
import type { UpdateCodec } from './codec.js';
import type { TransportHub } from './federated.js';
import { modestRoles, type ModestSpec } from './modest.js';
import { PHASES } from './phases.js';
import { decodeOrNull } from './gossip.js';

export interface ModestRoundContext {
  readonly round: number;
  /** The run's members this round, in index order. */
  readonly members: readonly PeerId[];
  /** The live members (ids). */
  readonly live: readonly PeerId[];
  /** The members this process runs. */
  readonly local: ReadonlyMap<PeerId, Peer>;
  /** Last round's aggregators (empty before the first round). */
  readonly holders: readonly PeerId[];
  readonly hub: TransportHub;
  readonly codec: UpdateCodec;
  readonly aggregator: Aggregator;
  /** An aggregator's rule memory from its last aggregation (FedAdam's moments persist across rounds), and where the new one goes. */
  aggregationState(id: PeerId): AggregationState;
  setAggregationState(id: PeerId, state: AggregationState): void;
  readonly seed: number;
  readonly spec: ModestSpec;
  readonly deadlineMs: number;
  /** A member's number of training samples (its weight in the average). */
  sampleCount(id: PeerId): number;
  train(peer: Peer): Promise<void>;
  /** What a trainer sends (a Byzantine simulated peer's corrupted model). */
  outgoing(peer: Peer, trainers: readonly Peer[]): Params;
}

/** Runs the round's exchanges of the local members; returns the round's trainers and aggregators. */
export async function modestRound(ctx: ModestRoundContext): Promise<{ trainers: PeerId[]; aggregators: PeerId[] }> {
  const { round, members, local, hub, codec } = ctx;
  const { trainers, aggregators } = modestRoles(ctx.live, round, ctx.seed, ctx.spec);
  const indexOf = new Map(members.map((id, k) => [id, k]));
  const liveSet = new Set(ctx.live);
  const holder = ctx.holders.find((id) => liveSet.has(id)) ?? trainers[0];
  const roundModel = await download(ctx, holder, unique([...trainers, ...aggregators]).filter((id) => id !== holder), indexOf);

  const localTrainers = trainers.flatMap((id) => (local.has(id) ? [local.get(id)!] : []));
  for (const p of localTrainers) await ctx.train(p);

  // One upload exchange per member: a trainer sends its change to every aggregator; an aggregator waits for every trainer.
  const isTrainer = new Set(trainers);
  const isAggregator = new Set(aggregators);
  const involved = unique([...trainers, ...aggregators]);
  hub.setParticipants(involved);
  const results = await Promise.all(
    involved.flatMap((id) => {
      const p = local.get(id);
      if (!p) return [];
      const sender = indexOf.get(id)!;
      let payload: Uint8Array = new Uint8Array(0);
      if (isTrainer.has(id)) {
        const encoded = codec.update.encode(ctx.outgoing(p, localTrainers), roundModel.get(id)!.data, p.compression, { round, phase: PHASES.upload, sender });
        p.compression = encoded.state;
        payload = encoded.bytes;
      }
      const req: ExchangeRequest = {
        round,
        phase: PHASES.upload,
        payload,
        sendTo: isTrainer.has(id) ? aggregators.filter((a) => a !== id) : [],
        expectFrom: isAggregator.has(id) ? trainers.filter((t) => t !== id) : [],
        deadlineMs: ctx.deadlineMs,
      };
      return [hub.transportFor(id).exchange(req).then((r) => ({ id, r }))];
    }),
  );
  for (const { id, r } of results) {
    if (!isAggregator.has(id)) continue;
    const agg = local.get(id)!;
    const global = roundModel.get(id)!;
    const contributions: Contribution[] = [];
    for (const env of [...r.received].sort((a, b) => indexOf.get(a.from)! - indexOf.get(b.from)!)) {
      let delta: Params;
      try {
        delta = codec.update.decode(env.bytes, { round, phase: PHASES.upload, sender: indexOf.get(env.from) ?? -1 });
      } catch {
        continue; // refused by validation: left out like a straggler
      }
      const model = cloneParams(global);
      for (let i = 0; i < model.data.length; i++) model.data[i] += delta.data[i];
      contributions.push({ from: env.from, params: model, weight: ctx.sampleCount(env.from) });
    }
    // An aggregator that also trained adds its own model with its own weight.
    if (isTrainer.has(id)) contributions.push({ from: id, params: agg.params, weight: ctx.sampleCount(id) });
    if (contributions.length) {
      const r = ctx.aggregator.aggregate(ctx.aggregationState(id), global, contributions, { round, members });
      agg.params = r.params;
      ctx.setAggregationState(id, r.state);
    } else agg.params = cloneParams(global);
  }
  return { trainers, aggregators };
}

/** The holder's model to the recipients; returns the round's model at every local member taking part (trainers adopt it). */
async function download(ctx: ModestRoundContext, holder: PeerId, recipients: readonly PeerId[], indexOf: ReadonlyMap<PeerId, number>): Promise<Map<PeerId, Params>> {
  const { round, local, hub, codec } = ctx;
  const model = new Map<PeerId, Params>();
  const sender = indexOf.get(holder)!;
  hub.setParticipants([holder, ...recipients]);
  const source = local.get(holder);
  const tasks: Array<Promise<unknown>> = [];
  if (source) {
    model.set(holder, cloneParams(source.params));
    const payload = codec.exact.encode(source.params, { round, phase: PHASES.download, sender });
    tasks.push(hub.transportFor(holder).exchange({ round, phase: PHASES.download, payload, sendTo: recipients, expectFrom: [], deadlineMs: ctx.deadlineMs }));
  }
  for (const id of recipients) {
    const p = local.get(id);
    if (!p) continue;
    tasks.push(
      hub
        .transportFor(id)
        .exchange({ round, phase: PHASES.download, payload: new Uint8Array(0), sendTo: [], expectFrom: [holder], deadlineMs: ctx.deadlineMs })
        .then((r) => {
          const env = r.received[0];
          // A lost download leaves the member on its own model (it still trains and uploads its change against it).
          const got = env ? decodeOrNull(codec.exact, env.bytes, { round, phase: PHASES.download, sender }) : null;
          if (got) p.params = got;
          model.set(id, cloneParams(p.params));
        }),
    );
  }
  await Promise.all(tasks);
  return model;
}


function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
