// Federated rounds with a server: sampled peers download the global model, train, and upload
// their (compressed) change; the server rebuilds each model as global + decoded change and
// aggregates with its rule (FedAvg, FedAU, FedAvg-M or a robust rule).
import type { Params } from '../params/index.js';
import { cloneParams } from '../params/index.js';
import type { Aggregator, AggregationState } from '../aggregation/build.js';
import type { Contribution } from '../aggregation/types.js';
import type { PeerId, Transport } from './transport.js';
import type { Peer } from './peer.js';
import type { UpdateCodec } from './codec.js';
import { groupAllReduce } from './allreduce.js';
import { PHASES } from './phases.js';

/** The federated server's state: the global model, the aggregation memory, the members and the participation rate. */
export interface FederatedServer {
  readonly id: PeerId;
  params: Params;
  state: AggregationState;
  /** Every peer of the run (FedAU counts the absent ones); the world sets it from the round's roster. */
  members: readonly PeerId[];
  readonly participation: number;
}

/** Something that hands out per-peer transports (the simulated network, or one node's own). */
export interface TransportHub {
  /** Sets the peers that take part from now on. */
  setParticipants(ids: Iterable<PeerId>): void;
  /** The transport one peer uses. */
  transportFor(id: PeerId): Transport;
}

/**
 * Which sides of a server round this process holds. The simulator holds both (`colocated`).
 * Between real peers the server's process holds the server and no participant, and a client's
 * process holds itself and, as its FederatedServer, only its copy of the global model it last
 * downloaded (the reference its upload's change is taken against).
 */
export interface RoundSides {
  /** Whether the server's side (aggregation, sending the global model) runs here. */
  readonly serverHere: boolean;
  /** Every participant of the round, in member order. */
  readonly participants: readonly PeerId[];
  /** A participant's codec sender index (its shard) and sample count, wherever it runs. */
  indexOf(id: PeerId): number;
  sampleCount(id: PeerId): number;
}

/** Both sides in this process: the participants are these local peers. */
export function colocated(participants: readonly Peer[]): RoundSides {
  const byId = new Map(participants.map((p) => [p.id, p]));
  return { serverHere: true, participants: participants.map((p) => p.id), indexOf: (id) => byId.get(id)!.index, sampleCount: (id) => byId.get(id)!.sampleCount };
}

const DOWNLOAD_PHASE = PHASES.download;
const UPLOAD_PHASE = PHASES.upload;
const EMPTY = new Uint8Array(0);

/** The server sends the global model to the round's participants (`participants`: the local ones), who adopt it. */
export async function federatedDownload(
  server: FederatedServer,
  participants: readonly Peer[],
  round: number,
  hub: TransportHub,
  codec: UpdateCodec,
  sides: RoundSides = colocated(participants),
): Promise<void> {
  const ids = sides.participants;
  if (ids.length === 0) return;
  hub.setParticipants([server.id, ...ids]);
  const serverIndex = server.members.length;
  const payload = sides.serverHere ? codec.exact.encode(server.params, { round, phase: DOWNLOAD_PHASE, sender: serverIndex }) : EMPTY;
  const [, ...received] = await Promise.all([
    sides.serverHere
      ? hub.transportFor(server.id).exchange({ round, phase: DOWNLOAD_PHASE, payload, sendTo: ids, expectFrom: [], deadlineMs: Number.POSITIVE_INFINITY })
      : undefined,
    ...participants.map((p) =>
      hub.transportFor(p.id).exchange({ round, phase: DOWNLOAD_PHASE, payload: EMPTY, sendTo: [], expectFrom: [server.id], deadlineMs: Number.POSITIVE_INFINITY }),
    ),
  ]);
  received.forEach((r, k) => {
    const env = r.received[0];
    // A lost download leaves the peer on its last global model (it still trains and uploads).
    if (env) participants[k].params = codec.exact.decode(env.bytes, { round, phase: DOWNLOAD_PHASE, sender: serverIndex });
    // A client's copy of the global model: what its upload's change is taken against.
    if (env && !sides.serverHere) server.params = cloneParams(participants[k].params);
  });
}

/** What a rule or the privacy settings add to an upload: each contribution's weight (default its sample count) and SCAFFOLD's control delta. */
export interface UploadExtras {
  weight?(peer: Pick<Peer, 'id' | 'index' | 'sampleCount'>): number;
  /** Δc_i the server received from this client; a client without one is left out. */
  control?(from: PeerId): Params | undefined;
}

/**
 * Participants upload their change since the global model (compressed, with error feedback in
 * the peer's own state); the server aggregates what arrived before the deadline.
 */
export async function federatedUpload(
  server: FederatedServer,
  participants: readonly Peer[],
  round: number,
  hub: TransportHub,
  codec: UpdateCodec,
  aggregator: Aggregator,
  deadlineMs = Number.POSITIVE_INFINITY,
  outgoing: (peer: Peer) => Params = (peer) => peer.params,
  extras: UploadExtras = {},
  sides: RoundSides = colocated(participants),
): Promise<{ received: number; missing: readonly PeerId[] }> {
  const ids = sides.participants;
  if (ids.length === 0) return { received: 0, missing: [] };
  hub.setParticipants([server.id, ...ids]);
  const global = server.params;
  const uploads = participants.map((p) => {
    const { bytes, state } = codec.update.encode(outgoing(p), global.data, p.compression, { round, phase: UPLOAD_PHASE, sender: p.index });
    p.compression = state;
    return bytes;
  });
  const [serverResult] = await Promise.all([
    sides.serverHere ? hub.transportFor(server.id).exchange({ round, phase: UPLOAD_PHASE, payload: EMPTY, sendTo: [], expectFrom: ids, deadlineMs }) : undefined,
    ...participants.map((p, k) =>
      hub.transportFor(p.id).exchange({ round, phase: UPLOAD_PHASE, payload: uploads[k], sendTo: [server.id], expectFrom: [], deadlineMs }),
    ),
  ]);
  if (!serverResult) return { received: 0, missing: [] };
  const inRound = new Set(ids);
  const contributions: Contribution[] = [];
  for (const env of serverResult.received) {
    if (!inRound.has(env.from)) continue;
    const peer = { id: env.from, index: sides.indexOf(env.from), sampleCount: sides.sampleCount(env.from) };
    let delta: Params; // in the codec's one decode buffer: folded in before the next decode
    try {
      delta = codec.update.decode(env.bytes, { round, phase: UPLOAD_PHASE, sender: peer.index });
    } catch {
      continue; // refused by validation: left out like a straggler
    }
    const control = extras.control?.(env.from);
    if (extras.control && !control) continue; // a SCAFFOLD client whose control delta did not arrive
    const model = cloneParams(global);
    const d = delta.data;
    const x = model.data;
    for (let i = 0; i < x.length; i++) x[i] += d[i];
    contributions.push({ from: env.from, params: model, weight: extras.weight ? extras.weight(peer) : peer.sampleCount, ...(control ? { control } : {}) });
  }
  if (contributions.length) {
    const r = aggregator.aggregate(server.state, global, contributions, { round, members: server.members });
    server.params = r.params;
    server.state = r.state;
  }
  return { received: contributions.length, missing: serverResult.missing };
}

/** The upload of the group's result to the server comes after the group phases. */
const GROUP_RESULT_PHASE = PHASES.groupResult;

/**
 * A federated round with a group compressor (PowerSGD, ARC-Top-K, GreedyLore): the participants
 * run the compressor's phases all-to-all (groupAllReduce), each ends with the same estimate of
 * the (sample-weighted) mean change, and the first participant uploads the new global model to
 * the server.
 */
export async function federatedGroupRound(
  server: FederatedServer,
  participants: readonly Peer[],
  round: number,
  hub: TransportHub,
  codec: UpdateCodec,
  deadlineMs = Number.POSITIVE_INFINITY,
): Promise<{ excluded: number }> {
  if (!codec.group || participants.length === 0) return { excluded: 0 };
  const ids = participants.map((p) => p.id);
  const global = server.params;
  const totalSamples = participants.reduce((n, p) => n + p.sampleCount, 0);
  const indexOf = new Map(participants.map((p) => [p.id, p.index]));
  hub.setParticipants(ids);
  const outcomes = await Promise.all(
    participants.map((p) => {
      // Scale each change by P·m_i/Σm so that the compressor's plain group mean is FedAvg's weighted mean.
      const delta = cloneParams(p.params);
      const scale = (participants.length * p.sampleCount) / totalSamples;
      const d = delta.data;
      const g = global.data;
      for (let i = 0; i < d.length; i++) d[i] = (d[i] - g[i]) * scale;
      return groupAllReduce(delta, p.compression, { round, group: ids, indexOf, self: p.id, deadlineMs }, hub.transportFor(p.id), codec);
    }),
  );
  let excluded = 0;
  participants.forEach((p, j) => {
    const o = outcomes[j];
    p.compression = o.state;
    excluded += o.excluded.length;
    const next = cloneParams(global);
    const e = o.estimate.data;
    for (let i = 0; i < e.length; i++) next.data[i] += e[i];
    p.params = next;
  });
  // One participant hands the new global model to the server (which keeps it for later downloads).
  hub.setParticipants([server.id, participants[0].id]);
  const first = participants[0];
  const payload = codec.exact.encode(first.params, { round, phase: GROUP_RESULT_PHASE, sender: first.index });
  const [serverResult] = await Promise.all([
    hub.transportFor(server.id).exchange({ round, phase: GROUP_RESULT_PHASE, payload: EMPTY, sendTo: [], expectFrom: [first.id], deadlineMs }),
    hub.transportFor(first.id).exchange({ round, phase: GROUP_RESULT_PHASE, payload, sendTo: [server.id], expectFrom: [], deadlineMs }),
  ]);
  const env = serverResult.received[0];
  if (env) server.params = codec.exact.decode(env.bytes, { round, phase: GROUP_RESULT_PHASE, sender: first.index });
  return { excluded };
}
