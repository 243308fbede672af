// The batched world (engine: batched): every simulated peer's model and optimizer state as one
// row of a stack that stays on the compute device for the whole run (WebGPU buffers, or a tfjs
// tensor on the CPU backends). A local step is one batched step of all peers on their own
// minibatch streams (row indices only; the training set was copied to the device once), a
// gossip step one mixing product over compressed rows (no dense P×P matrix for sparse graphs),
// an exact merge one masked mean, and a round's observation one batched forward of the
// evaluated peers plus the mean model and the consensus distance: a few numbers per peer come
// back to the host, never the models (except through a lossy codec, see below, and at the end).
//
// What it runs: gossip mode with plain gossip mixing or CHOCO-Gossip, and FedAvg server rounds
// (mode federated, every peer sampled, whole float32 changes), every peer in every round,
// messages that always arrive. The server's model is one more row of the stack (row P): its
// download is a mixing step that copies row P into every peer's row, its aggregation one that
// writes the sample-weighted mean of the peers' rows into row P. Gossip compression: whole
// models through identity, fp16 or int8, and CHOCO's compressed differences through any
// pointwise compressor; the compressors are the per-peer engine's own, run on the rows of one
// host snapshot of the stack per gossip step, so bytes and decoded values are exactly what the
// per-peer engine would produce for those models. CHOCO keeps one public copy per peer (every
// neighbour holds the same copy), which holds when every neighbour hears every step: a static
// topology.
//
// For the simulator: build it with `new BatchedWorld(run, { afterTrain })` in place of the
// per-peer peers (it needs no Peer objects: making them would hold a model per peer on the
// host); afterTrain advances the simulated clocks. The simulated network adds no time here.
import type { RunConfig } from '../peer/config.js';
import type { Run } from '../peer/run.js';
import type { FinalModels, GossipStep, Observation, ObserveRequest, PeerObservation, PeerTraffic, Roster, Traffic, World } from '../peer/world.js';
import type { SparseMixing } from '../topology/mixing.js';
import { RoundMixing } from '../peer/round-mixing.js';
import { BatchedTrainer, type StackMixing } from '../model/batched.js';
import { paramsFrom, type Params } from '../params/index.js';
import { globalAverage } from '../aggregation/fedavg.js';
import { MERGE_PHASE } from '../peer/gossip.js';
import { PHASES } from '../peer/phases.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { BatchStreams } from './batched-streams.js';

/**
 * The config key that keeps this run off the batched engine and why, or null when it fits. The
 * rules are named here, not read from a registry capability: the engine never calls a rule's
 * aggregate, it runs FedAvg's mean, gossip's and CHOCO's mixing as its own device kernels.
 */
export function batchedWorldMisfit(config: RunConfig): { key: string; why: string } | null {
  if (config.privacy) return { key: 'privacy', why: 'its peers do not clip or noise their updates' };
  if (config.mode === 'federated') {
    const agg = config.aggregation?.name ?? 'fedavg';
    if (agg !== 'fedavg') return { key: 'aggregation.name', why: `the server's '${agg}' rule is not FedAvg's weighted mean` };
    if (config.federated.participation < 1) return { key: 'federated.participation', why: 'every peer trains in every server round' };
    if (config.compression.method !== 'identity') return { key: 'compression.method', why: 'server rounds upload whole float32 changes (identity)' };
  } else if (config.mode !== 'gossip') {
    return { key: 'mode', why: `${config.mode} rounds need per-peer models` };
  } else {
    const agg = config.aggregation?.name ?? 'gossip';
    if (agg !== 'gossip' && agg !== 'choco-gossip') return { key: 'aggregation.name', why: `'${agg}' is not a mixing product (gossip or choco-gossip)` };
  }
  if (config.heterogeneity.participation < 1) return { key: 'heterogeneity.participation', why: 'every peer trains and mixes in every round' };
  if (config.heterogeneity.churn.length) return { key: 'heterogeneity.churn', why: 'every peer stays for the whole run' };
  if (config.heterogeneity.deadlineMs !== undefined) return { key: 'heterogeneity.deadlineMs', why: 'every message is waited for' };
  if (config.network.loss > 0) return { key: 'network.loss', why: 'every message arrives' };
  if (config.attack) return { key: 'attack', why: 'it has no Byzantine peers' };
  if (config.timing.mode === 'async') return { key: 'timing.mode', why: 'its peers step in lockstep rounds' };
  return null;
}

/**
 * Refuses a run the batched world cannot carry out, naming the key, before any output is
 * written (the CLI's pre-flight calls it with the config alone; the simulator with its run).
 */
export function checkBatchedWorld(config: RunConfig, run?: Pick<Run, 'mixing'>): void {
  const misfit = batchedWorldMisfit(config);
  if (misfit) throw new ConfigError(`${misfit.key}: engine: batched cannot run this config (${misfit.why}); use engine: per-peer`);
  if (config.mode === 'gossip' && config.aggregation?.name === 'choco-gossip') {
    const mixing = run?.mixing ?? new RoundMixing(config.topology, config.seed);
    const varying = mixing.topology(config.peers).period !== 1;
    if (varying || config.schedule.budget !== undefined) {
      throw new ConfigError(
        `${varying ? 'topology' : 'schedule.budget'}: engine: batched runs CHOCO-Gossip over a static topology only (it keeps one public copy per peer, which needs every neighbour to hear every step); use engine: per-peer`,
      );
    }
  }
}

/** What a BatchedWorld tells its owner. */
export interface BatchedWorldHooks {
  /** At the start of every round (the simulator starts the peers' clocks). */
  beginRound?(round: number): void;
  /** After every train(): these peers took `steps` local steps (the simulator advances their clocks). */
  afterTrain?(peers: readonly number[], steps: number): void;
}

/** The batched engine behind the round driver's World. */
export class BatchedWorld implements World {
  private readonly P: number;
  private readonly members: readonly string[];
  private readonly all: readonly number[];
  private readonly engine: BatchedTrainer;
  private readonly streams: BatchStreams;
  private readonly lastLoss: Float64Array;
  /** Bytes each peer (row) sent and received since the last takeTraffic, and the server's. */
  private readonly sentBy: Float64Array;
  private readonly receivedBy: Float64Array;
  private serverTraffic = { sent: 0, received: 0 };
  /** Bytes of one whole-model message through the gossip codec and through the exact codec. */
  private readonly modelBytes: number;
  private readonly exactBytes: number;
  /** CHOCO: every peer's public copy x̂_i (host rows, P×d), zero before the first step. */
  private publicCopies: Float32Array | undefined;
  private readonly chocoStep: number;
  /** Whether every peer's row is the same model (after an exact merge of all, before the next step). */
  private allEqual = false;
  /** FedAvg: the server's row of the stack (P), and the mixings that download and aggregate it. */
  private readonly server: { readonly row: number; readonly download: StackMixing; readonly aggregate: StackMixing; readonly uploadBytes: number } | undefined;

  constructor(
    private readonly run: Run,
    private readonly hooks: BatchedWorldHooks = {},
  ) {
    const { config, model, train, partition } = run;
    checkBatchedWorld(config, run);
    const P = config.peers;
    this.P = P;
    this.members = Array.from({ length: P }, (_, i) => `p${i}`);
    this.all = Array.from({ length: P }, (_, i) => i);
    this.lastLoss = new Float64Array(P).fill(Number.NaN);
    this.sentBy = new Float64Array(P);
    this.receivedBy = new Float64Array(P);
    const meta = { round: 0, phase: 0, sender: 0 };
    this.modelBytes = run.codec.model.encode(run.sharedInit, meta).byteLength;
    this.exactBytes = run.codec.exact.encode(run.sharedInit, { ...meta, phase: MERGE_PHASE }).byteLength;
    if (config.mode === 'federated') {
      const sizes = partition.indices.map((r) => r.length);
      const uploadBytes = run.codec.update.encode(run.sharedInit, run.sharedInit.data, undefined, { ...meta, phase: PHASES.upload }).bytes.byteLength;
      this.server = { row: P, download: copyRowMixing(P), aggregate: weightedMeanMixing(sizes), uploadBytes };
    }
    const rows = P + (this.server ? 1 : 0);
    const d = model.layout.size;
    // The same starting models and minibatch seeds as the per-peer engine's peers; the server
    // starts from the shared init (its row also steps with the others, and is overwritten).
    const initial = (i: number) => (config.training.init === 'shared' || i === P ? run.sharedInit : model.init(Rng.derive(config.seed, 'init', i).nextUint32()));
    const specs = partition.indices.map((r, i) => ({ rows: r, seed: Rng.derive(config.seed, 'batches', i).nextUint32() }));
    if (this.server) specs.push({ rows: partition.indices[0], seed: 0 });
    this.streams = new BatchStreams(specs, config.training.batchSize);
    const agg = config.aggregation;
    this.chocoStep = agg?.name === 'choco-gossip' ? (agg.stepSize ?? 1) : 1;
    this.engine = new BatchedTrainer(model, config.training.optimizer, rows);
    try {
      if (this.engine.kernels === 'tfjs') {
        const init = new Float32Array(rows * d);
        for (let i = 0; i < rows; i++) init.set(initial(i).data, i * d);
        this.engine.loadAll(init);
      } else {
        // Row by row: no P×d copy of the stack on the host, even for a moment.
        for (let i = 0; i < rows; i++) this.engine.loadPeer(i, initial(i));
      }
      this.engine.setData(train.x, train.y, train.n);
    } catch (err) {
      this.engine.dispose();
      throw err;
    }
  }

  /** The step implementation the engine runs ('webgpu-fused' or 'tfjs'). */
  get kernels(): string {
    return this.engine.kernels;
  }

  async beginRound(round: number): Promise<Roster> {
    this.hooks.beginRound?.(round);
    return { members: this.members, live: this.all, local: this.all, honest: this.all };
  }

  async train(peers: readonly number[], steps: number): Promise<void> {
    if (peers.length !== this.P) throw new ConfigError('heterogeneity.participation: engine: batched trains every peer in every round; use engine: per-peer');
    if (steps <= 0) return;
    this.allEqual = false;
    for (let s = 0; s < steps; s++) await this.engine.stepIndices(this.streams.next());
    const losses = await this.engine.takeLoss();
    for (let i = 0; i < this.P; i++) this.lastLoss[i] = losses[i];
    this.hooks.afterTrain?.(peers, steps);
  }

  /** FedAvg: every peer downloads the server's model, trains, uploads; the server takes the weighted mean. */
  async serverRound(_round: number, participants: readonly number[], steps: number, _deadlineMs: number): Promise<void> {
    const server = this.server;
    if (!server) throw new ConfigError('mode: this batched world was built for gossip rounds; use engine: per-peer');
    if (participants.length !== this.P) throw new ConfigError('federated.participation: engine: batched trains every peer in every round; use engine: per-peer');
    await this.engine.mixRows(server.download);
    // The server sends its model to every peer; every peer uploads its change to the server.
    this.receivedBy.forEach((_, i) => (this.receivedBy[i] += this.exactBytes));
    this.serverTraffic.sent += this.exactBytes * this.P;
    await this.train(participants, steps);
    this.sentBy.forEach((_, i) => (this.sentBy[i] += server.uploadBytes));
    this.serverTraffic.received += server.uploadBytes * this.P;
    await this.engine.mixRows(server.aggregate);
  }

  async gossipStep(step: GossipStep): Promise<void> {
    const { mixing } = step;
    if (mixing.n !== this.P) throw new ConfigError(`topology: ${mixing.n} peers in the mixing matrix, the run has ${this.P}`);
    if (step.participants.length !== this.P) throw new ConfigError('heterogeneity.participation: engine: batched mixes every peer in every step; use engine: per-peer');
    this.allEqual = false;
    const rows = compressedRows(mixing);
    const codec = this.run.codec;
    if (codec.choco) {
      const { bytes, neighbours } = await this.chocoMessages(step);
      this.countLinks(mixing, bytes);
      await this.engine.mixRows({ ...rows, scale: this.chocoStep, neighbours, reference: 'neighbours' });
      return;
    }
    if (codec.method === 'identity') {
      this.countLinks(mixing, new Float64Array(this.P).fill(this.modelBytes));
      await this.engine.mixRows({ ...rows, scale: 1 });
      return;
    }
    // fp16 / int8 whole models: neighbours average what they decode, the peer keeps its own model.
    const stack = await this.engine.readAll();
    const d = this.run.model.layout.size;
    const decoded = new Float32Array(this.P * d);
    const sizes = new Float64Array(this.P);
    for (let j = 0; j < this.P; j++) {
      const meta = { round: step.round, phase: step.phase, sender: j };
      const bytes = codec.model.encode(paramsFrom(this.run.model.layout, stack.subarray(j * d, (j + 1) * d)), meta);
      decoded.set(codec.model.decode(bytes, meta).data, j * d);
      sizes[j] = bytes.byteLength;
    }
    this.countLinks(mixing, sizes);
    await this.engine.mixRows({ ...rows, scale: 1, neighbours: decoded });
  }

  async exactMerge(_round: number, group: readonly number[], _deadlineMs: number): Promise<void> {
    const g = group.length;
    // Every member sends its model to the g − 1 others and receives theirs.
    for (const i of group) {
      this.sentBy[i] += this.exactBytes * (g - 1);
      this.receivedBy[i] += this.exactBytes * (g - 1);
    }
    await this.engine.mergeRows(group);
    this.allEqual = g === this.P;
  }

  async observe(request: ObserveRequest): Promise<Observation> {
    const evalPeers = request.evaluate ? request.evalPeers : [];
    const test = request.evaluate ? this.run.test : null;
    // After an exact merge of all peers every row is the merged model: evaluated once.
    const same = this.allEqual && evalPeers.length > 0;
    const evaluated = evalPeers.length ? await this.engine.evaluate(same ? [evalPeers[0]] : evalPeers, this.run.test) : undefined;
    // The merged model is the server's row (federated), else the mean of the peers' rows.
    const summary = await this.engine.summarize(this.all, this.server || same ? null : test);
    const sameResult = evaluated && { accuracy: evaluated.accuracy[0], loss: evaluated.loss[0] };
    const merged = this.server ? (test ? (await this.engine.summarize([this.server.row], test)).mean : null) : same ? sameResult : summary.mean;
    const byPeer = new Map<number, { accuracy: number; loss: number }>();
    evalPeers.forEach((p, k) => byPeer.set(p, same ? sameResult! : { accuracy: evaluated!.accuracy[k], loss: evaluated!.loss[k] }));
    const indices = [...new Set([...evalPeers, ...request.participants])].sort((a, b) => a - b);
    const peers: PeerObservation[] = indices.map((index) => ({ index, trainLoss: this.lastLoss[index], ...(byPeer.get(index) ?? {}) }));
    return {
      peers,
      merged: merged ? { accuracy: merged.accuracy, loss: merged.loss } : null,
      consensusDistance: summary.consensus,
    };
  }

  takeTraffic(): Traffic {
    const byPeer = new Map<number, PeerTraffic>();
    const server = this.server ? this.serverTraffic : undefined;
    let sent = server?.sent ?? 0;
    let received = server?.received ?? 0;
    for (let i = 0; i < this.P; i++) {
      byPeer.set(i, { sent: this.sentBy[i], received: this.receivedBy[i] });
      sent += this.sentBy[i];
      received += this.receivedBy[i];
    }
    this.sentBy.fill(0);
    this.receivedBy.fill(0);
    this.serverTraffic = { sent: 0, received: 0 };
    return { sent, received, byPeer, ...(server ? { server } : {}) };
  }

  async finalModels(which: FinalModels = 'all'): Promise<{ readonly models: readonly Params[]; readonly merged: Params | null }> {
    if (which === 'merged') {
      const merged = this.server ? await this.engine.readPeer(this.server.row) : await this.engine.meanRows(this.all);
      return { models: [], merged };
    }
    const stack = await this.engine.readAll();
    const layout = this.run.model.layout;
    const d = layout.size;
    const row = (i: number) => paramsFrom(layout, stack.subarray(i * d, (i + 1) * d));
    const models = this.all.map(row);
    return { models, merged: this.server ? row(this.server.row) : globalAverage(models) };
  }

  /** Frees the device state. */
  dispose(): void {
    this.engine.dispose();
  }

  /**
   * One gossip step's messages: sender j's message (bytes[j]) goes to each peer that averages
   * it, and every link delivers it (no loss, no deadline).
   */
  private countLinks(mixing: SparseMixing, bytes: Float64Array): void {
    const { rowStart, cols } = mixing;
    for (let i = 0; i < this.P; i++) {
      for (let k = rowStart[i]; k < rowStart[i + 1]; k++) {
        const j = cols[k];
        this.sentBy[j] += bytes[j];
        this.receivedBy[i] += bytes[j];
      }
    }
  }

  /**
   * CHOCO's messages of one step: q_j = C(x_j − x̂_j) through the run's codec for every peer j,
   * then x̂_j ← x̂_j + q_j (the copy every neighbour of j holds). Returns the message sizes and
   * the new copies, which the mixing reads.
   */
  private async chocoMessages(step: GossipStep): Promise<{ bytes: Float64Array; neighbours: Float32Array }> {
    const choco = this.run.codec.choco!;
    const layout = this.run.model.layout;
    const d = layout.size;
    const stack = await this.engine.readAll();
    this.publicCopies ??= new Float32Array(this.P * d);
    const copies = this.publicCopies;
    const bytes = new Float64Array(this.P);
    for (let j = 0; j < this.P; j++) {
      const copy = copies.subarray(j * d, (j + 1) * d);
      const r = choco.encodeWithDecoded(paramsFrom(layout, stack.subarray(j * d, (j + 1) * d)), copy, null, { round: step.round, phase: step.phase, sender: j });
      bytes[j] = r.bytes.byteLength;
      const q = r.decoded.data;
      for (let k = 0; k < d; k++) copy[k] += q[k];
    }
    return { bytes, neighbours: copies };
  }
}

/** The off-diagonal entries of a mixing matrix as compressed rows with float32 weights. */
export function compressedRows(m: SparseMixing): Pick<StackMixing, 'rowStart' | 'cols' | 'vals'> {
  return { rowStart: Int32Array.from(m.rowStart), cols: Int32Array.from(m.cols), vals: Float32Array.from(m.vals) };
}

/** Rows 0 … P−1 of a (P+1)-row stack become row P (x_i + (x_P − x_i)): the server's download. */
function copyRowMixing(P: number): StackMixing {
  const rowStart = Int32Array.from({ length: P + 2 }, (_, i) => Math.min(i, P));
  return { rowStart, cols: new Int32Array(P).fill(P), vals: new Float32Array(P).fill(1), scale: 1 };
}

/** Row P of a (P+1)-row stack becomes Σ_j (m_j / Σm) x_j, the others stay: FedAvg's aggregation. */
function weightedMeanMixing(sizes: readonly number[]): StackMixing {
  const P = sizes.length;
  const total = sizes.reduce((a, b) => a + b, 0);
  const rowStart = new Int32Array(P + 2);
  rowStart[P + 1] = P;
  return { rowStart, cols: Int32Array.from({ length: P }, (_, j) => j), vals: Float32Array.from(sizes, (m) => m / total), scale: 1 };
}
