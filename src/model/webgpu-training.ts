/// <reference types="@webgpu/types" />
// The Trainer's WebGPU path for the zoo's models: weights, optimizer state and data in GPU
// buffers, each step a compiled plan (./webgpu-plan.ts), up to STEP_SLOTS steps encoded into
// one submit, one readback per call. A peer's train() costs one upload of its weights and
// batches and one download of its weights and optimizer state, as the tfjs path does, but the
// steps in between cost a few native calls per dispatch instead of tfjs's per-op bookkeeping.
import { GpuRuntime, alignBytes, type Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import type { Params } from '../params/index.js';
import type { Model } from './zoo.js';
import { isZooModel } from './zoo.js';
import type { OptimizerSpec, OptimizerState } from './optimizer.js';
import { slotCount } from './optimizer.js';
import type { BatchSource } from './batch.js';
import { StepPlan, idxSlotBytes, modelGraph, type ModelGraph, type PlanBuffers } from './webgpu-plan.js';
import { InputError } from '../util/errors.js';
import type { EvalData, EvalResult, TrainResult } from './trainer.js';

/** Steps encoded into one submit. */
const STEP_SLOTS = 32;
/** Samples per evaluation dispatch (a multiple of 64, so chunk offsets stay binding-aligned). */
const EVAL_CHUNK = 1024;

/** Why the WebGPU path cannot train this model, or undefined when it can. */
export function webgpuUnsupported(model: Model): string | undefined {
  if (!isZooModel(model)) return 'the WebGPU kernels implement the zoo\'s models only (a custom Model trains on tfjs ops)';
  const graph = modelGraph(model);
  return typeof graph === 'string' ? graph : undefined;
}

interface TrainInputs {
  readonly plan: StepPlan;
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly idx: GPUBuffer;
  readonly x: Float32Array;
  readonly y: Int32Array;
}

interface EvalInputs {
  readonly n: number;
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly idx: GPUBuffer;
  readonly plans: StepPlan[];
}

/** One peer's training and evaluation on the WebGPU device (used by Trainer on the webgpu backend). */
export class WebGpuTraining {
  private readonly rt: GpuRuntime;
  private readonly graph: ModelGraph;
  private readonly model: Model;
  private readonly optimizer: OptimizerSpec;
  private readonly weights: GPUBuffer;
  private readonly grad: GPUBuffer;
  private readonly slots: GPUBuffer[];
  private readonly hyper: GPUBuffer;
  private readonly stats: GPUBuffer;
  private readonly train_ = new Map<number, Promise<TrainInputs>>();
  private eval_: { key: Float32Array; inputs: Promise<EvalInputs> } | undefined;

  constructor(model: Model, optimizer: OptimizerSpec) {
    const graph = modelGraph(model);
    if (typeof graph === 'string') throw new InputError(`WebGPU training: ${graph}`);
    this.rt = GpuRuntime.fromTfjs();
    this.graph = graph;
    this.model = model;
    this.optimizer = optimizer;
    const bytes = graph.dim * 4;
    this.weights = this.rt.storage(bytes, 'weights');
    this.grad = this.rt.storage(bytes, 'grad');
    this.slots = Array.from({ length: Math.max(2, slotCount(optimizer)) }, (_, i) => this.rt.storage(i < slotCount(optimizer) ? bytes : 4, `slot${i}`));
    this.hyper = this.rt.storage(STEP_SLOTS * 256, 'hyper');
    this.stats = this.rt.storage(8, 'stats');
  }

  async train(params: Params, state: OptimizerState, next: BatchSource, steps: number): Promise<TrainResult> {
    const nSlots = slotCount(this.optimizer);
    this.rt.write(this.weights, 0, params.data);
    for (let s = 0; s < nSlots; s++) this.rt.write(this.slots[s], 0, state.slots[s]);
    this.rt.write(this.stats, 0, new Float32Array(2));
    const F = this.graph.featureSize;
    let samples = 0;
    let done = 0;
    while (done < steps) {
      // Gather up to STEP_SLOTS batches of one size into the staging arrays, then upload and run them.
      const first = next();
      const B = first.size;
      if (!(B >= 1)) throw new InputError(`WebGPU training: a batch of ${B} samples`);
      const inputs = await this.trainInputs(B);
      const dispatches: Dispatch[] = [];
      let batch = first;
      let k = 0;
      let pending: typeof first | undefined;
      for (;;) {
        this.checkLabels(batch.labels, B);
        inputs.x.set(batch.x.subarray(0, B * F), k * B * F);
        inputs.y.set(batch.labels.subarray(0, B), k * B);
        if (this.optimizer.kind === 'adam') this.rt.write(this.hyper, k * 256, new Float32Array([adamStepSize(this.optimizer, state.step + 1)]));
        state.step++;
        dispatches.push(...inputs.plan.step(k));
        samples += B;
        k++;
        done++;
        if (k === STEP_SLOTS || done === steps) break;
        const b = next();
        if (b.size !== B) {
          pending = b;
          break;
        }
        batch = b;
      }
      this.rt.write(inputs.data, 0, inputs.x.subarray(0, k * B * F));
      this.rt.write(inputs.labels, 0, inputs.y.subarray(0, k * B));
      this.rt.submit(dispatches);
      if (pending) {
        // A batch of another size ends the chunk; it starts the next one through a one-shot source.
        const held = pending;
        const rest = next;
        let used = false;
        next = () => (used ? rest() : ((used = true), held));
      }
    }
    const [w, lossSum, ...slots] = await this.rt.read([
      { buffer: this.weights, offset: 0, bytes: this.graph.dim * 4 },
      { buffer: this.stats, offset: 0, bytes: 4 },
      ...this.slots.slice(0, nSlots).map((buffer) => ({ buffer, offset: 0, bytes: this.graph.dim * 4 })),
    ]);
    params.data.set(w);
    slots.forEach((s, i) => state.slots[i].set(s));
    return { loss: steps ? lossSum[0] / steps : 0, steps, samples };
  }

  async evaluate(params: Params, data: EvalData): Promise<EvalResult> {
    if (data.n === 0) return { loss: 0, accuracy: 0, samples: 0 };
    const inputs = await this.evalInputs(data);
    this.rt.write(this.weights, 0, params.data);
    this.rt.write(this.stats, 0, new Float32Array(2));
    const dispatches: Dispatch[] = [];
    for (let c = 0; c * EVAL_CHUNK < data.n; c++) {
      const plan = (c + 1) * EVAL_CHUNK <= data.n ? inputs.plans[0] : inputs.plans[1];
      dispatches.push(...plan.step(c));
    }
    this.rt.submit(dispatches);
    const [stats] = await this.rt.read([{ buffer: this.stats, offset: 0, bytes: 8 }]);
    return { loss: stats[0] / data.n, accuracy: stats[1] / data.n, samples: data.n };
  }

  dispose(): void {
    for (const b of [this.weights, this.grad, ...this.slots, this.hyper, this.stats]) b.destroy();
    for (const p of this.train_.values()) void p.then((t) => this.freeTrain(t));
    this.train_.clear();
    if (this.eval_) void this.eval_.inputs.then((e) => this.freeEval(e));
    this.eval_ = undefined;
  }

  private buffers(data: GPUBuffer, labels: GPUBuffer, idx: GPUBuffer, slotBytes: number): PlanBuffers {
    return {
      weights: this.weights, grad: this.grad, slots: this.slots, data, labels, idx, idxSlotBytes: slotBytes,
      hyper: this.hyper, stats: this.stats,
    };
  }

  /** Upload buffers and the compiled step for batches of B samples (built once per batch size). */
  private trainInputs(B: number): Promise<TrainInputs> {
    let p = this.train_.get(B);
    if (!p) {
      p = (async () => {
        const F = this.graph.featureSize;
        const data = this.rt.storage(STEP_SLOTS * B * F * 4, `batches ${B}`);
        const labels = this.rt.storage(STEP_SLOTS * B * 4, `labels ${B}`);
        const slotBytes = idxSlotBytes(B);
        const idx = this.rt.storage(STEP_SLOTS * slotBytes, `idx ${B}`);
        // Slot s reads the s-th uploaded batch: rows s·B … s·B + B − 1.
        const iota = new Int32Array((STEP_SLOTS * slotBytes) / 4);
        for (let s = 0; s < STEP_SLOTS; s++) for (let r = 0; r < B; r++) iota[(s * slotBytes) / 4 + r] = s * B + r;
        this.rt.write(idx, 0, iota);
        const plan = await StepPlan.build(this.rt, this.graph, this.optimizer, 1, B, this.buffers(data, labels, idx, slotBytes), STEP_SLOTS, 'train');
        return { plan, data, labels, idx, x: new Float32Array(STEP_SLOTS * B * F), y: new Int32Array(STEP_SLOTS * B) };
      })();
      this.train_.set(B, p);
    }
    return p;
  }

  /** The evaluation set kept on the device (the last one used) and its compiled forward passes. */
  private evalInputs(data: EvalData): Promise<EvalInputs> {
    if (this.eval_?.key === data.x) return this.eval_.inputs;
    if (this.eval_) void this.eval_.inputs.then((e) => this.freeEval(e));
    const inputs = (async () => {
      const F = this.graph.featureSize;
      const n = data.n;
      const labelsHost = Int32Array.from({ length: n }, (_, i) => data.y[i]);
      this.checkLabels(labelsHost, n);
      const chunks = Math.ceil(n / EVAL_CHUNK);
      const xBuf = this.rt.storage(n * F * 4, 'eval data');
      const yBuf = this.rt.storage(n * 4, 'eval labels');
      const idx = this.rt.storage(alignBytes(chunks * EVAL_CHUNK * 4), 'eval idx');
      this.rt.write(xBuf, 0, data.x.subarray(0, n * F));
      this.rt.write(yBuf, 0, labelsHost);
      this.rt.write(idx, 0, Int32Array.from({ length: chunks * EVAL_CHUNK }, (_, i) => Math.min(i, n - 1)));
      const bufs = this.buffers(xBuf, yBuf, idx, EVAL_CHUNK * 4);
      const full = await StepPlan.build(this.rt, this.graph, this.optimizer, 1, EVAL_CHUNK, bufs, chunks, 'eval');
      const rest = n % EVAL_CHUNK;
      const plans = [full, rest ? await StepPlan.build(this.rt, this.graph, this.optimizer, 1, rest, bufs, chunks, 'eval') : full];
      return { n, data: xBuf, labels: yBuf, idx, plans };
    })();
    this.eval_ = { key: data.x, inputs };
    return inputs;
  }

  private checkLabels(labels: ArrayLike<number>, n: number): void {
    const C = this.model.numClasses;
    for (let i = 0; i < n; i++) {
      const v = labels[i];
      if (!(Number.isInteger(v) && v >= 0 && v < C)) throw new InputError(`WebGPU training: label ${v} outside [0, ${C})`);
    }
  }

  private freeTrain(t: TrainInputs): void {
    t.plan.dispose();
    for (const b of [t.data, t.labels, t.idx]) b.destroy();
  }

  private freeEval(e: EvalInputs): void {
    for (const p of new Set(e.plans)) p.dispose();
    for (const b of [e.data, e.labels, e.idx]) b.destroy();
  }
}
