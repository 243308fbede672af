// The batched world (engine: batched): every simulated peer's model and optimizer state as one
// row of a stack that stays on the compute device for the whole run (WebGPU buffers, or a tfjs
// tensor on the CPU backends). A local step is one batched step of all peers on their own
// minibatch streams (row indices only; the training set was copied to the device once), a
// gossip step one mixing product over compressed rows (no dense P×P matrix for sparse graphs),
// an exact merge one masked mean, and a round's observation one batched forward of the
// evaluated peers plus the mean model and the consensus distance: a few numbers per peer come
// back to the host, never the models (except through a lossy codec, see below, and at the end).
//
// What it runs: gossip mode with plain gossip mixing or CHOCO-Gossip, every peer in every round,
// messages that always arrive. Compression: whole models through identity, fp16 or int8, and
// CHOCO's compressed differences through any pointwise compressor; the compressors are the
// per-peer engine's own, run on the rows of one host snapshot of the stack per gossip step, so
// bytes and decoded values are exactly what the per-peer engine would produce for those models.
// CHOCO keeps one public copy per peer (every neighbour holds the same copy), which holds when
// every neighbour hears every step: a static topology.
//
// For the simulator: build it with `new BatchedWorld(run, { afterTrain })` in place of the
// per-peer peers (it needs no Peer objects: making them would hold a model per peer on the
// host); afterTrain advances the simulated clocks. The simulated network adds no time here.
import type { RunConfig } from '../peer/config.js';
import type { Run } from '../peer/run.js';
import type { GossipStep, Observation, ObserveRequest, PeerObservation, Roster, Traffic, World } from '../peer/world.js';
import type { SparseMixing } from '../topology/mixing.js';
import { BatchedTrainer, type StackMixing } from '../model/batched.js';
import { paramsFrom, type Params } from '../params/index.js';
import { globalAverage } from '../aggregation/fedavg.js';
import { MERGE_PHASE } from '../peer/gossip.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { BatchStreams } from './batched-streams.js';

/** The config key that keeps this run off the batched engine and why, or null when it fits. */
export function batchedWorldMisfit(config: RunConfig): { key: string; why: string } | null {
  if (config.mode !== 'gossip') return { key: 'mode', why: `${config.mode} rounds need per-peer models` };
  const agg = config.aggregation?.name ?? 'gossip';
  if (agg !== 'gossip' && agg !== 'choco-gossip') return { key: 'aggregation.name', why: `'${agg}' is not a mixing product (gossip or choco-gossip)` };
  if (config.heterogeneity.participation < 1) return { key: 'heterogeneity.participation', why: 'every peer trains and mixes in every round' };
  if (config.heterogeneity.churn.length) return { key: 'heterogeneity.churn', why: 'every peer stays for the whole run' };
  if (config.heterogeneity.deadlineMs !== undefined) return { key: 'heterogeneity.deadlineMs', why: 'every message is waited for' };
  if (config.network.loss > 0) return { key: 'network.loss', why: 'every message arrives' };
  if (config.attack) return { key: 'attack', why: 'it has no Byzantine peers' };
  return null;
}

/** Refuses a run the batched world cannot carry out, naming the key (before any output is written). */
export function checkBatchedWorld(config: RunConfig, run?: Pick<Run, 'mixing' | 'schedule' | 'codec'>): void {
  const misfit = batchedWorldMisfit(config);
  if (misfit) throw new ConfigError(`${misfit.key}: engine: batched cannot run this config (${misfit.why}); use engine: per-peer`);
  if (run?.codec.choco) {
    const varying = run.mixing.topology(config.peers).period !== 1;
    const budget = Array.from({ length: config.rounds }, (_, t) => run.schedule.plan(t).budget).some((b) => b !== null);
    if (varying || budget) {
      throw new ConfigError(
        `${varying ? 'topology' : 'schedule'}: engine: batched runs CHOCO-Gossip over a static topology only (it keeps one public copy per peer, which needs every neighbour to hear every step); use engine: per-peer`,
      );
    }
  }
}

/** What a BatchedWorld tells its owner. */
export interface BatchedWorldHooks {
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
  private sent = 0;
  private received = 0;
  /** Bytes of one whole-model message through the gossip codec and through the exact codec. */
  private readonly modelBytes: number;
  private readonly exactBytes: number;
  /** CHOCO: every peer's public copy x̂_i (host rows, P×d), zero before the first step. */
  private publicCopies: Float32Array | undefined;
  private readonly chocoStep: number;

  constructor(
    private readonly run: Run,
    private readonly hooks: BatchedWorldHooks = {},
  ) {
    const { config, model, train, partition } = run;
    checkBatchedWorld(config, run);
    this.P = config.peers;
    this.members = Array.from({ length: this.P }, (_, i) => `p${i}`);
    this.all = Array.from({ length: this.P }, (_, i) => i);
    this.lastLoss = new Float64Array(this.P).fill(Number.NaN);
    const d = model.layout.size;
    // The same starting models and minibatch seeds as the per-peer engine's peers.
    const init = new Float32Array(this.P * d);
    for (let i = 0; i < this.P; i++) {
      const p = config.training.init === 'shared' ? run.sharedInit : model.init(Rng.derive(config.seed, 'init', i).nextUint32());
      init.set(p.data, i * d);
    }
    this.streams = new BatchStreams(
      partition.indices.map((rows, i) => ({ rows, seed: Rng.derive(config.seed, 'batches', i).nextUint32() })),
      config.training.batchSize,
    );
    const meta = { round: 0, phase: 0, sender: 0 };
    this.modelBytes = run.codec.model.encode(run.sharedInit, meta).byteLength;
    this.exactBytes = run.codec.exact.encode(run.sharedInit, { ...meta, phase: MERGE_PHASE }).byteLength;
    const agg = config.aggregation;
    this.chocoStep = agg?.name === 'choco-gossip' ? (agg.stepSize ?? 1) : 1;
    this.engine = new BatchedTrainer(model, config.training.optimizer, this.P);
    try {
      this.engine.loadAll(init);
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

  async beginRound(_round: number): Promise<Roster> {
    return { members: this.members, live: this.all, local: this.all, honest: this.all };
  }

  async train(peers: readonly number[], steps: number): Promise<void> {
    if (peers.length !== this.P) throw new ConfigError('heterogeneity.participation: engine: batched trains every peer in every round; use engine: per-peer');
    if (steps <= 0) return;
    for (let s = 0; s < steps; s++) await this.engine.stepIndices(this.streams.next());
    const losses = await this.engine.takeLoss();
    for (let i = 0; i < this.P; i++) this.lastLoss[i] = losses[i];
    this.hooks.afterTrain?.(peers, steps);
  }

  async gossipStep(step: GossipStep): Promise<void> {
    const { mixing } = step;
    if (mixing.n !== this.P) throw new ConfigError(`topology: ${mixing.n} peers in the mixing matrix, the run has ${this.P}`);
    if (step.participants.length !== this.P) throw new ConfigError('heterogeneity.participation: engine: batched mixes every peer in every step; use engine: per-peer');
    const rows = compressedRows(mixing);
    const links = rows.cols.length;
    const codec = this.run.codec;
    if (codec.choco) {
      const { bytes, neighbours } = await this.chocoMessages(step);
      // Every sender's message goes to each peer that averages it.
      for (let j = 0; j < this.P; j++) this.count(bytes[j] * mixing.outNeighbours(j).length);
      await this.engine.mixRows({ ...rows, scale: this.chocoStep, neighbours, reference: 'neighbours' });
      return;
    }
    if (codec.method === 'identity') {
      this.count(this.modelBytes * links);
      await this.engine.mixRows({ ...rows, scale: 1 });
      return;
    }
    // fp16 / int8 whole models: neighbours average what they decode, the peer keeps its own model.
    const stack = await this.engine.readAll();
    const d = this.run.model.layout.size;
    const decoded = new Float32Array(this.P * d);
    for (let j = 0; j < this.P; j++) {
      const meta = { round: step.round, phase: step.phase, sender: j };
      const bytes = codec.model.encode(paramsFrom(this.run.model.layout, stack.subarray(j * d, (j + 1) * d)), meta);
      decoded.set(codec.model.decode(bytes, meta).data, j * d);
      this.count(bytes.byteLength * mixing.outNeighbours(j).length);
    }
    await this.engine.mixRows({ ...rows, scale: 1, neighbours: decoded });
  }

  async exactMerge(_round: number, group: readonly number[], _deadlineMs: number): Promise<void> {
    const g = group.length;
    this.count(this.exactBytes * g * (g - 1));
    await this.engine.mergeRows(group);
  }

  async observe(request: ObserveRequest): Promise<Observation> {
    const evalPeers = request.evaluate ? request.evalPeers : [];
    const evaluated = evalPeers.length ? await this.engine.evaluate(evalPeers, this.run.test) : undefined;
    const summary = await this.engine.summarize(this.all, request.evaluate ? this.run.test : null);
    const byPeer = new Map<number, { accuracy: number; loss: number }>();
    evalPeers.forEach((p, k) => byPeer.set(p, { accuracy: evaluated!.accuracy[k], loss: evaluated!.loss[k] }));
    const indices = [...new Set([...evalPeers, ...request.participants])].sort((a, b) => a - b);
    const peers: PeerObservation[] = indices.map((index) => ({ index, trainLoss: this.lastLoss[index], ...(byPeer.get(index) ?? {}) }));
    return {
      peers,
      merged: summary.mean ? { accuracy: summary.mean.accuracy, loss: summary.mean.loss } : null,
      consensusDistance: summary.consensus,
    };
  }

  takeTraffic(): Traffic {
    const t = { sent: this.sent, received: this.received };
    this.sent = 0;
    this.received = 0;
    return t;
  }

  async finalModels(): Promise<{ readonly models: readonly Params[]; readonly merged: Params | null }> {
    const stack = await this.engine.readAll();
    const d = this.run.model.layout.size;
    const models = this.all.map((i) => paramsFrom(this.run.model.layout, stack.subarray(i * d, (i + 1) * d)));
    return { models, merged: globalAverage(models) };
  }

  /** Frees the device state. */
  dispose(): void {
    this.engine.dispose();
  }

  /** Every link carries one message and delivers it (no loss, no deadline). */
  private count(bytes: number): void {
    this.sent += bytes;
    this.received += bytes;
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
