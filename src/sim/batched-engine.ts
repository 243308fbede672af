// The batched engine: trains every simulated peer at once (their weights stacked as the rows of
// one [peers, d] tensor, one batched forward/backward per local step) and gossips as one product
// W·X of the mixing matrix with the stack — on a GPU through WebGPU, or on the CPU backends.
// It runs the same configs and writes the same metrics as the per-peer engine, for the runs it
// fits: gossip mode with plain mixing, every peer in every round, whole models on the wire.
// Bytes are counted as the per-peer engine's messages would be (the encoded model size per link).
import type { RunConfig } from '../peer/config.js';
import type { Model } from '../model/zoo.js';
import type { Peer } from '../peer/peer.js';
import type { SparseMixing } from '../topology/mixing.js';
import { BatchedTrainer } from '../model/batched.js';
import { ConfigError } from '../util/errors.js';

/** Why a config cannot run on the batched engine, or null when it can. */
export function batchedEngineMisfit(config: RunConfig): string | null {
  if (config.mode !== 'gossip') return 'it runs gossip mode only';
  const agg = config.aggregation?.name ?? 'gossip';
  if (agg !== 'gossip') return `aggregation '${agg}' is not a plain mixing product (use gossip)`;
  if (config.compression.method !== 'identity') return 'it mixes whole float32 models (compression: identity)';
  if (config.heterogeneity.participation < 1 || config.heterogeneity.churn.length) return 'every peer must take part in every round (no partial participation, no churn)';
  if (config.heterogeneity.deadlineMs !== undefined || config.network.loss > 0) return 'every message must arrive (no deadline, no loss)';
  if (config.attack) return 'it has no Byzantine peers';
  return null;
}

export class BatchedEngine {
  private readonly trainer: BatchedTrainer;
  /** The arrays syncOut handed to the peers; unchanged ones need no upload. */
  private written: Float32Array[] = [];

  constructor(
    readonly model: Model,
    config: RunConfig,
    private readonly peers: readonly Peer[],
    /** Encoded size of one whole-model message (what each link would carry). */
    private readonly messageBytes: number,
  ) {
    const misfit = batchedEngineMisfit(config);
    if (misfit) throw new ConfigError(`engine: batched cannot run this config: ${misfit}; use engine: per-peer`);
    this.trainer = new BatchedTrainer(model, config.training.optimizer, peers.length);
    const flat = new Float32Array(peers.length * model.layout.size);
    peers.forEach((p, i) => flat.set(p.params.data, i * model.layout.size));
    this.trainer.loadAll(flat);
  }

  /** k local steps for every peer, each on its own minibatch stream; losses land on the peers. */
  async train(steps: number): Promise<void> {
    this.syncIn();
    for (let s = 0; s < steps; s++) await this.trainer.stepBatches(this.peers.map((p) => p.batches.next()));
    const losses = await this.trainer.takeLoss();
    this.peers.forEach((p, i) => {
      p.lastLoss = losses[i];
      p.steps += steps;
    });
    await this.syncOut();
  }

  /** One gossip step X ← W·X; returns the bytes the same exchange would put on the wire. */
  async mix(mixing: SparseMixing): Promise<{ sent: number[]; received: number[] }> {
    this.syncIn();
    await this.trainer.mix(Float32Array.from(mixing.dense()));
    await this.syncOut();
    const sent = this.peers.map((_, i) => mixing.outNeighbours(i).length * this.messageBytes);
    const received = this.peers.map((_, i) => mixing.row(i).peers.length * this.messageBytes);
    return { sent, received };
  }

  /** Peer i of the stack. */
  peer(i: number): Peer {
    return this.peers[i];
  }

  dispose(): void {
    this.trainer.dispose();
  }

  // The peers' Params stay the source of truth (exact merges and metrics read them): the stack is
  // refreshed from them before device work and written back after.
  private syncIn(): void {
    if (this.written.length && this.peers.every((p, i) => p.params.data === this.written[i])) return;
    const d = this.model.layout.size;
    const flat = new Float32Array(this.peers.length * d);
    this.peers.forEach((p, i) => flat.set(p.params.data, i * d));
    this.trainer.loadAll(flat);
  }

  private async syncOut(): Promise<void> {
    const d = this.model.layout.size;
    const flat = await this.trainer.readAll();
    this.written = this.peers.map((p, i) => {
      p.params = { layout: p.params.layout, data: flat.slice(i * d, (i + 1) * d) };
      return p.params.data;
    });
  }
}
