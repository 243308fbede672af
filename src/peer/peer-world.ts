// The per-peer world: each peer a Peer object with its own Params, each exchange the shared
// per-peer functions (gossipExchange, exactMerge, groupAllReduce, the federated and MoDeST
// steps) over a Transport per peer. The simulator builds it over all peers and its in-memory
// network; a real peer builds it over itself and its libp2p transport. Nothing else differs.
import type { Params } from '../params/index.js';
import { cloneParams, sub } from '../params/index.js';
import type { Trainer, TrainResult } from '../model/trainer.js';
import type { AggregationState } from '../aggregation/build.js';
import type { AggregationContext, AggregationRule, Contribution } from '../aggregation/types.js';
import { estimateParams, scaffoldGossipInitialState } from '../aggregation/scaffold-gossip.js';
import { globalAverage } from '../aggregation/fedavg.js';
import type { Run } from './run.js';
import type { Peer } from './peer.js';
import type { ExchangeRequest, PeerId, Transport } from './transport.js';
import type { GossipStep, Observation, ObserveRequest, PeerObservation, PeerTraffic, Roster, Traffic, World } from './world.js';
import { aggregateOrKeep, gossipExchange, exactMerge, MergeMemo } from './gossip.js';
import type { LocalStepOptions } from '../model/optimizer.js';
import { gossipWire } from './codec.js';
import { groupAllReduce } from './allreduce.js';
import { federatedDownload, federatedGroupRound, federatedUpload, type FederatedServer, type RoundSides, type TransportHub, type UploadExtras } from './federated.js';
import { centralNoise, LocalTraining, type LocalTrainingState } from './local-training.js';
import { PHASES } from './phases.js';
import { decodeOrNull } from './gossip.js';
import { modestRound } from './modest-round.js';
import { mixLatest, publishModel, type AsyncTransport } from './async-gossip.js';
import { consensusDistance } from './consensus.js';
import { checkFinite } from './divergence.js';

/** The async side of a real peer's transport (timing.mode async). */
export interface AsyncSide extends AsyncTransport {
  setAsyncSenders(ids: Iterable<PeerId>): void;
  takeAsyncTraffic(): PeerTraffic;
  /** Resolves once every member has reached `round` (exact merges stay barriers). */
  waitForRound(round: number): Promise<void>;
  /** Between publishing and mixing (the simulator lets every peer that acts at the same simulated time publish first). */
  beforeMix?(): Promise<void>;
}

/** What differs between the simulator's and a real peer's per-peer world. */
export interface PeerWorldEnv {
  /** Hands out each peer's transport (and the server's, in the simulator). */
  readonly hub: TransportHub;
  /** Round t's roster. */
  roster(round: number): Roster;
  /** Whether the process holds every member: it then knows the merged model and the consensus distance. */
  readonly seesAll: boolean;
  /** Before a peer's local steps (the simulator keeps a Byzantine peer's round-start model). */
  beforeTrain?(peer: Peer): void;
  /** After a peer's local steps: simulated compute time in the simulator, a real straggler's delay on the network. */
  afterTrain?(peer: Peer, steps: number): void | Promise<void>;
  /** The model a peer sends (a Byzantine simulated peer's corrupted one); default: its own. */
  outgoing?(peer: Peer, round: number, participants: readonly Peer[]): Params;
  /** Asynchronous gossip between real peers. */
  readonly async?: {
    readonly transport: AsyncSide;
    readonly maxStaleness: number;
    /** One local step at a time with a turn of the event loop between (a real peer must keep receiving while it trains). */
    readonly yieldBetweenSteps?: boolean;
  };
  /** One-line log messages (refused updates, left-out group messages). */
  log(line: string): void;
}

/** A peer's memory across rounds besides model and optimizer: local training's, the compressor's (plain data) and SCAFFOLD over gossip's estimate ĉ_i. */
export interface PeerMemory extends LocalTrainingState {
  readonly compression?: unknown;
  readonly controlEstimate?: Float32Array;
}

/** What a peer's model exchange handed its rule, held until the estimates have arrived (SCAFFOLD over gossip). */
interface HeldMix {
  readonly own: Params;
  readonly received: readonly Contribution[];
  readonly ctx: AggregationContext;
}

/** What a round's exchanges noticed: expected messages that did not come, and (async) the staleness of what was mixed. */
export interface ExchangeNotes {
  missing: number;
  staleness?: readonly number[];
}

/** A federated server held by the world (the simulator's `mode: federated`). */
export interface ServerSpec {
  readonly id: PeerId;
  readonly participation: number;
  /** False on a real client: the server runs in another process and this world holds only the client's side. Default true. */
  readonly here?: boolean;
}

export class PeerWorld implements World {
  private readonly byId: Map<PeerId, Peer>;
  private readonly aggStates = new Map<PeerId, AggregationState>();
  private readonly counter = new TrafficCounter();
  private readonly hub: TransportHub;
  private roster: Roster | undefined;
  private readonly server: FederatedServer | undefined;
  private readonly serverHere: boolean;
  /** MoDeST: the peers holding the current model (last round's aggregators); empty at the start. */
  private modestHolders: readonly PeerId[] = [];
  private notes: ExchangeNotes = { missing: 0 };
  private round = 0;
  private readonly localTraining: LocalTraining;

  constructor(
    private readonly run: Run,
    private readonly trainer: Trainer,
    peers: readonly Peer[],
    private readonly env: PeerWorldEnv,
    server?: ServerSpec,
  ) {
    if (env.async && peers.length !== 1) throw new Error(`PeerWorld: asynchronous gossip runs one peer per world, not ${peers.length}`);
    this.byId = new Map(peers.map((p) => [p.id, p]));
    this.localTraining = new LocalTraining(run);
    for (const p of peers) {
      this.aggStates.set(p.id, run.aggregator.initialState());
      p.compression = run.codec.group ? run.codec.group.initialState(run.model.layout) : run.codec.update.initState();
    }
    this.hub = countingHub(env.hub, this.counter);
    this.serverHere = server?.here ?? true;
    this.server = server
      ? { id: server.id, params: cloneParams(run.sharedInit), state: run.aggregator.initialState(), members: peers.map((p) => p.id), participation: server.participation }
      : undefined;
  }

  async beginRound(round: number): Promise<Roster> {
    this.round = round;
    this.roster = this.env.roster(round);
    return this.roster;
  }

  async train(peers: readonly number[], steps: number): Promise<void> {
    for (const p of this.local(peers)) await this.trainOne(p, steps);
  }

  async gossipStep(step: GossipStep): Promise<void> {
    const { members } = this.current();
    const peers = this.local(step.participants);
    if (peers.length === 0) return;
    if (this.env.async) return await this.asyncStep(step, peers);
    this.hub.setParticipants(step.participants.map((i) => members[i]));
    // SCAFFOLD over gossip mixes models and estimates together, once the estimates have come too.
    const held = this.run.aggregator.training?.trackedControl ? new Map<PeerId, HeldMix>() : undefined;
    const holding = (p: Peer): AggregationRule => (own, received, ctx) => (held!.set(p.id, { own, received, ctx: ctx ?? { round: step.round, members } }), own);
    const outcomes = await Promise.all(
      peers.map((p) => {
        const i = this.indexOf(p);
        return gossipExchange(
          p.params,
          { round: step.round, phase: step.phase, members, selfIndex: i, row: step.mixing.row(i), sendTo: step.mixing.outNeighbours(i), deadlineMs: step.deadlineMs },
          this.hub.transportFor(p.id),
          gossipWire(this.run.codec, this.outgoing(p, step.round, peers), this.aggStates.get(p.id)!),
          held ? holding(p) : this.ruleOf(p),
        );
      }),
    );
    outcomes.forEach((o, k) => {
      peers[k].params = o.params;
      this.notes.missing += o.missing.length;
      for (const r of o.rejected) this.env.log(`round ${step.round + 1}: ${peers[k].id} refused a message from ${r.from}: ${r.reason}`);
    });
    if (held) await this.mixEstimates(step, peers, held);
  }

  /**
   * SCAFFOLD over gossip, after the model exchange: each peer sends its estimate ĉ_i whole (phase
   * controlGossip) to the peers that average it, then mixes the models it holds together with
   * the estimates that arrived (a neighbour's estimate without its model is not used).
   */
  private async mixEstimates(step: GossipStep, peers: readonly Peer[], held: ReadonlyMap<PeerId, HeldMix>): Promise<void> {
    const { members } = this.current();
    const { round } = step;
    const phase = PHASES.controlGossip;
    const exact = this.run.codec.exact;
    const indexOf = new Map<PeerId, number>(members.map((id, k) => [id, k]));
    this.hub.setParticipants(step.participants.map((i) => members[i]));
    const results = await Promise.all(
      peers.map((p) => {
        const i = this.indexOf(p);
        const state = this.aggStates.get(p.id)!;
        const payload = exact.encode(estimateParams(p.params, state !== null && state.rule === 'scaffold-gossip' ? state : scaffoldGossipInitialState()), { round, phase, sender: i });
        const ids = (list: ArrayLike<number>) => Array.from(list, (j) => members[j]);
        return this.hub.transportFor(p.id).exchange({ round, phase, payload, sendTo: ids(step.mixing.outNeighbours(i)), expectFrom: ids(step.mixing.row(i).peers), deadlineMs: step.deadlineMs });
      }),
    );
    results.forEach((r, k) => {
      const p = peers[k];
      const rejected: Array<{ from: PeerId; reason: string }> = [];
      const estimates = new Map<PeerId, Params>();
      for (const env of r.received) {
        const c = decodeOrNull(exact, env.bytes, { round, phase, sender: indexOf.get(env.from) ?? -1 });
        if (c) estimates.set(env.from, c);
        else rejected.push({ from: env.from, reason: 'malformed control estimate' });
      }
      const h = held.get(p.id);
      if (h) {
        const received = h.received.map((c) => (estimates.has(c.from) ? { ...c, control: estimates.get(c.from)! } : c));
        p.params = aggregateOrKeep(this.ruleOf(p), h.own, received, h.ctx, rejected);
      }
      this.notes.missing += r.missing.length;
      for (const x of rejected) this.env.log(`round ${round + 1}: ${p.id} refused a message from ${x.from}: ${x.reason}`);
    });
  }

  /** A local peer's memory that a checkpoint keeps: its local-training state and its compressor's. */
  peerMemory(id: PeerId): PeerMemory {
    const rule = this.aggStates.get(id);
    const estimate = rule && rule.rule === 'scaffold-gossip' ? rule.estimate : null;
    return { ...this.localTraining.exportState(id), compression: this.byId.get(id)!.compression, ...(estimate ? { controlEstimate: estimate } : {}) };
  }

  /** Restores what peerMemory gave (a peer restarted from its checkpoint). */
  restorePeerMemory(id: PeerId, memory: PeerMemory): void {
    this.localTraining.importState(id, memory);
    if (memory.controlEstimate && this.run.aggregator.training?.trackedControl) this.aggStates.set(id, { rule: 'scaffold-gossip', estimate: memory.controlEstimate });
    if (memory.compression !== undefined) this.byId.get(id)!.compression = memory.compression;
  }

  /** What the exchanges since the last call noticed (for a real peer's log line). */
  takeNotes(): ExchangeNotes {
    const n = this.notes;
    this.notes = { missing: 0 };
    return n;
  }

  async exactMerge(round: number, group: readonly number[], deadlineMs: number): Promise<void> {
    const { members } = this.current();
    const peers = this.local(group);
    if (peers.length === 0) return;
    if (this.env.async) await this.env.async.transport.waitForRound(round);
    const ids = group.map((i) => members[i]);
    this.hub.setParticipants(ids);
    // Simulated peers of one merge share the decoding and averaging (O(P·d), not O(P²·d)).
    const memo = peers.length > 1 ? new MergeMemo() : undefined;
    const merged = await Promise.all(
      peers.map((p) => exactMerge(p.params, { round, members, selfIndex: this.indexOf(p), group: ids, deadlineMs }, this.hub.transportFor(p.id), this.run.codec.exact, memo)),
    );
    merged.forEach((params, k) => {
      peers[k].params = params;
    });
  }

  async serverRound(round: number, participants: readonly number[], steps: number, deadlineMs: number): Promise<void> {
    const server = this.server;
    if (!server) throw new Error('PeerWorld: serverRound without a server');
    const peers = this.local(participants);
    const { codec, aggregator, partition } = this.run;
    // Between real peers the server and the participants are in different processes: each side
    // knows the others by member index (a participant's shard) and shard size.
    const { members } = this.current();
    server.members = members;
    const sides: RoundSides = {
      serverHere: this.serverHere,
      participants: participants.map((i) => members[i]),
      indexOf: (id) => this.byId.get(id)?.index ?? members.indexOf(id),
      sampleCount: (id) => this.byId.get(id)?.sampleCount ?? partition.indices[members.indexOf(id)].length,
    };
    await federatedDownload(server, peers, round, this.hub, codec, sides);
    for (const p of peers) await this.trainOne(p, steps);
    if (codec.group) {
      await federatedGroupRound(server, peers, round, this.hub, codec, deadlineMs);
      return;
    }
    const central = this.run.config.privacy?.mode === 'central';
    const extras: UploadExtras = {
      // Central DP averages unweighted: a sample-count weight would change one peer's sensitivity.
      ...(central ? { weight: () => 1 } : {}),
      ...(this.localTraining.uploadsControls ? { control: lookup(await this.uploadControls(server, peers, round, deadlineMs)) } : {}),
    };
    const up = await federatedUpload(server, peers, round, this.hub, codec, aggregator, deadlineMs, (p) => this.outgoing(p, round, peers), extras, sides);
    if (central && up.received > 0) server.params = centralNoise(server.params, this.run.config, round, up.received);
  }

  /** SCAFFOLD: each client sends its Δc_i to the server (whole, phase controlUpload); returns what arrived. */
  private async uploadControls(server: FederatedServer, peers: readonly Peer[], round: number, deadlineMs: number): Promise<Map<PeerId, Params>> {
    const phase = PHASES.controlUpload;
    const exact = this.run.codec.exact;
    const sending = peers.flatMap((p) => {
      const c = this.localTraining.takeControl(p.id);
      return c ? [{ p, bytes: exact.encode(c, { round, phase, sender: p.index }) }] : [];
    });
    const ids = sending.map((s) => s.p.id);
    this.hub.setParticipants([server.id, ...ids]);
    const [serverResult] = await Promise.all([
      this.hub.transportFor(server.id).exchange({ round, phase, payload: EMPTY, sendTo: [], expectFrom: ids, deadlineMs }),
      ...sending.map((s) => this.hub.transportFor(s.p.id).exchange({ round, phase, payload: s.bytes, sendTo: [server.id], expectFrom: [], deadlineMs })),
    ]);
    const indexOf = new Map(sending.map((s) => [s.p.id, s.p.index]));
    const got = new Map<PeerId, Params>();
    for (const env of serverResult.received) {
      const sender = indexOf.get(env.from);
      const c = sender === undefined ? null : decodeOrNull(exact, env.bytes, { round, phase, sender });
      if (c) got.set(env.from, c);
    }
    return got;
  }

  async allReduce(round: number, group: readonly number[], steps: number, deadlineMs: number): Promise<void> {
    const { members } = this.current();
    const peers = this.local(group);
    if (peers.length === 0) return;
    // Every member starts the round from the same model (the last all-reduce's result), so
    // adding the group's mean change keeps them equal: serverless FedAvg.
    const starts = new Map<PeerId, Float32Array>();
    for (const p of peers) {
      starts.set(p.id, p.params.data.slice());
      await this.trainOne(p, steps);
    }
    const ids = group.map((i) => members[i]);
    const indexOf = new Map(ids.map((id, k) => [id, k]));
    this.hub.setParticipants(ids);
    const outcomes = await Promise.all(
      peers.map((p) => {
        const start = starts.get(p.id)!;
        const delta = { layout: p.params.layout, data: sub(new Float32Array(start.length), p.params.data, start) };
        return groupAllReduce(delta, p.compression, { round, group: ids, indexOf, self: p.id, deadlineMs }, this.hub.transportFor(p.id), this.run.codec);
      }),
    );
    outcomes.forEach((o, k) => {
      const p = peers[k];
      p.compression = o.state;
      const next = starts.get(p.id)!;
      const e = o.estimate.data;
      for (let i = 0; i < next.length; i++) next[i] += e[i];
      p.params = { layout: p.params.layout, data: next };
      for (const x of o.excluded) this.env.log(`round ${round + 1}: ${p.id} left out a phase-${x.phase} message of member ${x.sender}: ${x.reason}`);
    });
  }

  /** A MoDeST round (./modest-round.ts) for the local members; returns the trainers. */
  async modestRound(round: number, live: readonly number[], steps: number, deadlineMs: number): Promise<readonly number[]> {
    const { config, codec, aggregator, partition } = this.run;
    const { members } = this.current();
    const roles = await modestRound({
      round,
      members,
      live: live.map((i) => members[i]),
      local: this.byId,
      holders: this.modestHolders,
      hub: this.hub,
      codec,
      aggregator,
      aggregationState: (id) => this.aggStates.get(id) ?? aggregator.initialState(),
      setAggregationState: (id, state) => void this.aggStates.set(id, state),
      seed: config.seed,
      spec: config.modest,
      deadlineMs,
      // Every member knows every shard's size: the partition comes from the run seed.
      sampleCount: (id) => this.byId.get(id)?.sampleCount ?? partition.indices[members.indexOf(id)].length,
      train: async (p) => void (await this.trainOne(p, steps)),
      outgoing: (p, trainers) => this.outgoing(p, round, trainers),
    });
    this.modestHolders = roles.aggregators;
    return roles.trainers.map((id) => members.indexOf(id));
  }

  async observe(request: ObserveRequest): Promise<Observation> {
    const { members, honest } = this.current();
    const { trainer, run } = this;
    const wanted = [...new Set([...request.evalPeers, ...request.participants])].sort((a, b) => a - b);
    const evalSet = new Set(request.evaluate ? request.evalPeers : []);
    const peers: PeerObservation[] = [];
    for (const i of wanted) {
      const p = this.byId.get(members[i]);
      if (!p) continue;
      if (!evalSet.has(i)) {
        peers.push({ index: i, trainLoss: p.lastLoss });
        continue;
      }
      const e = await trainer.evaluate(p.params, run.test);
      peers.push({ index: i, trainLoss: p.lastLoss, accuracy: e.accuracy, loss: e.loss });
    }
    this.checkDiverged(request.round, request.participants);
    if (!this.env.seesAll) return { peers, merged: null, consensusDistance: Number.NaN };
    const models = this.local(honest).map((p) => p.params);
    const average = models.length ? globalAverage(models) : undefined;
    const merged = this.mergedModel(average);
    const mergedEval = request.evaluate && merged ? await trainer.evaluate(merged, run.test) : undefined;
    return {
      peers,
      merged: mergedEval ? { accuracy: mergedEval.accuracy, loss: mergedEval.loss } : null,
      consensusDistance: average ? consensusDistance(models, average) : 0,
    };
  }

  /** Stops the run at the first round where a local honest participant's loss or weights are not finite. */
  private checkDiverged(round: number, participants: readonly number[]): void {
    const { members } = this.current();
    const states = participants.flatMap((i) => {
      const p = this.byId.get(members[i]);
      return p ? [{ index: i, loss: p.steps === 0 ? null : p.lastLoss, params: p.params }] : [];
    });
    checkFinite(round + 1, states, `lower training.optimizer.lr (now ${this.run.config.training.optimizer.lr}), or check the data for non-finite values`);
  }

  takeTraffic(): Traffic {
    const async = this.env.async?.transport.takeAsyncTraffic();
    // An asynchronous world holds one peer (see the constructor): what its async transport moved is that peer's.
    if (async) this.counter.add(this.byId.keys().next().value!, async.sent, async.received);
    const index = new Map(this.current().members.map((id, i) => [id, i]));
    const byPeer = new Map<number, PeerTraffic>();
    let server: PeerTraffic | undefined;
    let sent = 0;
    let received = 0;
    for (const [id, t] of this.counter.take()) {
      sent += t.sent;
      received += t.received;
      const i = index.get(id);
      if (id === this.server?.id) server = t;
      else if (i !== undefined) byPeer.set(i, t);
    }
    return { sent, received, byPeer, ...(server ? { server } : {}) };
  }

  async finalModels(): Promise<{ models: readonly Params[]; merged: Params | null }> {
    const models = this.local(this.current().honest).map((p) => p.params);
    if (!this.env.seesAll) return { models, merged: null };
    const merged = this.mergedModel(models.length ? globalAverage(models) : undefined);
    return { models, merged: merged ? cloneParams(merged) : null };
  }

  /** The merged model: the server's (federated), the current holder's (MoDeST), else the average. */
  private mergedModel(average: Params | undefined): Params | undefined {
    if (this.server) return this.server.params;
    const { members, live } = this.current();
    const liveIds = new Set(live.map((i) => members[i]));
    const holder = this.modestHolders.find((id) => liveIds.has(id));
    return (holder !== undefined ? this.byId.get(holder)?.params : undefined) ?? average;
  }

  private async trainOne(p: Peer, steps: number): Promise<TrainResult> {
    this.env.beforeTrain?.(p);
    // The c of SCAFFOLD's correction: the server's, or (over gossip) the peer's own estimate ĉ_i.
    const ruleState = this.server?.state ?? (this.run.aggregator.training?.trackedControl ? this.aggStates.get(p.id)! : null);
    const hooks = this.localTraining.active ? this.localTraining.begin(p, ruleState) : undefined;
    const r = this.env.async?.yieldBetweenSteps ? await trainYielding(p, this.trainer, steps, hooks?.options) : await p.train(this.trainer, steps, hooks?.options);
    const moved = hooks ? this.localTraining.finish(p, hooks.start, steps, this.round, ruleState) : undefined;
    if (moved !== undefined) this.aggStates.set(p.id, moved);
    // Before anything is sent: a diverged model would be refused by every encoder on the way.
    this.checkDiverged(this.round, [this.indexOf(p)]);
    await this.env.afterTrain?.(p, steps);
    return r;
  }

  /** Asynchronous gossip (real peers): publish, then mix the latest model of each in-neighbour. */
  private async asyncStep(step: GossipStep, peers: readonly Peer[]): Promise<void> {
    const { transport, maxStaleness } = this.env.async!;
    const { members } = this.current();
    for (const p of peers) {
      const i = this.indexOf(p);
      const row = step.mixing.row(i);
      transport.setAsyncSenders(Array.from(row.peers, (j) => members[j]));
      const plan = { round: step.round, phase: step.phase, members, selfIndex: i, row, sendTo: step.mixing.outNeighbours(i), maxStaleness };
      // What it sends: its model, or an attacker's corruption of it (as in the synchronous step).
      const wire = gossipWire(this.run.codec, this.outgoing(p, step.round, peers), this.aggStates.get(p.id)!);
      publishModel(plan, transport, wire);
      await transport.beforeMix?.();
      const o = mixLatest(p.params, plan, transport, wire, this.ruleOf(p));
      p.params = o.params;
      this.notes.missing += o.absent.length;
      if (step.phase === 0) this.notes.staleness = o.staleness;
      for (const r of o.rejected) this.env.log(`round ${step.round + 1}: refused an update from ${r.from}: ${r.reason}`);
    }
  }

  private ruleOf(p: Peer): AggregationRule {
    return (own, received, ctx) => {
      const r = this.run.aggregator.aggregate(this.aggStates.get(p.id)!, own, received, ctx);
      this.aggStates.set(p.id, r.state);
      return r.params;
    };
  }

  private outgoing(p: Peer, round: number, participants: readonly Peer[]): Params {
    return this.env.outgoing ? this.env.outgoing(p, round, participants) : p.params;
  }

  /** The local peers among these member indices, in order. */
  private local(indices: readonly number[]): Peer[] {
    const { members } = this.current();
    return indices.flatMap((i) => {
      const p = this.byId.get(members[i]);
      return p ? [p] : [];
    });
  }

  private indexOf(p: Peer): number {
    return this.current().members.indexOf(p.id);
  }

  private current(): Roster {
    if (!this.roster) throw new Error('PeerWorld: beginRound() first');
    return this.roster;
  }
}

const EMPTY = new Uint8Array(0);

function lookup<K, V>(map: ReadonlyMap<K, V>): (key: K) => V | undefined {
  return (key) => map.get(key);
}

/** Payload bytes each transport's owner put on the wire and took off it since the last take. */
class TrafficCounter {
  private counts = new Map<PeerId, { sent: number; received: number }>();

  add(id: PeerId, sent: number, received: number): void {
    const c = this.counts.get(id);
    if (c) {
      c.sent += sent;
      c.received += received;
    } else this.counts.set(id, { sent, received });
  }

  take(): ReadonlyMap<PeerId, PeerTraffic> {
    const counts = this.counts;
    this.counts = new Map();
    return counts;
  }
}

/** A hub whose transports count the payload bytes each exchange puts on the wire and takes off it, by sender and receiver. */
function countingHub(hub: TransportHub, counter: TrafficCounter): TransportHub {
  const cache = new Map<PeerId, Transport>();
  return {
    setParticipants: (ids) => hub.setParticipants(ids),
    transportFor: (id) => {
      let t = cache.get(id);
      if (!t) cache.set(id, (t = countingTransport(hub.transportFor(id), counter)));
      return t;
    },
  };
}

function countingTransport(inner: Transport, counter: TrafficCounter): Transport {
  return {
    self: inner.self,
    members: () => inner.members(),
    now: () => inner.now(),
    exchange: async (req: ExchangeRequest) => {
      counter.add(inner.self, sentBytes(req, inner.self), 0);
      const result = await inner.exchange(req);
      counter.add(inner.self, 0, result.received.reduce((n, env) => n + env.bytes.byteLength, 0));
      return result;
    },
  };
}

function sentBytes(req: ExchangeRequest, self: PeerId): number {
  let n = 0;
  for (const to of req.sendTo) {
    if (to === self) continue;
    const bytes = req.payload instanceof Uint8Array ? req.payload : req.payload.get(to);
    if (bytes) n += bytes.byteLength;
  }
  return n;
}

/**
 * Local steps one at a time with a turn of the event loop after each: on the CPU and WASM
 * backends a round of training never leaves the thread, and an asynchronous peer (which never
 * waits on the network) would otherwise send and receive nothing until its last round.
 */
async function trainYielding(peer: Peer, trainer: Trainer, steps: number, local?: LocalStepOptions): Promise<TrainResult> {
  let lossSum = 0;
  let samples = 0;
  for (let i = 0; i < steps; i++) {
    const r = await peer.train(trainer, 1, local);
    lossSum += r.loss;
    samples += r.samples;
    await new Promise((resolve) => setImmediate(resolve));
  }
  peer.lastLoss = steps ? lossSum / steps : 0;
  return { loss: peer.lastLoss, steps, samples };
}
