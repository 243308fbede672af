// The batched engine: P peers that share one model architecture, trained all at once.
//
// Every peer's weights are one row of a [P, d] tensor (each row in the Params layout), so
//  - one step is one batched forward/backward over all peers' minibatches,
//  - gossip mixing X ← W·X is one [P×P]·[P×d] matrix product,
//  - per-peer work (compression, evaluation) reads rows.
// The step is mathematically the Trainer's step run for each peer (same loss: the mean
// cross-entropy of the peer's own batch; same SGD/momentum/Adam updates), which the tests check.
//
// Two implementations of a step:
//  - 'tfjs': tfjs ops, any backend. Dense models use a hand-written backward pass (batched
//    matMuls, no autograd tape); CNNs use autograd over the stacked weights, one forward per peer.
//  - 'webgpu-fused': the zoo's models on the webgpu backend run a compiled step for all peers
//    (./webgpu-stack.ts over ./webgpu-plan.ts): weights, optimizer state and data in device
//    buffers, a step is one submit of prebuilt dispatches (MLP 8, LeNet 24), mixing one GEMM.
import { tf } from '../compute/tf.js';
import type { tf as TF } from '../compute/tf.js';
import { WebGpuStack } from './webgpu-stack.js';
import { WebGpuBlocks } from './webgpu-blocks.js';
import { GpuRuntime } from '../compute/webgpu/runtime.js';
import { HostStack, type DenseLayer } from './host-stack.js';
import { webgpuUnsupported } from './webgpu-training.js';
import { paramsFrom, sameLayout, type Params } from '../params/index.js';
import { isZooModel, type Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import { slotCount, validateOptimizer } from './optimizer.js';
import type { Batch } from './batch.js';
import type { EvalData, EvalResult } from './trainer.js';
import { ConfigError, InputError } from '../util/errors.js';

/**
 * One gossip step on the stack as compressed rows: row i becomes
 *   base_i + scale · Σ_k vals[k] · (nbr[cols[k]] − ref_i),   k ∈ rowStart[i] … rowStart[i+1] − 1,
 * which is gossip mixing x_i + Σ_j W_ij (x_j − x_i) with base = ref = nbr = the stack (the
 * per-peer rule's difference form), whole models through a lossy codec with nbr = the decoded
 * models, and CHOCO-Gossip with ref = nbr = the public copies and scale = its step size.
 */
export interface StackMixing {
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
  readonly vals: Float32Array;
  readonly scale: number;
  /** P×d rows the neighbours' terms read (default: the stack itself). */
  readonly neighbours?: Float32Array;
  /** Whether ref is the stack (default) or `neighbours`. */
  readonly reference?: 'stack' | 'neighbours';
}

/** Per-peer test numbers of an evaluation of stack rows: mean cross-entropy and accuracy. */
export interface RowsEval {
  readonly loss: Float64Array;
  readonly accuracy: Float64Array;
}

/** The spread of some rows of the stack and the quality of their mean. */
export interface RowsSummary {
  /** Mean over the rows of ‖x_i − x̄‖². */
  readonly consensus: number;
  /** The mean model's test numbers, when data was given. */
  readonly mean: EvalResult | null;
}

/** Largest stack read back from the GPU in one piece (bigger ones are read row by row). */
const READ_ALL_BYTES = 2 ** 30;

/** Floats of activations one tfjs evaluation chunk may hold (peers × samples × widest layer). */
const EVAL_FLOATS = 1 << 24;

/** Which step implementation a BatchedTrainer uses: tfjs ops (any backend), the fused WebGPU kernels, host loops (./host-stack.ts), or `auto`. */
export type BatchedKernels = 'auto' | 'tfjs' | 'webgpu-fused' | 'host';

/** Options of a BatchedTrainer: the kernel choice. */
export interface BatchedOptions {
  /** 'auto' takes the compiled WebGPU step where it applies, the host stack for dense models on wasm and cpu, tfjs ops otherwise. */
  readonly kernels?: BatchedKernels;
  /**
   * WebGPU: most peers one device buffer holds (default: as many as one storage binding takes);
   * a larger population is split into blocks (./webgpu-blocks.ts).
   */
  readonly maxBlockPeers?: number;
}

type Tensor = TF.Tensor;

/** Trains P peers that share one architecture at once, their weights stacked as the rows of a [P, d] tensor. */
export class BatchedTrainer {
  readonly model: Model;
  readonly optimizer: OptimizerSpec;
  readonly peers: number;
  /** Parameters per peer (the layout size). */
  readonly dim: number;
  /** The step implementation in use. */
  readonly kernels: 'tfjs' | 'webgpu-fused' | 'host';
  /** Optimizer steps taken (Adam's bias correction uses it). */
  stepCount = 0;
  // tfjs path: the stacked tensors. WebGPU path: the device buffers of `gpu`.
  private stack!: Tensor;
  private slots: Tensor[] = [];
  private lossSum!: Tensor;
  /** The stack outside tfjs: WebGPU buffers, or host arrays on the CPU backends (dense models). */
  private readonly dev: WebGpuStack | WebGpuBlocks | HostStack | undefined;
  private lossSteps = 0;
  private dataX: Tensor | undefined;
  private dataY: Tensor | undefined;
  private dataN: number | undefined;
  private readonly featureSize: number;
  private readonly dense: DenseLayer[] | undefined;
  private disposed = false;

  constructor(model: Model, optimizer: OptimizerSpec, peers: number, options: BatchedOptions = {}) {
    validateOptimizer(optimizer);
    if (!Number.isInteger(peers) || peers < 1) throw new ConfigError(`batched engine: peers must be a positive integer, got ${peers}`);
    this.model = model;
    this.optimizer = optimizer;
    this.peers = peers;
    this.dim = model.layout.size;
    this.featureSize = model.inputShape.reduce((a, b) => a * b, 1);
    this.dense = denseLayers(model);
    this.kernels = chooseKernels(options.kernels ?? 'auto', model);
    if (this.kernels === 'webgpu-fused') {
      const perBinding = Math.floor(GpuRuntime.fromTfjs().device.limits.maxStorageBufferBindingSize / (4 * this.dim));
      const maxBlock = Math.min(options.maxBlockPeers ?? perBinding, perBinding);
      this.dev = peers > maxBlock && maxBlock >= 1 ? new WebGpuBlocks(model, optimizer, peers, maxBlock) : new WebGpuStack(model, optimizer, peers);
      return;
    }
    if (this.kernels === 'host') {
      this.dev = new HostStack(model, optimizer, peers, this.dense!);
      return;
    }
    this.stack = tf.zeros([peers, this.dim]);
    this.slots = Array.from({ length: slotCount(optimizer) }, () => tf.zeros([peers, this.dim]));
    this.lossSum = tf.zeros([peers]);
  }

  // ---- moving weights between Params and the stack ----

  /** Sets every peer's weights from one buffer of P rows (peer-major, each row in layout order). */
  loadAll(flat: Float32Array): void {
    this.assertLive();
    if (flat.length !== this.peers * this.dim) {
      throw new InputError(`batched engine: loadAll needs ${this.peers}×${this.dim} = ${this.peers * this.dim} values, got ${flat.length}`);
    }
    if (this.dev) return this.dev.loadAll(flat);
    this.replaceStack(tf.tensor2d(flat, [this.peers, this.dim]));
  }

  /** All peers' weights, P rows of d values. */
  async readAll(): Promise<Float32Array> {
    this.assertLive();
    if (this.dev instanceof WebGpuStack && this.peers * this.dim * 4 > READ_ALL_BYTES) {
      // One readback of a stack this big would need a staging buffer of the next power of two.
      const out = new Float32Array(this.peers * this.dim);
      for (let p = 0; p < this.peers; p++) out.set(await this.dev.readPeer(p), p * this.dim);
      return out;
    }
    if (this.dev) return this.dev.readAll();
    return (await this.stack.data()) as Float32Array;
  }

  /** Sets one peer's weights (its row of the stack). */
  loadPeer(peer: number, params: Params): void {
    this.assertPeer(peer);
    if (!sameLayout(params.layout, this.model.layout)) throw new ConfigError('batched engine: params do not match the model layout');
    if (this.dev) return this.dev.loadPeer(peer, params.data);
    this.replaceStack(tf.tidy(() => replaceRow(this.stack, peer, params.data)));
  }

  /** One peer's weights, copied out of the stack. */
  async readPeer(peer: number): Promise<Params> {
    this.assertPeer(peer);
    if (this.dev) return paramsFrom(this.model.layout, await this.dev.readPeer(peer));
    const row = tf.slice(this.stack, [peer, 0], [1, this.dim]);
    const data = (await row.data()) as Float32Array;
    row.dispose();
    return paramsFrom(this.model.layout, data);
  }

  /** Sets the optimizer state of every peer: one [P×d] buffer per slot (momentum: [m]; Adam: [m, v]). */
  loadSlots(slots: readonly Float32Array[], step = this.stepCount): void {
    this.assertLive();
    const n = slotCount(this.optimizer);
    if (slots.length !== n) throw new InputError(`batched engine: ${this.optimizer.kind} needs ${n} slot buffers, got ${slots.length}`);
    slots.forEach((s, i) => {
      if (s.length !== this.peers * this.dim) throw new InputError(`batched engine: slot ${i} needs ${this.peers * this.dim} values, got ${s.length}`);
    });
    this.stepCount = step;
    if (this.dev) return this.dev.loadSlots(slots);
    slots.forEach((s, i) => {
      this.slots[i].dispose();
      this.slots[i] = tf.tensor2d(s, [this.peers, this.dim]);
    });
  }

  /** Every peer's optimizer state: one [P×d] buffer per slot. */
  async readSlots(): Promise<Float32Array[]> {
    this.assertLive();
    if (this.dev) return this.dev.readSlots();
    return Promise.all(this.slots.map(async (s) => (await s.data()) as Float32Array));
  }

  // ---- data ----

  /** Keeps a dataset on the device; stepIndices then gathers each step's batches there. */
  setData(x: Float32Array, labels: ArrayLike<number>, n: number): void {
    this.assertLive();
    if (x.length !== n * this.featureSize || labels.length < n) {
      throw new InputError(`batched engine: setData needs ${n}×${this.featureSize} inputs and ${n} labels, got ${x.length} and ${labels.length}`);
    }
    const y = Int32Array.from({ length: n }, (_, i) => labels[i]);
    for (const v of y) {
      if (!(v >= 0 && v < this.model.numClasses)) throw new InputError(`batched engine: label ${v} outside [0, ${this.model.numClasses})`);
    }
    this.dataN = n;
    if (this.dev) return this.dev.setData(x, y, n);
    tf.dispose([this.dataX, this.dataY].filter((t): t is Tensor => t !== undefined));
    this.dataX = tf.tensor2d(x, [n, this.featureSize]);
    this.dataY = tf.tensor1d(y, 'int32');
  }

  /**
   * One step for every peer; peer p's batch is rows idx[p·B .. p·B + B) of the data given to
   * setData (B = idx.length / P).
   */
  async stepIndices(idx: Int32Array): Promise<void> {
    this.assertLive();
    if (this.dataN === undefined) throw new InputError('batched engine: call setData before stepIndices');
    if (idx.length === 0 || idx.length % this.peers !== 0) {
      throw new InputError(`batched engine: ${idx.length} indices do not split into ${this.peers} equal batches`);
    }
    const n = this.dataN;
    for (const i of idx) if (!(i >= 0 && i < n)) throw new InputError(`batched engine: index ${i} outside the dataset [0, ${n})`);
    if (this.dev) {
      this.stepCount++;
      this.lossSteps++;
      return this.dev.stepIndices(idx, this.stepCount);
    }
    const idxT = tf.tensor1d(idx, 'int32');
    this.stepOn(this.dataX!, this.dataY!, idxT, idx.length / this.peers);
    idxT.dispose();
  }

  /** One step for every peer from plain batches (one per peer, all the same size). */
  async stepBatches(batches: readonly Batch[]): Promise<void> {
    this.assertLive();
    if (batches.length !== this.peers) throw new InputError(`batched engine: need one batch per peer (${this.peers}), got ${batches.length}`);
    const B = batches[0].size;
    if (B < 1 || batches.some((b) => b.size !== B)) throw new InputError('batched engine: every peer\'s batch must have the same size ≥ 1');
    for (const b of batches) {
      for (let i = 0; i < B; i++) {
        const v = b.labels[i];
        if (!(v >= 0 && v < this.model.numClasses)) throw new InputError(`batched engine: label ${v} outside [0, ${this.model.numClasses})`);
      }
    }
    if (this.dev) {
      this.stepCount++;
      this.lossSteps++;
      return this.dev.stepBatches(batches, this.stepCount);
    }
    const f = this.featureSize;
    const x = new Float32Array(this.peers * B * f);
    const y = new Int32Array(this.peers * B);
    batches.forEach((b, p) => {
      x.set(b.x.subarray(0, B * f), p * B * f);
      y.set(b.labels.subarray(0, B), p * B);
    });
    const [xT, yT, idxT] = [tf.tensor2d(x, [this.peers * B, f]), tf.tensor1d(y, 'int32'), tf.range(0, this.peers * B, 1, 'int32')];
    this.stepOn(xT, yT, idxT, B);
    tf.dispose([xT, yT, idxT]);
  }

  /** Mean training loss per peer over the steps since the last call (resets the count). */
  async takeLoss(): Promise<Float32Array> {
    this.assertLive();
    if (this.dev) {
      const steps = this.lossSteps;
      this.lossSteps = 0;
      return (await this.dev.takeLossSums()).map((s) => (steps ? s / steps : 0));
    }
    const sums = (await this.lossSum.data()) as Float32Array;
    const steps = this.lossSteps;
    this.lossSum.dispose();
    this.lossSum = tf.zeros([this.peers]);
    this.lossSteps = 0;
    return sums.map((s) => (steps ? s / steps : 0));
  }

  // ---- gossip ----

  /** X ← W·X for the stacked weights: row i becomes Σ_j W[i, j]·x_j. W is P×P, row-major. */
  async mix(weights: Float32Array): Promise<void> {
    this.assertLive();
    const P = this.peers;
    if (weights.length !== P * P) throw new InputError(`batched engine: the mixing matrix needs ${P}×${P} = ${P * P} values, got ${weights.length}`);
    for (const w of weights) if (!Number.isFinite(w)) throw new InputError('batched engine: the mixing matrix has a non-finite entry');
    if (this.dev) return this.dev.mix(weights);
    const W = tf.tensor2d(weights, [P, P]);
    const next = tf.matMul(W, this.stack);
    W.dispose();
    this.replaceStack(next);
  }

  /** Row i ← base_i + scale·Σ_k vals[k]·(nbr[cols[k]] − ref_i) (see StackMixing); sparse or dense by the row lengths. */
  async mixRows(m: StackMixing): Promise<void> {
    this.assertLive();
    checkStackMixing(m, this.peers, this.dim);
    if (this.dev) return this.dev.mixRows(m);
    const P = this.peers;
    const next = tf.tidy(() => {
      const nbr = m.neighbours ? tf.tensor2d(m.neighbours, [P, this.dim]) : this.stack;
      const ref = m.reference === 'neighbours' ? nbr : this.stack;
      const rowSums = new Float32Array(P);
      let widest = 0;
      for (let i = 0; i < P; i++) {
        for (let k = m.rowStart[i]; k < m.rowStart[i + 1]; k++) rowSums[i] += m.vals[k];
        widest = Math.max(widest, m.rowStart[i + 1] - m.rowStart[i]);
      }
      let acc: Tensor;
      if (denseIsCheaper(widest, P)) {
        const w = new Float32Array(P * P);
        for (let i = 0; i < P; i++) for (let k = m.rowStart[i]; k < m.rowStart[i + 1]; k++) w[i * P + m.cols[k]] += m.vals[k];
        acc = tf.matMul(tf.tensor2d(w, [P, P]), nbr);
      } else {
        // Entry k of every row at once: pad short rows with weight 0 on row 0.
        acc = tf.zerosLike(this.stack);
        for (let k = 0; k < widest; k++) {
          const cols = new Int32Array(P);
          const vals = new Float32Array(P);
          for (let i = 0; i < P; i++) {
            const at = m.rowStart[i] + k;
            if (at < m.rowStart[i + 1]) {
              cols[i] = m.cols[at];
              vals[i] = m.vals[at];
            }
          }
          acc = tf.add(acc, tf.mul(tf.gather(nbr, tf.tensor1d(cols, 'int32')), tf.tensor2d(vals, [P, 1])));
        }
      }
      const diff = tf.sub(acc, tf.mul(ref, tf.tensor2d(rowSums, [P, 1])));
      return tf.add(this.stack, m.scale === 1 ? diff : tf.mul(diff, m.scale));
    });
    this.replaceStack(next);
  }

  /** Every row of `group` becomes the group's mean (an exact merge). */
  async mergeRows(group: readonly number[]): Promise<void> {
    this.assertLive();
    const rows = this.checkRows(group);
    if (rows.length === 0) return;
    if (this.dev) return this.dev.mergeRows(rows);
    const P = this.peers;
    const mask = new Float32Array(P);
    for (const r of rows) mask[r] = 1;
    const next = tf.tidy(() => {
      const mean = tf.mean(tf.gather(this.stack, tf.tensor1d(rows, 'int32')), 0, true);
      const m = tf.tensor2d(mask, [P, 1]);
      return tf.add(tf.mul(this.stack, tf.sub(1, m)), tf.mul(m, mean));
    });
    this.replaceStack(next);
  }

  /** The mean of stack rows `rows` as one model, computed where the stack lives (one row comes back). */
  async meanRows(rows: readonly number[]): Promise<Params> {
    this.assertLive();
    const list = this.checkRows(rows);
    if (list.length === 0) throw new InputError('batched engine: meanRows needs at least one row');
    if (this.dev) return paramsFrom(this.model.layout, await this.dev.meanRows(list));
    const mean = tf.tidy(() => tf.mean(tf.gather(this.stack, tf.tensor1d(list, 'int32')), 0));
    const data = (await mean.data()) as Float32Array;
    mean.dispose();
    return paramsFrom(this.model.layout, data);
  }

  /** Per-row test loss and accuracy of stack rows `rows` on `data`: a batched forward, a few numbers per row read back. */
  async evaluate(rows: readonly number[], data: EvalData): Promise<RowsEval> {
    this.assertLive();
    const list = this.checkRows(rows);
    const f = this.featureSize;
    if (data.x.length < data.n * f) throw new InputError(`batched engine: evaluation data has ${data.x.length} values for ${data.n} samples of ${f}`);
    const loss = new Float64Array(list.length);
    const accuracy = new Float64Array(list.length);
    if (data.n === 0 || list.length === 0) return { loss, accuracy };
    if (this.dev) return this.dev.evaluate(list, data);
    const width = Math.max(f, ...this.model.layout.tensors.map((t) => t.shape[t.shape.length - 1]));
    const sampleChunk = Math.min(data.n, 1000);
    const rowChunk = Math.max(1, Math.floor(EVAL_FLOATS / (sampleChunk * width)));
    for (let r0 = 0; r0 < list.length; r0 += rowChunk) {
      const chunk = list.subarray(r0, Math.min(list.length, r0 + rowChunk));
      const weights = tf.gather(this.stack, tf.tensor1d(chunk, 'int32'));
      for (let s0 = 0; s0 < data.n; s0 += sampleChunk) {
        const S = Math.min(sampleChunk, data.n - s0);
        const [lossT, hitsT] = this.forwardStats(weights, data, s0, S);
        const [l, h] = [(await lossT.data()) as Float32Array, (await hitsT.data()) as Float32Array];
        tf.dispose([lossT, hitsT]);
        for (let j = 0; j < chunk.length; j++) {
          loss[r0 + j] += l[j];
          accuracy[r0 + j] += h[j];
        }
      }
      weights.dispose();
    }
    for (let j = 0; j < list.length; j++) {
      loss[j] /= data.n;
      accuracy[j] /= data.n;
    }
    return { loss, accuracy };
  }

  /** Consensus distance of stack rows `rows` (mean ‖x_i − x̄‖²) and, with `data`, the loss and accuracy of x̄. */
  async summarize(rows: readonly number[], data: EvalData | null): Promise<RowsSummary> {
    this.assertLive();
    const list = this.checkRows(rows);
    if (list.length === 0) return { consensus: 0, mean: null };
    if (this.dev) return this.dev.summarize(list, data);
    const [mean, spread] = tf.tidy(() => {
      const x = tf.gather(this.stack, tf.tensor1d(list, 'int32'));
      const m = tf.mean(x, 0, true);
      return [m, tf.sum(tf.square(tf.sub(x, m)))];
    });
    const consensus = (await spread.data())[0] / list.length;
    spread.dispose();
    let result: EvalResult | null = null;
    if (data && data.n > 0) {
      let lossSum = 0;
      let hits = 0;
      for (let s0 = 0; s0 < data.n; s0 += 1000) {
        const S = Math.min(1000, data.n - s0);
        const [l, h] = this.forwardStats(mean, data, s0, S);
        lossSum += (await l.data())[0];
        hits += (await h.data())[0];
        tf.dispose([l, h]);
      }
      result = { loss: lossSum / data.n, accuracy: hits / data.n, samples: data.n };
    }
    mean.dispose();
    return { consensus, mean: result };
  }

  /** Frees the stacked tensors; the trainer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.dev) return this.dev.dispose();
    tf.dispose([this.stack, this.lossSum, ...this.slots, ...[this.dataX, this.dataY].filter((t): t is Tensor => t !== undefined)]);
  }

  // ---- the step ----

  private stepOn(X: Tensor, Y: Tensor, idx: Tensor, B: number): void {
    this.stepCount++;
    this.lossSteps++;
    const [grad, loss] = tf.tidy(() => {
      const x = tf.reshape(tf.gather(X, idx), [this.peers, B, this.featureSize]);
      const y = tf.gather(Y, idx) as TF.Tensor1D;
      return this.dense ? this.denseGradients(x, y, B) : this.autogradGradients(x, y, B);
    });
    const newLoss = tf.add(this.lossSum, loss);
    tf.dispose([this.lossSum, loss]);
    this.lossSum = newLoss;
    this.applyUpdate(grad);
    grad.dispose();
  }

  /** Hand-written backward of the dense stack: returns the [P, d] gradient and the [P] losses. */
  private denseGradients(x: Tensor, y: TF.Tensor1D, B: number): [Tensor, Tensor] {
    const layers = this.dense!;
    const P = this.peers;
    const C = this.model.numClasses;
    const kernels = layers.map((l) => tf.reshape(tf.slice(this.stack, [0, l.kernelOffset], [P, l.inWidth * l.outWidth]), [P, l.inWidth, l.outWidth]) as TF.Tensor3D);
    const biases = layers.map((l) => tf.reshape(tf.slice(this.stack, [0, l.biasOffset], [P, l.outWidth]), [P, 1, l.outWidth]));
    const inputs: TF.Tensor3D[] = [x as TF.Tensor3D];
    let z: Tensor = x;
    layers.forEach((_, l) => {
      z = tf.add(tf.matMul(inputs[l], kernels[l]), biases[l]);
      if (l + 1 < layers.length) inputs.push(tf.relu(z) as TF.Tensor3D);
    });
    const logProbs = tf.logSoftmax(z);
    const onehot = tf.reshape(tf.oneHot(y, C), [P, B, C]);
    const loss = tf.div(tf.neg(tf.sum(tf.mul(logProbs, onehot), [1, 2])), B);
    let g = tf.div(tf.sub(tf.exp(logProbs), onehot), B) as TF.Tensor3D;
    const parts: Tensor[] = [];
    for (let l = layers.length - 1; l >= 0; l--) {
      const { inWidth, outWidth } = layers[l];
      parts[2 * l] = tf.reshape(tf.matMul(inputs[l], g, true, false), [P, inWidth * outWidth]);
      parts[2 * l + 1] = tf.sum(g, 1);
      if (l > 0) g = tf.mul(tf.matMul(g, kernels[l], false, true), tf.step(inputs[l])) as TF.Tensor3D;
    }
    return [tf.concat(parts, 1), loss];
  }

  /** Any model: autograd over the stacked weights, one forward per peer (used for CNNs). */
  private autogradGradients(x: Tensor, y: TF.Tensor1D, B: number): [Tensor, Tensor] {
    const P = this.peers;
    const C = this.model.numClasses;
    const tensors = this.model.layout.tensors;
    const stacked = tensors.map((t) => tf.reshape(tf.slice(this.stack, [0, t.offset], [P, t.size]), [P, ...t.shape]));
    const xs = tf.unstack(x);
    const ys = tf.unstack(tf.reshape(tf.oneHot(y, C), [P, B, C]));
    const perPeerLoss: Tensor[] = [];
    const lossOf = (...ws: Tensor[]): TF.Scalar => {
      const perPeer = ws.map((w) => tf.unstack(w));
      const losses = xs.map((xp, p) => {
        const logits = this.model.logits(perPeer.map((w) => w[p]), xp as TF.Tensor2D);
        return tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), ys[p]))), B) as TF.Scalar;
      });
      perPeerLoss.push(...losses.map((l) => tf.keep(tf.clone(l))));
      return tf.addN(losses) as TF.Scalar;
    };
    const grads = tf.grads(lossOf)(stacked);
    const loss = tf.stack(perPeerLoss);
    tf.dispose(perPeerLoss);
    return [tf.concat(grads.map((g, i) => tf.reshape(g, [P, tensors[i].size])), 1), loss];
  }

  /** The optimizer update on the whole stack at once (the same formulas as Trainer, row-wise). */
  private applyUpdate(gradient: Tensor): void {
    const o = this.optimizer;
    const t = this.stepCount;
    const out = tf.tidy(() => {
      const w = this.stack;
      const g = o.weightDecay ? tf.add(gradient, tf.mul(w, o.weightDecay)) : gradient;
      if (o.kind === 'sgd' && !o.momentum) return [tf.sub(w, tf.mul(g, o.lr))];
      if (o.kind === 'sgd') {
        const m = tf.add(tf.mul(this.slots[0], o.momentum!), g);
        return [tf.sub(w, tf.mul(m, o.lr)), m];
      }
      const b1 = o.beta1 ?? 0.9;
      const b2 = o.beta2 ?? 0.999;
      const eps = o.epsilon ?? 1e-8;
      const m = tf.add(tf.mul(this.slots[0], b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(this.slots[1], b2), tf.mul(tf.square(g), 1 - b2));
      const stepSize = (o.lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
      return [tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), stepSize)), m, v];
    });
    this.replaceStack(out[0]);
    out.slice(1).forEach((s, i) => {
      this.slots[i].dispose();
      this.slots[i] = s;
    });
  }

  /** Summed loss and hits per row of `weights` [R, d] over samples s0 … s0 + S − 1 of `data`. */
  private forwardStats(weights: Tensor, data: EvalData, s0: number, S: number): [Tensor, Tensor] {
    const f = this.featureSize;
    const C = this.model.numClasses;
    const R = weights.shape[0];
    const labels = Int32Array.from({ length: S }, (_, i) => data.y[s0 + i]);
    return tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(s0 * f, (s0 + S) * f), [S, f]);
      let logits: Tensor;
      if (this.dense) {
        let h: Tensor = tf.reshape(x, [1, S, f]);
        this.dense.forEach((l, i) => {
          const k = tf.reshape(tf.slice(weights, [0, l.kernelOffset], [R, l.inWidth * l.outWidth]), [R, l.inWidth, l.outWidth]);
          const b = tf.reshape(tf.slice(weights, [0, l.biasOffset], [R, l.outWidth]), [R, 1, l.outWidth]);
          h = tf.add(tf.matMul(h, k), b);
          if (i + 1 < this.dense!.length) h = tf.relu(h);
        });
        logits = h;
      } else {
        const tensors = this.model.layout.tensors;
        const rows = tf.unstack(weights);
        logits = tf.stack(rows.map((w) => this.model.logits(tensors.map((t) => tf.reshape(tf.slice(w, [t.offset], [t.size]), [...t.shape])), x as TF.Tensor2D)));
      }
      const y = tf.tensor1d(labels, 'int32');
      const onehot = tf.reshape(tf.oneHot(y, C), [1, S, C]);
      const loss = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), [1, 2]));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 2), tf.reshape(y, [1, S])), 'float32'), 1);
      return [loss, hits];
    });
  }

  /** `rows` as an Int32Array after checking each is a peer. */
  private checkRows(rows: readonly number[]): Int32Array {
    this.assertLive();
    const out = Int32Array.from(rows);
    for (const r of out) if (!(r >= 0 && r < this.peers)) throw new InputError(`batched engine: row ${r} outside [0, ${this.peers})`);
    return out;
  }

  private replaceStack(next: Tensor): void {
    this.stack.dispose();
    this.stack = next;
  }

  private assertPeer(peer: number): void {
    this.assertLive();
    if (!Number.isInteger(peer) || peer < 0 || peer >= this.peers) throw new InputError(`batched engine: peer ${peer} outside [0, ${this.peers})`);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('BatchedTrainer used after dispose()');
  }
}

/** The dense layers of a logreg/MLP model (kernel then bias per layer), or undefined for others. */
function denseLayers(model: Model): DenseLayer[] | undefined {
  if (model.spec.kind === 'cnn') return undefined;
  const t = model.layout.tensors;
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < t.length; i += 2) {
    layers.push({ inWidth: t[i].shape[0], outWidth: t[i].shape[1], kernelOffset: t[i].offset, biasOffset: t[i + 1].offset });
  }
  return layers;
}

function chooseKernels(choice: BatchedKernels, model: Model): 'tfjs' | 'webgpu-fused' | 'host' {
  if (choice === 'tfjs') return 'tfjs';
  const dense = isZooModel(model) && denseLayers(model) !== undefined;
  if (choice === 'host') {
    if (!dense) throw new ConfigError("batched engine: the host stack runs dense models (logreg, mlp) only; use kernels 'tfjs'");
    return 'host';
  }
  const why = webgpuUnsupported(model);
  if (choice === 'webgpu-fused' && why) throw new ConfigError(`batched engine: the compiled WebGPU step cannot run: ${why}; use kernels 'tfjs'`);
  if (!why) return 'webgpu-fused';
  // On the CPU backends tfjs's batched products run far below their 2-D speed (see ./host-stack.ts).
  return dense && CPU_BACKENDS.has(tf.getBackend()) ? 'host' : 'tfjs';
}

/** Backends whose tensors live in host memory, where the host stack beats tfjs ops. */
const CPU_BACKENDS = new Set(['wasm', 'cpu']);

/** stack with row `peer` replaced by `row`. */
function replaceRow(stack: Tensor, peer: number, row: Float32Array): Tensor {
  const [P, d] = stack.shape;
  const parts: Tensor[] = [];
  if (peer > 0) parts.push(tf.slice(stack, [0, 0], [peer, d]));
  parts.push(tf.tensor2d(row, [1, d]));
  if (peer + 1 < P) parts.push(tf.slice(stack, [peer + 1, 0], [P - peer - 1, d]));
  return tf.concat(parts, 0);
}

/** A dense P×P product costs about P multiply-adds per value; compressed rows cost their length, but gather once per entry. */
export function denseIsCheaper(widestRow: number, peers: number): boolean {
  return peers <= 4096 && 4 * (widestRow + 1) >= peers;
}

function checkStackMixing(m: StackMixing, P: number, d: number): void {
  if (m.rowStart.length !== P + 1 || m.rowStart[0] !== 0) throw new InputError(`batched engine: mixing rowStart needs ${P + 1} entries starting at 0`);
  const nnz = m.rowStart[P];
  if (m.cols.length < nnz || m.vals.length < nnz) throw new InputError(`batched engine: mixing has ${nnz} entries but ${m.cols.length} columns and ${m.vals.length} weights`);
  for (let i = 0; i < P; i++) if (m.rowStart[i + 1] < m.rowStart[i]) throw new InputError(`batched engine: mixing row ${i} ends before it starts`);
  for (let k = 0; k < nnz; k++) {
    if (!(m.cols[k] >= 0 && m.cols[k] < P)) throw new InputError(`batched engine: mixing column ${m.cols[k]} outside [0, ${P})`);
    if (!Number.isFinite(m.vals[k])) throw new InputError('batched engine: the mixing weights have a non-finite entry');
  }
  if (!Number.isFinite(m.scale)) throw new InputError(`batched engine: mixing scale ${m.scale} is not finite`);
  if (m.neighbours && m.neighbours.length !== P * d) throw new InputError(`batched engine: mixing neighbours need ${P}×${d} values, got ${m.neighbours.length}`);
  if (m.reference === 'neighbours' && !m.neighbours) throw new InputError('batched engine: reference "neighbours" needs neighbour rows');
}
