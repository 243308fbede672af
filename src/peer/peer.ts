// One peer's own state and its local work: its data, its model weights, its optimizer state
// and its minibatch stream. Everything here is plain data plus a reference to the shared
// Trainer, so the simulator can hold thousands of peers and the node can checkpoint one.
import type { Params } from '../params/index.js';
import type { LocalStepOptions, OptimizerState } from '../model/optimizer.js';
import type { Trainer, TrainResult } from '../model/trainer.js';
import type { PeerId } from './transport.js';
import { batchIterator, type BatchIterator, type Dataset } from '../data/index.js';

/** What a Peer is built from. */
export interface PeerInit {
  readonly id: PeerId;
  /** Position in the run's member list; topology indices refer to it. */
  readonly index: number;
  readonly params: Params;
  readonly optimizer: OptimizerState;
  readonly data: Dataset;
  readonly batchSize: number;
  /** Seed of this peer's minibatch stream. */
  readonly batchSeed: number;
}

/** One peer's state: model, optimizer, data and minibatch stream, and its counters. */
export class Peer {
  readonly id: PeerId;
  readonly index: number;
  params: Params;
  optimizer: OptimizerState;
  readonly data: Dataset;
  readonly batches: BatchIterator;
  /** Training loss of the last local round (NaN before the first). */
  lastLoss = Number.NaN;
  /** Local steps taken since the start. */
  steps = 0;
  /** The compressor's per-peer memory (error feedback, warm starts); owned by the codec. */
  compression: unknown = undefined;

  constructor(init: PeerInit) {
    this.id = init.id;
    this.index = init.index;
    this.params = init.params;
    this.optimizer = init.optimizer;
    this.data = init.data;
    this.batches = batchIterator(init.data, init.batchSize, init.batchSeed);
  }

  /** Number of training samples (the FedAvg weight). */
  get sampleCount(): number {
    return this.data.n;
  }

  /** k local optimizer steps on this peer's own data, in place; `local`: the rule's proximal term or correction. */
  async train(trainer: Trainer, steps: number, local: LocalStepOptions = {}): Promise<TrainResult> {
    const r = await trainer.train(this.params, this.optimizer, this.batches.next, steps, local);
    this.lastLoss = r.loss;
    this.steps += r.steps;
    return r;
  }
}
