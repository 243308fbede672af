// The in-process simulator: many peers, one shared Trainer, an in-memory Transport with a
// network model, and the same per-peer exchange code the libp2p node runs.
//
// A round (0-based t of T):
//   1. churn events of round t (crash, leave, rejoin) change the live set;
//   2. participants: gossip mode, each live peer with the configured probability; federated
//      mode, a seeded sample of live peers, who first download the server's global model;
//   3. each participant trains k local steps (simulated compute time k·stepMs / its speed);
//   4. gossip mode: Q gossip exchanges over topology.at(t) (budget r(progress) for the pull
//      topology), or an exact global average when the schedule says so; federated mode:
//      participants upload (compressed) models, the server aggregates;
//   5. metrics: bytes, losses, consensus distance and, every `eval.every` rounds and at the end,
//      the accuracy of local models and of the merged model.
import type { RunConfig } from '../peer/config.js';
import type { RoundMetrics, RunSummary } from '../report/metrics.js';
import { initBackend, type BackendInfo } from '../compute/backend.js';
import { buildModel, describeModel, type Model } from '../model/zoo.js';
import { Trainer } from '../model/trainer.js';
import { initOptimizerState } from '../model/optimizer.js';
import { loadDataSource, partition, subset, type Dataset, type Partition } from '../data/index.js';
import type { Topology } from '../topology/schedules.js';
import { buildSchedule, type Schedule } from '../schedule/spec.js';
import { buildAggregation, type Aggregator, type AggregationState } from '../aggregation/build.js';
import { globalAverage } from '../aggregation/fedavg.js';
import { cloneParams, type Params } from '../params/index.js';
import { Peer } from '../peer/peer.js';
import { consensusDistance } from '../peer/consensus.js';
import { gossipExchange, exactMerge, MergeMemo, type ModelCodec } from '../peer/gossip.js';
import { federatedDownload, federatedGroupRound, federatedUpload, type FederatedServer } from '../peer/federated.js';
import { modestRoles } from '../peer/modest.js';
import { RoundMixing } from '../peer/round-mixing.js';
import { buildCodec, checkCompressionFits, gossipWire, type UpdateCodec } from '../peer/codec.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { SimNetwork } from './memory-transport.js';
import { chooseAttackers, corruptModel, flipLabels } from './attacks.js';
import { BatchedEngine } from './batched-engine.js';
import { NanWireNetwork } from './attack-payloads.js';
import { IDEAL_NETWORK, type NetworkModel } from './network.js';

/** Callbacks a simulation reports through. */
export interface SimulationHooks {
  /** Called after every round with its metrics. */
  onRound?(metrics: RoundMetrics): void;
  /** One-line log messages (backend choice, rejected messages, churn). */
  log?(line: string): void;
}

/** Parts a library user brings instead of the ones the config names. */
export interface SimulationPlugins {
  /** A custom model (its input shape must match the dataset's samples). */
  readonly model?: Model;
  /** A custom topology over `config.peers` peers (gossip mode). */
  readonly topology?: Topology;
  /** A custom aggregation rule. */
  readonly aggregation?: Aggregator;
}

/** What a simulation returns: per-round metrics, summary, partition and final models. */
export interface SimulationResult {
  readonly metrics: RoundMetrics[];
  readonly summary: RunSummary;
  readonly partition: { numClasses: number; histograms: number[][] };
  /** Final models of the live peers (and the server's in federated mode). */
  readonly finalModels: Params[];
  readonly merged: Params;
}

/** Everything a run builds once from its config. */
interface World {
  readonly config: RunConfig;
  readonly backend: BackendInfo;
  readonly model: Model;
  readonly trainer: Trainer;
  readonly test: Dataset;
  readonly partition: Partition;
  readonly peers: Peer[];
  readonly members: string[];
  /** Gossip mode: the mixing of each gossip step (topology, or random pull under a budget). */
  readonly mixing: RoundMixing | undefined;
  readonly schedule: Schedule;
  readonly aggregator: Aggregator;
  readonly aggStates: AggregationState[];
  readonly codec: UpdateCodec;
  readonly net: SimNetwork;
  readonly speeds: Float64Array;
  /** Extra simulated time per round of each peer (timing.slowPeers; 0 for the others). */
  readonly slowDelayMs: Float64Array;
  /** 'live' | 'crashed' | 'left' per peer. */
  readonly status: Array<'live' | 'crashed' | 'left'>;
  readonly server: FederatedServer | undefined;
  /** Indices of Byzantine peers (empty without an attack). */
  readonly attackers: Set<number>;
  /** Attackers' models at the start of the current round. */
  readonly roundStartModels: Map<number, Params>;
  /** MoDeST: the peers that hold the current model (last round's aggregators); empty at the start. */
  modestHolders: Peer[];
  /** Present with `engine: batched`: trains and mixes all peers at once. */
  readonly batched: BatchedEngine | undefined;
}

/** Runs a whole simulation of the config in one process. */
export async function simulate(config: RunConfig, hooks: SimulationHooks = {}, plugins: SimulationPlugins = {}): Promise<SimulationResult> {
  const log = hooks.log ?? (() => {});
  const world = await buildWorld(config, log, plugins);
  const metrics: RoundMetrics[] = [];
  const wallStart = performance.now();
  let bytesSentTotal = 0;
  let simClockMs = 0;
  try {
    for (let t = 0; t < config.rounds; t++) {
      applyChurn(world, t, log);
      const roundStart = simClockMs;
      const plan = world.schedule.plan(t);
      const live = world.peers.filter((_, i) => world.status[i] === 'live');
      for (const p of live) world.net.setClock(p.id, roundStart);

      let participants: Peer[];
      let globalMerge = false;
      let preMerge: number | null = null;
      if (config.mode === 'modest') {
        participants = await modestRound(world, t, live, plan.localSteps);
      } else if (world.server) {
        participants = sampleFederated(world, t, live);
        await federatedDownload(world.server, participants, t, world.net, world.codec);
        await trainAll(world, participants, plan.localSteps);
        if (world.codec.group) {
          await federatedGroupRound(world.server, participants, t, world.net, world.codec, config.heterogeneity.deadlineMs);
        } else {
          await federatedUpload(world.server, participants, t, world.net, world.codec, world.aggregator, config.heterogeneity.deadlineMs, (p) =>
            world.attackers.has(p.index) ? attackerModel(world, t, p, participants) : p.params,
          );
        }
      } else {
        participants = live.filter((p) => participates(world, t, p));
        if (world.batched) await trainBatched(world, world.batched, participants, plan.localSteps);
        else await trainAll(world, participants, plan.localSteps);
        if (plan.exactMerge) {
          globalMerge = true;
          preMerge = await meanLocalAccuracy(world, live.filter((p) => !world.attackers.has(p.index)));
          await mergeAll(world, t, live);
        } else {
          for (let q = 0; q < plan.gossipSteps; q++) {
            if (world.batched) await mixBatched(world, world.batched, t, q, plan.gossipSteps, plan.budget);
            else await gossipStep(world, t, q, plan.gossipSteps, plan.budget, participants, log);
          }
        }
      }

      const honestLive = live.filter((p) => !world.attackers.has(p.index));
      simClockMs = live.reduce((m, p) => Math.max(m, world.net.clock(p.id)), roundStart);
      if (world.server) simClockMs = Math.max(simClockMs, world.net.clock(world.server.id));
      const traffic = world.net.takeTraffic();
      bytesSentTotal += traffic.sent;
      const evaluate = (t + 1) % config.eval.every === 0 || t === config.rounds - 1 || globalMerge;
      const m = await roundMetrics(world, t, honestLive, participants.filter((p) => !world.attackers.has(p.index)), evaluate, {
        globalMerge,
        preMergeLocalAccuracyMean: preMerge,
        bytesSent: traffic.sent,
        bytesReceived: traffic.received,
        bytesSentTotal,
        simSeconds: simClockMs / 1000,
        wallSeconds: (performance.now() - wallStart) / 1000,
      });
      metrics.push(m);
      hooks.onRound?.(m);
    }
    const live = world.peers.filter((_, i) => world.status[i] === 'live' && !world.attackers.has(i));
    const holder = world.modestHolders.find((p) => world.status[p.index] === 'live');
    const merged = world.server ? cloneParams(world.server.params) : holder ? cloneParams(holder.params) : globalAverage(live.map((p) => p.params));
    const last = metrics[metrics.length - 1];
    const summary: RunSummary = {
      label: config.name,
      rounds: config.rounds,
      peers: config.peers,
      localAccuracyMean: last?.localAccuracyMean ?? null,
      mergedAccuracy: last?.mergedAccuracy ?? null,
      preMergeLocalAccuracyMean: [...metrics].reverse().find((m) => m.globalMerge)?.preMergeLocalAccuracyMean ?? null,
      bytesSent: bytesSentTotal,
      wallSeconds: (performance.now() - wallStart) / 1000,
      backend: world.backend.name,
      ...(world.backend.device ? { device: world.backend.device } : {}),
      config,
    };
    return {
      metrics,
      summary,
      partition: { numClasses: world.test.numClasses, histograms: world.partition.histograms },
      finalModels: live.map((p) => p.params),
      merged,
    };
  } finally {
    world.trainer.dispose();
    world.batched?.dispose();
  }
}

async function buildWorld(config: RunConfig, log: (line: string) => void, plugins: SimulationPlugins): Promise<World> {
  const { seed } = config;
  const { train, test: fullTest } = loadDataSource(config.data, seed);
  const test = config.eval.testSamples && config.eval.testSamples < fullTest.n ? subset(fullTest, range(config.eval.testSamples), fullTest.name) : fullTest;
  const model = plugins.model ?? buildModel(config.model, train.featureShape, train.numClasses);
  const featureSize = train.featureShape.reduce((a, b) => a * b, 1);
  if (model.inputShape.reduce((a, b) => a * b, 1) !== featureSize) {
    throw new ConfigError(`model: the model takes inputs of shape [${model.inputShape.join(', ')}], the data has samples of shape [${train.featureShape.join(', ')}]`);
  }
  if (plugins.topology && plugins.topology.n !== config.peers) {
    throw new ConfigError(`plugins.topology has ${plugins.topology.n} peers, the run has peers: ${config.peers}`);
  }
  if (config.timing.mode === 'async') {
    throw new ConfigError(
      'timing.mode async runs between real peers (gossipfl peer) only so far; simulate stragglers with timing.mode sync and timing.slowPeers or heterogeneity.speedSpread, with heterogeneity.deadlineMs',
    );
  }
  const backend = await initBackend(config.backend, { convGradients: model.needsConvGradients }, log);
  const parts = partition(train, config.data.partition, config.peers, Rng.derive(seed, 'partition').nextUint32());
  const members = Array.from({ length: config.peers }, (_, i) => `p${i}`);
  const shared = model.init(Rng.derive(seed, 'init').nextUint32());
  const peers = members.map(
    (id, i) =>
      new Peer({
        id,
        index: i,
        params: config.training.init === 'shared' ? cloneParams(shared) : model.init(Rng.derive(seed, 'init', i).nextUint32()),
        optimizer: initOptimizerState(config.training.optimizer, model.layout),
        data: subset(train, parts.indices[i], `${train.name}/${id}`),
        batchSize: config.training.batchSize,
        batchSeed: Rng.derive(seed, 'batches', i).nextUint32(),
      }),
  );
  const attackers = config.attack ? chooseAttackers(config.peers, config.attack.fraction, seed) : new Set<number>();
  if (config.attack?.kind === 'label-flip') {
    for (const i of attackers) flipLabels(peers[i].data.y, train.numClasses);
  }
  const aggregator = plugins.aggregation ?? buildAggregation(config.aggregation ?? { name: config.mode === 'gossip' ? 'gossip' : 'fedavg' });
  const network: NetworkModel = {
    ...IDEAL_NETWORK,
    latencyMs: config.network.latencyMs,
    jitterMs: config.network.jitterMs,
    loss: config.network.loss,
    ...(config.network.bandwidthMbps ? { bandwidthMbps: config.network.bandwidthMbps } : {}),
  };
  const netSeed = Rng.derive(seed, 'network').nextUint32();
  const net =
    config.attack?.kind === 'nan' ? new NanWireNetwork(network, netSeed, new Set([...attackers].map((i) => members[i])), model.layout) : new SimNetwork(network, netSeed);
  const codec = buildCodec(config.compression, model.layout, seed);
  checkCompressionFits(config.mode === 'gossip' ? 'gossip' : 'federated', aggregator.spec.name, codec, config.compression.errorFeedback);
  for (const p of peers) p.compression = codec.group ? codec.group.initialState(model.layout) : codec.update.initState();
  const speedRng = Rng.derive(seed, 'speed');
  const speeds = Float64Array.from(members, () => Math.exp(config.heterogeneity.speedSpread * speedRng.normal()));
  const server: FederatedServer | undefined =
    config.mode === 'federated'
      ? { id: 'server', params: cloneParams(shared), state: aggregator.initialState(), members, participation: config.federated.participation }
      : undefined;
  net.setMembers(server ? [...members, server.id] : members);
  // Last, so that a config error above leaves no tfjs variables behind.
  const trainer = new Trainer(model, config.training.optimizer);
  const batched =
    config.engine === 'batched'
      ? new BatchedEngine(model, config, peers, codec.model.encode(peers[0].params, { round: 0, phase: 0, sender: 0 }).byteLength)
      : undefined;
  return {
    config,
    backend,
    model,
    trainer,
    test,
    partition: parts,
    peers,
    members,
    mixing: config.mode === 'gossip' ? new RoundMixing(config.topology, seed, plugins.topology) : undefined,
    schedule: buildSchedule(config.schedule, config.rounds),
    aggregator,
    aggStates: peers.map(() => aggregator.initialState()),
    codec,
    net,
    speeds,
    slowDelayMs: Float64Array.from(members, (_, i) => config.timing.slowPeers.find((s) => s.peer === i)?.delayMs ?? 0),
    status: peers.map(() => 'live'),
    server,
    attackers,
    roundStartModels: new Map(),
    modestHolders: [],
    batched,
  };
}

function range(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

async function trainAll(world: World, participants: readonly Peer[], steps: number): Promise<void> {
  const stepMs = world.config.heterogeneity.stepMs;
  world.roundStartModels.clear();
  for (const p of participants) {
    if (world.attackers.has(p.index)) world.roundStartModels.set(p.index, cloneParams(p.params));
    await p.train(world.trainer, steps);
    world.net.advance(p.id, (steps * stepMs) / world.speeds[p.index] + world.slowDelayMs[p.index]);
  }
}

/** What a Byzantine peer sends this round. */
function attackerModel(world: World, t: number, p: Peer, participants: readonly Peer[]): Params {
  const honest = participants.filter((q) => !world.attackers.has(q.index)).map((q) => q.params);
  const reference = world.roundStartModels.get(p.index) ?? p.params;
  return corruptModel(world.config.attack!, p.params, reference, honest, Rng.derive(world.config.seed, 'attack', t, p.index));
}

async function trainBatched(world: World, engine: BatchedEngine, participants: readonly Peer[], steps: number): Promise<void> {
  await engine.train(steps);
  for (const p of participants) world.net.advance(p.id, (steps * world.config.heterogeneity.stepMs) / world.speeds[p.index] + world.slowDelayMs[p.index]);
}

/** The batched engine's gossip step: W·X on the stack, with the bytes the messages would take. */
async function mixBatched(world: World, engine: BatchedEngine, t: number, q: number, stepsPerRound: number, budget: number | null): Promise<void> {
  const { sent, received } = await engine.mix(world.mixing!.at(world.config.peers, t * stepsPerRound + q, budget));
  world.peers.forEach((p, i) => {
    world.net.traffic.sent.set(p.id, (world.net.traffic.sent.get(p.id) ?? 0) + sent[i]);
    world.net.traffic.received.set(p.id, (world.net.traffic.received.get(p.id) ?? 0) + received[i]);
  });
}

/**
 * A MoDeST round: the round's trainers fetch the model from the last round's first live
 * aggregator (the shared initial model in round 0), train, and send it to the round's
 * aggregators, each of which averages what arrived (the configured rule, FedAvg by default).
 */
async function modestRound(world: World, t: number, live: readonly Peer[], steps: number): Promise<Peer[]> {
  const { config } = world;
  const byId = new Map(live.map((p) => [p.id, p]));
  const roles = modestRoles(live.map((p) => p.id), t, config.seed, config.modest);
  const trainers = roles.trainers.map((id) => byId.get(id)!);
  const holder = world.modestHolders.find((p) => world.status[p.index] === 'live');
  if (holder) {
    const source: FederatedServer = { id: holder.id, params: holder.params, state: null, members: world.members, participation: 1 };
    await federatedDownload(source, trainers.filter((p) => p !== holder), t, world.net, world.codec);
    if (trainers.includes(holder)) holder.params = cloneParams(holder.params);
  }
  const global = cloneParams((holder ?? trainers[0]).params);
  await trainAll(world, trainers, steps);
  const aggregators = roles.aggregators.map((id) => byId.get(id)!);
  const averaged: Params[] = [];
  for (const agg of aggregators) {
    // The aggregator rebuilds each trainer's model from its change against the round's model.
    const sink: FederatedServer = { id: agg.id, params: global, state: world.aggregator.initialState(), members: world.members, participation: 1 };
    const senders = trainers.filter((p) => p !== agg);
    await federatedUpload(sink, senders, t, world.net, world.codec, world.aggregator, config.heterogeneity.deadlineMs, (p) =>
      world.attackers.has(p.index) ? attackerModel(world, t, p, trainers) : p.params,
    );
    // An aggregator that also trained adds its own model with its own weight.
    if (trainers.includes(agg)) {
      const contributions = [...senders.map((p) => ({ from: p.id, params: p.params, weight: p.sampleCount })), { from: agg.id, params: agg.params, weight: agg.sampleCount }];
      sink.params = world.aggregator.aggregate(sink.state, global, contributions, { round: t, members: world.members }).params;
    }
    averaged.push(sink.params);
  }
  aggregators.forEach((agg, k) => {
    agg.params = averaged[k];
  });
  world.modestHolders = aggregators;
  return trainers;
}

function participates(world: World, t: number, p: Peer): boolean {
  const prob = world.config.heterogeneity.participation;
  return prob >= 1 || Rng.derive(world.config.seed, 'participation', t, p.index).next() < prob;
}

function sampleFederated(world: World, t: number, live: readonly Peer[]): Peer[] {
  const k = Math.max(1, Math.round(world.config.federated.participation * live.length));
  if (k >= live.length) return [...live];
  const picks = Rng.derive(world.config.seed, 'sample', t).sample(live.length, k);
  return Array.from(picks)
    .sort((a, b) => a - b)
    .map((i) => live[i]);
}

async function gossipStep(
  world: World,
  t: number,
  q: number,
  stepsPerRound: number,
  budget: number | null,
  participants: readonly Peer[],
  log: (line: string) => void,
): Promise<void> {
  if (participants.length === 0) return;
  const { config, net, members } = world;
  const mixing = world.mixing!.at(world.config.peers, t * stepsPerRound + q, budget);
  net.setParticipants(participants.map((p) => p.id));
  const deadlineMs = config.heterogeneity.deadlineMs ?? Number.POSITIVE_INFINITY;
  const outcomes = await Promise.all(
    participants.map((p) =>
      gossipExchange(
        p.params,
        {
          round: t,
          phase: q,
          members,
          selfIndex: p.index,
          row: mixing.row(p.index),
          sendTo: mixing.outNeighbours(p.index),
          deadlineMs,
        },
        net.transportFor(p.id),
        gossipWire(world.codec, world.attackers.has(p.index) ? attackerModel(world, t, p, participants) : p.params, world.aggStates[p.index]),
        (own, received, ctx) => {
          const r = world.aggregator.aggregate(world.aggStates[p.index], own, received, ctx);
          world.aggStates[p.index] = r.state;
          return r.params;
        },
      ),
    ),
  );
  outcomes.forEach((o, k) => {
    participants[k].params = o.params;
    for (const r of o.rejected) log(`round ${t}: ${participants[k].id} refused a message from ${r.from}: ${r.reason}`);
  });
}

async function mergeAll(world: World, t: number, live: readonly Peer[]): Promise<void> {
  if (live.length === 0) return;
  world.net.setParticipants(live.map((p) => p.id));
  const ids = live.map((p) => p.id);
  const memo = new MergeMemo();
  const merged = await Promise.all(
    live.map((p) => exactMerge(p.params, { round: t, members: world.members, selfIndex: p.index, group: ids }, world.net.transportFor(p.id), world.codec.exact, memo)),
  );
  merged.forEach((params, k) => {
    live[k].params = params;
  });
}

function applyChurn(world: World, t: number, log: (line: string) => void): void {
  for (const [e, event] of world.config.heterogeneity.churn.entries()) {
    // Churn rounds are 1-based in the config ("at the start of round r"), our loop is 0-based.
    if (event.round !== t + 1) continue;
    const rng = Rng.derive(world.config.seed, 'churn', e);
    const pick = (status: 'live' | 'left', fraction: number): number[] => {
      const pool = world.status.flatMap((s, i) => (s === status ? [i] : []));
      const k = Math.round(fraction * pool.length);
      return Array.from(rng.sample(pool.length, k), (j) => pool[j]);
    };
    const crashed = event.crash ? pick('live', event.crash) : [];
    for (const i of crashed) world.status[i] = 'crashed';
    const left = event.leave ? pick('live', event.leave) : [];
    for (const i of left) world.status[i] = 'left';
    const back = event.rejoin ? pick('left', event.rejoin) : [];
    for (const i of back) world.status[i] = 'live';
    if (crashed.length + left.length + back.length) {
      log(`round ${t + 1}: ${crashed.length} crashed, ${left.length} left, ${back.length} rejoined; ${world.status.filter((s) => s === 'live').length} live`);
    }
  }
}

/** Mean test accuracy of the (first `eval.localPeers`) live peers' own models. */
async function meanLocalAccuracy(world: World, live: readonly Peer[]): Promise<number | null> {
  const limit = world.config.eval.localPeers ?? live.length;
  const chosen = live.slice(0, limit);
  if (chosen.length === 0) return null;
  let sum = 0;
  for (const p of chosen) sum += (await world.trainer.evaluate(p.params, world.test)).accuracy;
  return sum / chosen.length;
}

async function roundMetrics(
  world: World,
  t: number,
  live: readonly Peer[],
  participants: readonly Peer[],
  evaluate: boolean,
  extra: Pick<RoundMetrics, 'globalMerge' | 'preMergeLocalAccuracyMean' | 'bytesSent' | 'bytesReceived' | 'bytesSentTotal' | 'simSeconds' | 'wallSeconds'>,
): Promise<RoundMetrics> {
  const models = live.map((p) => p.params);
  const average = models.length ? globalAverage(models) : undefined;
  // The merged model: the server's (federated), the current holder's (MoDeST), else the average.
  const holder = world.modestHolders.find((p) => world.status[p.index] === 'live');
  const merged = world.server ? world.server.params : (holder?.params ?? average);
  let local: number[] = [];
  let mergedEval: { accuracy: number; loss: number } | undefined;
  if (evaluate && merged) {
    const limit = world.config.eval.localPeers ?? live.length;
    for (const p of live.slice(0, limit)) local.push((await world.trainer.evaluate(p.params, world.test)).accuracy);
    mergedEval = await world.trainer.evaluate(merged, world.test);
  }
  const mean = local.length ? local.reduce((a, b) => a + b, 0) / local.length : null;
  const std = mean === null ? null : Math.sqrt(local.reduce((a, b) => a + (b - mean) ** 2, 0) / local.length);
  const losses = participants.map((p) => p.lastLoss).filter((l) => Number.isFinite(l));
  return {
    round: t + 1,
    activePeers: participants.length,
    localAccuracyMean: mean,
    localAccuracyStd: std,
    localAccuracyMin: local.length ? Math.min(...local) : null,
    localAccuracyMax: local.length ? Math.max(...local) : null,
    mergedAccuracy: mergedEval?.accuracy ?? null,
    mergedLoss: mergedEval?.loss ?? null,
    trainLoss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : Number.NaN,
    consensusDistance: average ? consensusDistance(models, average) : 0,
    ...extra,
  };
}

export { describeModel };
export type { ModelCodec };
