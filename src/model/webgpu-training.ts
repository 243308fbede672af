/// <reference types="@webgpu/types" />
// The Trainer's WebGPU path for the zoo's models: weights, optimizer state and data in GPU
// buffers, each step a compiled plan (./webgpu-plan.ts), up to STEP_SLOTS steps encoded into
// one submit, one readback per call. A peer's train() costs one upload of its weights and
// batches and one download of its weights and optimizer state, as the tfjs path does, but the
// steps in between cost a few native calls per dispatch instead of tfjs's per-op bookkeeping.
import { GpuRuntime, type Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import type { Params } from '../params/index.js';
import type { Model } from './zoo.js';
import { isZooModel } from './zoo.js';
import type { OptimizerSpec, OptimizerState } from './optimizer.js';
import { slotCount } from './optimizer.js';
import type { Batch, BatchSource, BatchSourceData } from './batch.js';
import { ScratchPool, StepPlan, idxSlotBytes, modelGraph, type ModelGraph, type PlanBuffers } from './webgpu-plan.js';
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

/** Where a plan's samples come from: uploaded batches (slot s = rows s·B …) or a dataset kept on the device. */
interface TrainInputs {
  readonly plan: StepPlan;
  /** Present for uploaded batches: the buffer the steps' inputs are written into. */
  readonly upload?: { readonly data: GPUBuffer; readonly labels: GPUBuffer };
  /** The steps' row indices, STEP_SLOTS slots of idxSlotBytes(B) (fixed for uploads, written per step otherwise). */
  readonly idx: GPUBuffer;
  readonly rows: Int32Array;
}

/** A dataset copied to the device once. */
interface ResidentData {
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly n: number;
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
  private readonly scratch: ScratchPool;
  /** Compiled steps by input (a dataset's x, or null for uploads) and batch size. */
  private readonly plans = new Map<Float32Array | null, Map<number, Promise<TrainInputs>>>();
  /** Datasets kept on the device, by their x array (a simulation's peers each keep their shard here). */
  private readonly resident = new Map<Float32Array, ResidentData>();
  private evalPlans: Promise<StepPlan[]> | undefined;
  private evalKey: Float32Array | undefined;

  constructor(model: Model, optimizer: OptimizerSpec) {
    const graph = modelGraph(model);
    if (typeof graph === 'string') throw new InputError(`WebGPU training: ${graph}`);
    this.rt = GpuRuntime.fromTfjs();
    this.graph = graph;
    this.model = model;
    this.optimizer = optimizer;
    this.scratch = new ScratchPool(this.rt);
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
    let held: Batch | undefined;
    while (done < steps) {
      // One chunk: up to STEP_SLOTS batches of one size from one source, encoded into one submit.
      const first = held ?? next();
      held = undefined;
      const B = first.size;
      if (!(Number.isInteger(B) && B >= 1)) throw new InputError(`WebGPU training: a batch of ${B} samples`);
      const source = first.source && first.rows ? first.source : undefined;
      const inputs = await this.trainInputs(B, source);
      const dispatches: Dispatch[] = [];
      const slotInts = idxSlotBytes(B) / 4;
      let batch = first;
      let k = 0;
      for (;;) {
        this.checkLabels(batch.labels, B);
        if (inputs.upload) {
          this.rt.write(inputs.upload.data, k * B * F * 4, batch.x.subarray(0, B * F));
          this.rt.write(inputs.upload.labels, k * B * 4, batch.labels.subarray(0, B));
        } else {
          const rows = batch.rows!.subarray(0, B);
          for (const r of rows) if (!(r >= 0 && r < source!.n)) throw new InputError(`WebGPU training: batch row ${r} outside the dataset [0, ${source!.n})`);
          inputs.rows.set(rows, k * slotInts);
        }
        if (this.optimizer.kind === 'adam') this.rt.write(this.hyper, k * 256, new Float32Array([adamStepSize(this.optimizer, state.step + 1)]));
        state.step++;
        dispatches.push(...inputs.plan.step(k));
        samples += B;
        k++;
        done++;
        if (k === STEP_SLOTS || done === steps) break;
        const b = next();
        if (b.size !== B || (b.source && b.rows ? b.source : undefined) !== source) {
          held = b;
          break;
        }
        batch = b;
      }
      if (!inputs.upload) this.rt.write(inputs.idx, 0, inputs.rows.subarray(0, k * slotInts));
      this.rt.submit(dispatches);
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
    const plans = await this.evalInputs(data);
    this.rt.write(this.weights, 0, params.data);
    this.rt.write(this.stats, 0, new Float32Array(2));
    const dispatches: Dispatch[] = [];
    for (let c = 0; c * EVAL_CHUNK < data.n; c++) {
      const plan = (c + 1) * EVAL_CHUNK <= data.n ? plans[0] : plans[1];
      dispatches.push(...plan.step(c));
    }
    this.rt.submit(dispatches);
    const [stats] = await this.rt.read([{ buffer: this.stats, offset: 0, bytes: 8 }]);
    return { loss: stats[0] / data.n, accuracy: stats[1] / data.n, samples: data.n };
  }

  dispose(): void {
    for (const b of [this.weights, this.grad, ...this.slots, this.hyper, this.stats]) b.destroy();
    for (const bySize of this.plans.values()) {
      for (const p of bySize.values()) void p.then((t) => [t.idx, t.upload?.data, t.upload?.labels].forEach((b) => b?.destroy()));
    }
    this.plans.clear();
    for (const r of this.resident.values()) [r.data, r.labels].forEach((b) => b.destroy());
    this.resident.clear();
    this.scratch.destroy();
  }

  private buffers(data: GPUBuffer, labels: GPUBuffer, idx: GPUBuffer, slotBytes: number): PlanBuffers {
    return {
      weights: this.weights, grad: this.grad, slots: this.slots, data, labels, idx, idxSlotBytes: slotBytes,
      hyper: this.hyper, stats: this.stats,
    };
  }

  /** The dataset on the device (copied on first use and kept). */
  private residentData(source: BatchSourceData): ResidentData {
    let r = this.resident.get(source.x);
    if (!r) {
      const F = this.graph.featureSize;
      if (source.x.length < source.n * F) throw new InputError(`WebGPU training: the batch's dataset has ${source.x.length} values for ${source.n} rows of ${F}`);
      const labels = Int32Array.from({ length: source.n }, (_, i) => source.y[i]);
      this.checkLabels(labels, source.n);
      r = { data: this.rt.storage(source.n * F * 4, 'dataset'), labels: this.rt.storage(source.n * 4, 'dataset labels'), n: source.n };
      this.rt.write(r.data, 0, source.x.subarray(0, source.n * F));
      this.rt.write(r.labels, 0, labels);
      this.resident.set(source.x, r);
    }
    return r;
  }

  /** The compiled step for batches of B samples from `source` (or uploaded), built once. */
  private trainInputs(B: number, source: BatchSourceData | undefined): Promise<TrainInputs> {
    const key = source?.x ?? null;
    let bySize = this.plans.get(key);
    if (!bySize) this.plans.set(key, (bySize = new Map()));
    let p = bySize.get(B);
    if (!p) {
      p = (async () => {
        const slotBytes = idxSlotBytes(B);
        const idx = this.rt.storage(STEP_SLOTS * slotBytes, `idx ${B}`);
        const rows = new Int32Array((STEP_SLOTS * slotBytes) / 4);
        let upload: TrainInputs['upload'];
        let bufs: PlanBuffers;
        if (source) {
          const r = this.residentData(source);
          bufs = this.buffers(r.data, r.labels, idx, slotBytes);
        } else {
          upload = {
            data: this.rt.storage(STEP_SLOTS * B * this.graph.featureSize * 4, `batches ${B}`),
            labels: this.rt.storage(STEP_SLOTS * B * 4, `labels ${B}`),
          };
          // Slot s reads the s-th uploaded batch: rows s·B … s·B + B − 1.
          for (let s = 0; s < STEP_SLOTS; s++) for (let r = 0; r < B; r++) rows[(s * slotBytes) / 4 + r] = s * B + r;
          this.rt.write(idx, 0, rows);
          bufs = this.buffers(upload.data, upload.labels, idx, slotBytes);
        }
        const plan = await StepPlan.build(this.rt, this.graph, this.optimizer, 1, B, bufs, STEP_SLOTS, 'train', this.scratch);
        return { plan, idx, rows, ...(upload ? { upload } : {}) };
      })();
      bySize.set(B, p);
    }
    return p;
  }

  /** The evaluation set kept on the device (the last one used) and its compiled forward passes. */
  private evalInputs(data: EvalData): Promise<StepPlan[]> {
    if (this.evalPlans && this.evalKey === data.x) return this.evalPlans;
    this.evalKey = data.x;
    this.evalPlans = (async () => {
      const n = data.n;
      const r = this.residentData({ x: data.x, y: data.y, n });
      const chunks = Math.ceil(n / EVAL_CHUNK);
      const idx = this.scratch.get(chunks * EVAL_CHUNK, 'eval idx');
      this.rt.write(idx, 0, Int32Array.from({ length: chunks * EVAL_CHUNK }, (_, i) => Math.min(i, n - 1)));
      const bufs = this.buffers(r.data, r.labels, idx, EVAL_CHUNK * 4);
      const full = await StepPlan.build(this.rt, this.graph, this.optimizer, 1, EVAL_CHUNK, bufs, chunks, 'eval', this.scratch);
      const rest = n % EVAL_CHUNK;
      return [full, rest ? await StepPlan.build(this.rt, this.graph, this.optimizer, 1, rest, bufs, chunks, 'eval', this.scratch) : full];
    })();
    return this.evalPlans;
  }

  private checkLabels(labels: ArrayLike<number>, n: number): void {
    const C = this.model.numClasses;
    for (let i = 0; i < n; i++) {
      const v = labels[i];
      if (!(Number.isInteger(v) && v >= 0 && v < C)) throw new InputError(`WebGPU training: label ${v} outside [0, ${C})`);
    }
  }
}
