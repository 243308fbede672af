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
import { webgpuUnsupported } from './webgpu-training.js';
import { paramsFrom, sameLayout, type Params } from '../params/index.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import { slotCount, validateOptimizer } from './optimizer.js';
import type { Batch } from './batch.js';
import { ConfigError, InputError } from '../util/errors.js';

/** Which step implementation a BatchedTrainer uses: tfjs ops (any backend), the fused WebGPU kernels, or `auto`. */
export type BatchedKernels = 'auto' | 'tfjs' | 'webgpu-fused';

/** Options of a BatchedTrainer: the kernel choice. */
export interface BatchedOptions {
  /** 'auto' takes the compiled WebGPU step where it applies, tfjs ops otherwise. */
  readonly kernels?: BatchedKernels;
}

interface DenseLayer {
  readonly inWidth: number;
  readonly outWidth: number;
  readonly kernelOffset: number;
  readonly biasOffset: number;
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
  readonly kernels: 'tfjs' | 'webgpu-fused';
  /** Optimizer steps taken (Adam's bias correction uses it). */
  stepCount = 0;
  // tfjs path: the stacked tensors. WebGPU path: the device buffers of `gpu`.
  private stack!: Tensor;
  private slots: Tensor[] = [];
  private lossSum!: Tensor;
  private readonly gpu: WebGpuStack | undefined;
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
      this.gpu = new WebGpuStack(model, optimizer, peers);
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
    if (this.gpu) return this.gpu.loadAll(flat);
    this.replaceStack(tf.tensor2d(flat, [this.peers, this.dim]));
  }

  /** All peers' weights, P rows of d values. */
  async readAll(): Promise<Float32Array> {
    this.assertLive();
    if (this.gpu) return this.gpu.readAll();
    return (await this.stack.data()) as Float32Array;
  }

  /** Sets one peer's weights (its row of the stack). */
  loadPeer(peer: number, params: Params): void {
    this.assertPeer(peer);
    if (!sameLayout(params.layout, this.model.layout)) throw new ConfigError('batched engine: params do not match the model layout');
    if (this.gpu) return this.gpu.loadPeer(peer, params.data);
    this.replaceStack(tf.tidy(() => replaceRow(this.stack, peer, params.data)));
  }

  /** One peer's weights, copied out of the stack. */
  async readPeer(peer: number): Promise<Params> {
    this.assertPeer(peer);
    if (this.gpu) return paramsFrom(this.model.layout, await this.gpu.readPeer(peer));
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
    if (this.gpu) return this.gpu.loadSlots(slots);
    slots.forEach((s, i) => {
      this.slots[i].dispose();
      this.slots[i] = tf.tensor2d(s, [this.peers, this.dim]);
    });
  }

  /** Every peer's optimizer state: one [P×d] buffer per slot. */
  async readSlots(): Promise<Float32Array[]> {
    this.assertLive();
    if (this.gpu) return this.gpu.readSlots();
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
    if (this.gpu) return this.gpu.setData(x, y, n);
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
    if (this.gpu) {
      this.stepCount++;
      this.lossSteps++;
      return this.gpu.stepIndices(idx, this.stepCount);
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
    if (this.gpu) {
      this.stepCount++;
      this.lossSteps++;
      return this.gpu.stepBatches(batches, this.stepCount);
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
    if (this.gpu) {
      const steps = this.lossSteps;
      this.lossSteps = 0;
      return (await this.gpu.takeLossSums()).map((s) => (steps ? s / steps : 0));
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
    if (this.gpu) return this.gpu.mix(weights);
    const W = tf.tensor2d(weights, [P, P]);
    const next = tf.matMul(W, this.stack);
    W.dispose();
    this.replaceStack(next);
  }

  /** Frees the stacked tensors; the trainer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gpu) return this.gpu.dispose();
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

function chooseKernels(choice: BatchedKernels, model: Model): 'tfjs' | 'webgpu-fused' {
  if (choice === 'tfjs') return 'tfjs';
  const why = webgpuUnsupported(model);
  if (choice === 'webgpu-fused' && why) throw new ConfigError(`batched engine: the compiled WebGPU step cannot run: ${why}; use kernels 'tfjs'`);
  return why ? 'tfjs' : 'webgpu-fused';
}

/** stack with row `peer` replaced by `row`. */
function replaceRow(stack: Tensor, peer: number, row: Float32Array): Tensor {
  const [P, d] = stack.shape;
  const parts: Tensor[] = [];
  if (peer > 0) parts.push(tf.slice(stack, [0, 0], [peer, d]));
  parts.push(tf.tensor2d(row, [1, d]));
  if (peer + 1 < P) parts.push(tf.slice(stack, [peer + 1, 0], [P - peer - 1, d]));
  return tf.concat(parts, 0);
}
