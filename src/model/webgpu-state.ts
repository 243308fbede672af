/// <reference types="@webgpu/types" />
// What the WebGPU Trainer (one peer) and the WebGPU batched engine (P peers) both hold: the
// compiled model graph, P rows of parameters, gradient and optimizer slots on the device, the
// loss sums, scratch shared by their plans, and datasets copied to the device.
import { GpuRuntime } from '../compute/webgpu/runtime.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import { slotCount } from './optimizer.js';
import { ScratchPool, StepPlan, modelGraph, type ModelGraph, type PlanBuffers } from './webgpu-plan.js';
import { InputError } from '../util/errors.js';

/** A dataset on the device: samples [n, featureSize] and int32 labels. */
export interface DataOnDevice {
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly n: number;
}

/** P peers' model state on the WebGPU device. */
export class DeviceModel {
  readonly rt: GpuRuntime;
  readonly graph: ModelGraph;
  readonly weights: GPUBuffer;
  readonly grad: GPUBuffer;
  /** Optimizer slots, [P, d] each (momentum: m; Adam: m, v). */
  readonly slots: readonly GPUBuffer[];
  /** Adam's step size, one 256-byte slot per step slot. */
  readonly hyper: GPUBuffer;
  /** Loss sums per peer (training) or loss and hits (evaluation). */
  readonly stats: GPUBuffer;
  readonly scratch: ScratchPool;

  /** `what` names the caller in errors; `stepSlots` is how many steps one submit may hold. */
  constructor(
    readonly model: Model,
    readonly optimizer: OptimizerSpec,
    readonly peers: number,
    stepSlots: number,
    what: string,
  ) {
    const graph = modelGraph(model);
    if (typeof graph === 'string') throw new InputError(`${what}: ${graph}`);
    this.graph = graph;
    this.rt = GpuRuntime.fromTfjs();
    this.scratch = new ScratchPool(this.rt);
    const bytes = this.rowBytes * peers;
    // A kernel binds the whole stack; past the adapter's binding limit every bind group would be
    // invalid and the run would compute nothing, so refuse before allocating.
    const limit = this.rt.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      const fit = Math.floor(limit / this.rowBytes);
      throw new InputError(
        `${what}: ${peers} peers × ${this.rowBytes} bytes of parameters is ${bytes} bytes, more than this GPU binds in one storage buffer (${limit}); run at most ${fit} peers per process on this engine, or set engine: per-peer`,
      );
    }
    this.weights = this.rt.storage(bytes, 'weights');
    this.grad = this.rt.storage(bytes, 'grad');
    this.slots = Array.from({ length: slotCount(optimizer) }, (_, i) => this.rt.storage(bytes, `slot${i}`));
    this.hyper = this.rt.storage(stepSlots * 256, 'hyper');
    this.stats = this.rt.storage(Math.max(2, peers) * 4, 'stats');
  }

  /** Bytes of one peer's parameters. */
  get rowBytes(): number {
    return this.graph.dim * 4;
  }

  /** Copies samples and labels to the device; refuses labels outside [0, classes). */
  upload(x: Float32Array, labels: ArrayLike<number>, n: number, label: string): DataOnDevice {
    const F = this.graph.featureSize;
    if (x.length < n * F) throw new InputError(`${label}: ${x.length} values for ${n} rows of ${F}`);
    const limit = this.rt.device.limits.maxStorageBufferBindingSize;
    if (n * F * 4 > limit) {
      throw new InputError(`${label}: ${n} samples × ${F} features is ${n * F * 4} bytes, more than this GPU binds in one storage buffer (${limit}); use at most ${Math.floor(limit / (F * 4))} samples`);
    }
    const y = Int32Array.from({ length: n }, (_, i) => labels[i]);
    this.checkLabels(y, n);
    const d = { data: this.rt.storage(n * F * 4, label), labels: this.rt.storage(n * 4, `${label} labels`), n };
    this.rt.write(d.data, 0, x.subarray(0, n * F));
    this.rt.write(d.labels, 0, y);
    return d;
  }

  /**
   * Compiles the step (or forward pass) for batches of B samples per peer reading `data` through
   * `idx`; its sums go to `stats` (default: this state's; a P-peer evaluation needs 2P floats).
   */
  build(B: number, data: DataOnDevice, idx: GPUBuffer, idxSlotBytes: number, stepSlots: number, mode: 'train' | 'eval', stats: GPUBuffer = this.stats): Promise<StepPlan> {
    const bufs: PlanBuffers = {
      weights: this.weights, grad: this.grad, slots: this.slots, data: data.data, labels: data.labels,
      idx, idxSlotBytes, hyper: this.hyper, stats,
    };
    return StepPlan.build(this.rt, this.graph, this.optimizer, this.peers, B, bufs, stepSlots, mode, this.scratch);
  }

  /** Throws InputError naming the first label outside [0, classes). */
  checkLabels(labels: ArrayLike<number>, n: number): void {
    const C = this.graph.classes;
    for (let i = 0; i < n; i++) {
      const v = labels[i];
      if (!(Number.isInteger(v) && v >= 0 && v < C)) throw new InputError(`WebGPU training: label ${v} outside [0, ${C})`);
    }
  }

  /** Frees the state's buffers and the plans' scratch. */
  destroy(): void {
    for (const b of [this.weights, this.grad, ...this.slots, this.hyper, this.stats]) b.destroy();
    this.scratch.destroy();
  }
}
