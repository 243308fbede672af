/// <reference types="@webgpu/types" />
// The Trainer's WebGPU path for the zoo's models: weights, optimizer state and data in GPU
// buffers, each step a compiled plan (./webgpu-plan.ts), steps submitted a few at a time so the
// GPU runs while the host encodes, one readback per call. A peer's train() costs one upload of its weights and
// batches and one download of its weights and optimizer state, as the tfjs path does, but the
// steps in between cost a few native calls per dispatch instead of tfjs's per-op bookkeeping.
import { tf } from '../compute/tf.js';
import type { Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import type { Params } from '../params/index.js';
import type { Model } from './zoo.js';
import { isZooModel } from './zoo.js';
import type { OptimizerSpec, OptimizerState } from './optimizer.js';
import type { Batch, BatchSource, BatchSourceData } from './batch.js';
import { StepPlan, idxSlotBytes, modelGraph } from './webgpu-plan.js';
import { DeviceModel, type DataOnDevice } from './webgpu-state.js';
import { InputError } from '../util/errors.js';
import type { EvalData, EvalResult, TrainResult } from './trainer.js';

/** Step slots: steps in flight between the host's index writes (one chunk of a call). */
const STEP_SLOTS = 32;
/**
 * Steps per submit within a chunk. Encoding a step costs the host about as long as the GPU takes
 * to run a small model's step (H200: MLP batch 32, 48 µs vs 42 µs), so the chunk goes out in
 * small submits and the GPU runs one while the host encodes the next.
 */
const SUBMIT_STEPS = 4;
/** Samples per evaluation dispatch (a multiple of 64, so chunk offsets stay binding-aligned). */
const EVAL_CHUNK = 1024;

/** Why the WebGPU path cannot train this model here (backend not active, or a model it does not implement), or undefined when it can. */
export function webgpuUnsupported(model: Model): string | undefined {
  if (tf.getBackend() !== 'webgpu') return 'they need the webgpu backend to be active';
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

/** One peer's training and evaluation on the WebGPU device (used by Trainer on the webgpu backend). */
export class WebGpuTraining {
  private readonly device: DeviceModel;
  /** Compiled steps by input (a dataset's x, or null for uploads) and batch size. */
  private readonly plans = new Map<Float32Array | null, Map<number, Promise<TrainInputs>>>();
  /** Datasets kept on the device, by their x array (a simulation's peers each keep their shard here). */
  private readonly resident = new Map<Float32Array, DataOnDevice>();
  private evalPlans: Promise<StepPlan[]> | undefined;
  private evalKey: Float32Array | undefined;

  constructor(model: Model, optimizer: OptimizerSpec) {
    this.device = new DeviceModel(model, optimizer, 1, STEP_SLOTS, 'WebGPU training');
  }

  async train(params: Params, state: OptimizerState, next: BatchSource, steps: number): Promise<TrainResult> {
    const { rt, graph, optimizer } = this.device;
    rt.write(this.device.weights, 0, params.data);
    this.device.slots.forEach((b, s) => rt.write(b, 0, state.slots[s]));
    rt.write(this.device.stats, 0, new Float32Array(2));
    const F = graph.featureSize;
    let samples = 0;
    let done = 0;
    let held: Batch | undefined;
    while (done < steps) {
      // One chunk: up to STEP_SLOTS batches of one size from one source, SUBMIT_STEPS per submit.
      const first = held ?? next();
      held = undefined;
      const B = first.size;
      if (!(Number.isInteger(B) && B >= 1)) throw new InputError(`WebGPU training: a batch of ${B} samples`);
      const source = first.source && first.rows ? first.source : undefined;
      const inputs = await this.trainInputs(B, source);
      let dispatches: Dispatch[] = [];
      const slotInts = idxSlotBytes(B) / 4;
      let batch = first;
      let k = 0;
      let sent = 0;
      /** Submits the steps encoded since the last submit, after their indices. */
      const flush = () => {
        if (!inputs.upload) rt.write(inputs.idx, sent * slotInts * 4, inputs.rows.subarray(sent * slotInts, k * slotInts));
        rt.submit(dispatches);
        dispatches = [];
        sent = k;
      };
      for (;;) {
        if (inputs.upload) {
          this.device.checkLabels(batch.labels, B);
          rt.write(inputs.upload.data, k * B * F * 4, batch.x.subarray(0, B * F));
          rt.write(inputs.upload.labels, k * B * 4, batch.labels.subarray(0, B));
        } else {
          // The dataset's labels were checked when it was copied to the device; only the rows are new.
          const rows = batch.rows!.subarray(0, B);
          for (const r of rows) if (!(r >= 0 && r < source!.n)) throw new InputError(`WebGPU training: batch row ${r} outside the dataset [0, ${source!.n})`);
          inputs.rows.set(rows, k * slotInts);
        }
        if (optimizer.kind === 'adam') rt.write(this.device.hyper, k * 256, new Float32Array([adamStepSize(optimizer, state.step + 1)]));
        state.step++;
        dispatches.push(...inputs.plan.step(k));
        samples += B;
        k++;
        done++;
        if (k === STEP_SLOTS || done === steps) break;
        if (k - sent === SUBMIT_STEPS) flush();
        const b = next();
        if (b.size !== B || (b.source && b.rows ? b.source : undefined) !== source) {
          held = b;
          break;
        }
        batch = b;
      }
      flush();
    }
    const [w, lossSum, ...slots] = await rt.read([
      { buffer: this.device.weights, offset: 0, bytes: this.device.rowBytes },
      { buffer: this.device.stats, offset: 0, bytes: 4 },
      ...this.device.slots.map((buffer) => ({ buffer, offset: 0, bytes: this.device.rowBytes })),
    ]);
    params.data.set(w);
    slots.forEach((s, i) => state.slots[i].set(s));
    return { loss: steps ? lossSum[0] / steps : 0, steps, samples };
  }

  async evaluate(params: Params, data: EvalData): Promise<EvalResult> {
    if (data.n === 0) return { loss: 0, accuracy: 0, samples: 0 };
    const { rt } = this.device;
    const plans = await this.evalInputs(data);
    rt.write(this.device.weights, 0, params.data);
    rt.write(this.device.stats, 0, new Float32Array(2));
    const dispatches: Dispatch[] = [];
    for (let c = 0; c * EVAL_CHUNK < data.n; c++) {
      const plan = (c + 1) * EVAL_CHUNK <= data.n ? plans[0] : plans[1];
      dispatches.push(...plan.step(c));
    }
    rt.submit(dispatches);
    const [stats] = await rt.read([{ buffer: this.device.stats, offset: 0, bytes: 8 }]);
    return { loss: stats[0] / data.n, accuracy: stats[1] / data.n, samples: data.n };
  }

  dispose(): void {
    for (const bySize of this.plans.values()) {
      for (const p of bySize.values()) void p.then((t) => [t.idx, t.upload?.data, t.upload?.labels].forEach((b) => b?.destroy()));
    }
    this.plans.clear();
    for (const r of this.resident.values()) [r.data, r.labels].forEach((b) => b.destroy());
    this.resident.clear();
    this.device.destroy();
  }

  /** The dataset on the device (copied on first use and kept). */
  private residentData(source: BatchSourceData): DataOnDevice {
    let r = this.resident.get(source.x);
    if (!r) {
      r = this.device.upload(source.x, source.y, source.n, 'dataset');
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
        const { rt, graph } = this.device;
        const slotBytes = idxSlotBytes(B);
        const idx = rt.storage(STEP_SLOTS * slotBytes, `idx ${B}`);
        const rows = new Int32Array((STEP_SLOTS * slotBytes) / 4);
        if (source) {
          const plan = await this.device.build(B, this.residentData(source), idx, slotBytes, STEP_SLOTS, 'train');
          return { plan, idx, rows };
        }
        const upload = {
          data: rt.storage(STEP_SLOTS * B * graph.featureSize * 4, `batches ${B}`),
          labels: rt.storage(STEP_SLOTS * B * 4, `labels ${B}`),
        };
        // Slot s reads the s-th uploaded batch: rows s·B … s·B + B − 1.
        for (let s = 0; s < STEP_SLOTS; s++) for (let r = 0; r < B; r++) rows[(s * slotBytes) / 4 + r] = s * B + r;
        rt.write(idx, 0, rows);
        const plan = await this.device.build(B, { ...upload, n: STEP_SLOTS * B }, idx, slotBytes, STEP_SLOTS, 'train');
        return { plan, idx, rows, upload };
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
      const idx = this.device.scratch.get(chunks * EVAL_CHUNK, 'eval idx');
      this.device.rt.write(idx, 0, Int32Array.from({ length: chunks * EVAL_CHUNK }, (_, i) => Math.min(i, n - 1)));
      const build = (B: number) => this.device.build(B, r, idx, EVAL_CHUNK * 4, chunks, 'eval');
      const full = await build(EVAL_CHUNK);
      const rest = n % EVAL_CHUNK;
      return [full, rest ? await build(rest) : full];
    })();
    return this.evalPlans;
  }
}
