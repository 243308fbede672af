// Local training and evaluation on the current tfjs backend.
//
// One Trainer serves every peer that shares a model architecture: a peer's Params and
// OptimizerState are loaded into the trainer's tf.Variables, k steps run, and the results are
// written back into the same buffers. This keeps one set of GPU/wasm buffers however many peers
// a simulation has, and keeps each peer's state in plain, checkpointable arrays.
import { tf } from '../compute/tf.js';
import type { tf as TF } from '../compute/tf.js';
import type { Params } from '../params/index.js';
import { sameLayout } from '../params/index.js';
import type { Model } from './zoo.js';
import type { LocalStepOptions, OptimizerSpec, OptimizerState } from './optimizer.js';
import { slotCount, validateLocalStep, validateOptimizer } from './optimizer.js';
import type { Batch, BatchSource } from './batch.js';
import { ConfigError } from '../util/errors.js';
import { WebGpuTraining, webgpuUnsupported } from './webgpu-training.js';

/** How a Trainer runs a step: tfjs ops (any backend, any Model), compiled WebGPU kernels (zoo models on the webgpu backend), or `auto`. */
export type TrainerKernels = 'auto' | 'tfjs' | 'webgpu';

/** What a call to train() did: mean loss, steps taken and samples seen. */
export interface TrainResult {
  /** Mean training loss over the steps. */
  readonly loss: number;
  readonly steps: number;
  readonly samples: number;
}

/** Mean loss and accuracy of a model on an evaluation set of `samples` samples. */
export interface EvalResult {
  readonly loss: number;
  readonly accuracy: number;
  readonly samples: number;
}

/** Plain evaluation data (a Dataset fits): all inputs row-major and their labels. */
export interface EvalData {
  readonly x: Float32Array;
  readonly y: ArrayLike<number>;
  readonly n: number;
}

/** Per-weight tensors of a train call's LocalStepOptions. */
interface Extras {
  readonly mu?: number;
  readonly anchor?: TF.Tensor[];
  readonly correction?: TF.Tensor[];
}

/** tfjs variable names are global; each trainer's get a unique prefix. */
let trainerCount = 0;

/** Trains and evaluates one model on the active tfjs backend; weights go in and out as Params, so one Trainer serves many peers. */
export class Trainer {
  readonly model: Model;
  readonly optimizer: OptimizerSpec;
  /** The step implementation in use. */
  readonly kernels: 'tfjs' | 'webgpu';
  private readonly weights: TF.Variable[];
  private readonly slots: TF.Variable[][];
  private readonly gpu: WebGpuTraining | undefined;
  private readonly featureSize: number;
  private disposed = false;

  /**
   * `kernels` 'auto' (the default) takes the compiled WebGPU kernels when the webgpu backend is
   * active and the model is a zoo model they implement, tfjs ops otherwise.
   */
  constructor(model: Model, optimizer: OptimizerSpec, kernels: TrainerKernels = 'auto') {
    validateOptimizer(optimizer);
    this.model = model;
    this.optimizer = optimizer;
    this.featureSize = model.inputShape.reduce((a, b) => a * b, 1);
    this.kernels = chooseKernels(kernels, model);
    if (this.kernels === 'webgpu') {
      this.gpu = new WebGpuTraining(model, optimizer);
      this.weights = [];
      this.slots = [];
      return;
    }
    const id = trainerCount++;
    this.weights = model.layout.tensors.map((t) => tf.variable(tf.zeros(t.shape as number[]), true, `t${id}_w_${t.name}`));
    this.slots = Array.from({ length: slotCount(optimizer) }, (_, s) =>
      model.layout.tensors.map((t) => tf.variable(tf.zeros(t.shape as number[]), false, `t${id}_s${s}_${t.name}`)),
    );
  }

  /**
   * Runs `steps` optimizer steps starting from `params`/`state` on batches from `next`, and writes
   * the new weights and optimizer state back into `params.data` and `state` (in place).
   * `local` adds FedProx's proximal term and/or SCAFFOLD's correction to every gradient.
   */
  async train(params: Params, state: OptimizerState, next: BatchSource, steps: number, local: LocalStepOptions = {}): Promise<TrainResult> {
    this.assertUsable(params);
    if (state.slots.length !== slotCount(this.optimizer)) {
      throw new ConfigError(`optimizer state has ${state.slots.length} slot buffers, ${this.optimizer.kind} needs ${slotCount(this.optimizer)}`);
    }
    validateLocalStep(local, this.model.layout.size);
    if (this.gpu) {
      if (local.proximal || local.correction) {
        throw new ConfigError('trainer: the WebGPU kernels have no proximal term or gradient correction (FedProx, SCAFFOLD); use kernels \'tfjs\'');
      }
      return this.gpu.train(params, state, next, steps);
    }
    this.load(params.data, this.weights);
    this.slots.forEach((vars, s) => this.load(state.slots[s], vars));
    const extras = this.uploadExtras(local);
    const losses: TF.Scalar[] = [];
    let samples = 0;
    for (let i = 0; i < steps; i++) {
      const batch = next();
      samples += batch.size;
      losses.push(this.step(batch, state.step + 1, extras));
      state.step++;
    }
    tf.dispose([...(extras.anchor ?? []), ...(extras.correction ?? [])]);
    // sum(stack) rather than addN: WebGPU's AddN binds every input at once and fails past 7 inputs.
    const total = tf.tidy(() => (losses.length ? tf.sum(tf.stack(losses)) : tf.scalar(0)));
    const lossSum = (await total.data())[0];
    tf.dispose([total, ...losses]);
    await this.store(this.weights, params.data);
    for (let s = 0; s < this.slots.length; s++) await this.store(this.slots[s], state.slots[s]);
    return { loss: steps ? lossSum / steps : 0, steps, samples };
  }

  /** Loss and accuracy of `params` on `data`, in chunks of `batchSize` samples. */
  async evaluate(params: Params, data: EvalData, batchSize = 1000): Promise<EvalResult> {
    this.assertUsable(params);
    if (this.gpu) return this.gpu.evaluate(params, data);
    this.load(params.data, this.weights);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < data.n; start += batchSize) {
      const size = Math.min(batchSize, data.n - start);
      const labels = Int32Array.from({ length: size }, (_, i) => data.y[start + i]);
      const [lossT, correctT] = tf.tidy(() => {
        const x = tf.tensor2d(data.x.subarray(start * this.featureSize, (start + size) * this.featureSize), [size, this.featureSize]);
        const y = tf.tensor1d(labels, 'int32');
        const logits = this.model.logits(this.weights, x);
        const loss = tf.sum(crossEntropyPerSample(logits, y, this.model.numClasses));
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
        return [loss, hits];
      });
      lossSum += (await lossT.data())[0];
      correct += (await correctT.data())[0];
      tf.dispose([lossT, correctT]);
    }
    return { loss: data.n ? lossSum / data.n : 0, accuracy: data.n ? correct / data.n : 0, samples: data.n };
  }

  /** Frees the tfjs variables; the Trainer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.gpu?.dispose();
    tf.dispose(this.weights);
    for (const s of this.slots) tf.dispose(s);
  }

  /** The anchor and correction as one tensor per weight (uploaded once per train call). */
  private uploadExtras(local: LocalStepOptions): Extras {
    const split = (flat: Float32Array) => this.model.layout.tensors.map((t) => tf.tensor(flat.subarray(t.offset, t.offset + t.size), t.shape as number[]));
    return {
      ...(local.proximal && local.proximal.mu > 0 ? { mu: local.proximal.mu, anchor: split(local.proximal.anchor) } : {}),
      ...(local.correction ? { correction: split(local.correction) } : {}),
    };
  }

  private step(batch: Batch, t: number, extras: Extras): TF.Scalar {
    return tf.tidy(() => {
      const x = tf.tensor2d(batch.x.subarray(0, batch.size * this.featureSize), [batch.size, this.featureSize]);
      const y = tf.tensor1d(batch.labels.subarray(0, batch.size), 'int32');
      const { value, grads } = tf.variableGrads(
        () => tf.mean(crossEntropyPerSample(this.model.logits(this.weights, x), y, this.model.numClasses)) as TF.Scalar,
        this.weights,
      );
      this.weights.forEach((w, i) => {
        let g = grads[w.name];
        if (extras.anchor) g = tf.add(g, tf.mul(tf.sub(w, extras.anchor[i]), extras.mu!));
        if (extras.correction) g = tf.add(g, extras.correction[i]);
        this.update(w, g, i, t);
      });
      return tf.keep(value);
    });
  }

  private update(w: TF.Variable, gradient: TF.Tensor, index: number, t: number): void {
    const o = this.optimizer;
    const g = o.weightDecay ? tf.add(gradient, tf.mul(w, o.weightDecay)) : gradient;
    if (o.kind === 'sgd') {
      if (!o.momentum) {
        w.assign(tf.sub(w, tf.mul(g, o.lr)));
        return;
      }
      // Heavy-ball as in PyTorch: m ← μ·m + g; w ← w − lr·m.
      const m = this.slots[0][index];
      const mNew = tf.add(tf.mul(m, o.momentum), g);
      m.assign(mNew);
      w.assign(tf.sub(w, tf.mul(mNew, o.lr)));
      return;
    }
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.epsilon ?? 1e-8;
    const m = this.slots[0][index];
    const v = this.slots[1][index];
    const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
    const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
    m.assign(mNew);
    v.assign(vNew);
    const stepSize = (o.lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
    w.assign(tf.sub(w, tf.mul(tf.div(mNew, tf.add(tf.sqrt(vNew), eps)), stepSize)));
  }

  private load(flat: Float32Array, vars: TF.Variable[]): void {
    const tensors = this.model.layout.tensors;
    for (let i = 0; i < vars.length; i++) {
      const t = tensors[i];
      // tf.tensor copies the view in one bulk copy; the variable takes ownership of the copy.
      const value = tf.tensor(flat.subarray(t.offset, t.offset + t.size), t.shape as number[]);
      vars[i].assign(value);
      value.dispose();
    }
  }

  private async store(vars: TF.Variable[], flat: Float32Array): Promise<void> {
    const tensors = this.model.layout.tensors;
    const values = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
    for (let i = 0; i < vars.length; i++) flat.set(values[i], tensors[i].offset);
  }

  private assertUsable(params: Params): void {
    if (this.disposed) throw new Error('Trainer used after dispose()');
    if (!sameLayout(params.layout, this.model.layout)) {
      throw new ConfigError('params do not match the trainer\'s model layout (different model or input shape)');
    }
  }
}

function chooseKernels(choice: TrainerKernels, model: Model): 'tfjs' | 'webgpu' {
  if (choice === 'tfjs') return 'tfjs';
  const why = webgpuUnsupported(model);
  if (choice === 'webgpu' && why) throw new ConfigError(`trainer: the WebGPU kernels cannot run here: ${why}; use kernels 'tfjs'`);
  return why ? 'tfjs' : 'webgpu';
}

/** Softmax cross-entropy per sample from logits and integer labels (log-sum-exp, stable). */
function crossEntropyPerSample(logits: TF.Tensor2D, labels: TF.Tensor1D, numClasses: number): TF.Tensor1D {
  const logProbs = tf.logSoftmax(logits);
  return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(labels, numClasses)), 1)) as TF.Tensor1D;
}
