/// <reference types="@webgpu/types" />
// The batched engine's WebGPU path: P peers' weights as the rows of one [P, d] device buffer,
// each step one compiled plan (./webgpu-plan.ts) for all peers, gossip X ← W·X as one GEMM.
//
// Steps are submitted one at a time and reuse one index slot: the queue runs writes and
// submits in order, so the next step's indices never overwrite ones a running step still reads.
import { GpuRuntime, type BufferRange, type Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import { gemmKernel } from '../compute/webgpu/gemm.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import { slotCount } from './optimizer.js';
import type { Batch } from './batch.js';
import { ScratchPool, StepPlan, idxSlotBytes, modelGraph, type ModelGraph, type PlanBuffers } from './webgpu-plan.js';
import { InputError } from '../util/errors.js';

interface DataOnDevice {
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly n: number;
}

/** P peers' weights, optimizer state and steps on the WebGPU device. */
export class WebGpuStack {
  private readonly rt: GpuRuntime;
  private readonly graph: ModelGraph;
  private readonly weights: GPUBuffer;
  private readonly mixed: GPUBuffer;
  private readonly grad: GPUBuffer;
  private readonly slots: GPUBuffer[];
  private readonly hyper: GPUBuffer;
  private readonly stats: GPUBuffer;
  private idx: GPUBuffer | undefined;
  private readonly scratch: ScratchPool;
  /** setData's dataset, and the peers' own datasets concatenated (stepBatches of dataset rows). */
  private dataset: DataOnDevice | undefined;
  private shards: (DataOnDevice & { readonly keys: readonly Float32Array[]; readonly offsets: Int32Array }) | undefined;
  private readonly plans = new Map<string, Promise<StepPlan>>();
  private mixMatrix: GPUBuffer | undefined;
  private mixDispatch: Promise<Dispatch> | undefined;

  constructor(
    model: Model,
    private readonly optimizer: OptimizerSpec,
    private readonly peers: number,
  ) {
    const graph = modelGraph(model);
    if (typeof graph === 'string') throw new InputError(`batched engine: ${graph}`);
    this.graph = graph;
    this.rt = GpuRuntime.fromTfjs();
    this.scratch = new ScratchPool(this.rt);
    const bytes = peers * graph.dim * 4;
    this.weights = this.rt.storage(bytes, 'stack');
    this.mixed = this.rt.storage(bytes, 'mixed stack');
    this.grad = this.rt.storage(bytes, 'stack grad');
    this.slots = Array.from({ length: Math.max(2, slotCount(optimizer)) }, (_, i) => this.rt.storage(i < slotCount(optimizer) ? bytes : 4, `stack slot${i}`));
    this.hyper = this.rt.storage(256, 'hyper');
    this.stats = this.rt.storage(Math.max(8, peers * 4), 'losses');
  }

  get dim(): number {
    return this.graph.dim;
  }

  loadAll(flat: Float32Array): void {
    this.rt.write(this.weights, 0, flat);
  }

  async readAll(): Promise<Float32Array> {
    const [all] = await this.rt.read([{ buffer: this.weights, offset: 0, bytes: this.peers * this.dim * 4 }]);
    return all;
  }

  loadPeer(peer: number, row: Float32Array): void {
    this.rt.write(this.weights, peer * this.dim * 4, row);
  }

  async readPeer(peer: number): Promise<Float32Array> {
    const [row] = await this.rt.read([{ buffer: this.weights, offset: peer * this.dim * 4, bytes: this.dim * 4 }]);
    return row;
  }

  loadSlots(slots: readonly Float32Array[]): void {
    slots.forEach((s, i) => this.rt.write(this.slots[i], 0, s));
  }

  async readSlots(): Promise<Float32Array[]> {
    const n = slotCount(this.optimizer);
    return this.rt.read(this.slots.slice(0, n).map((buffer) => ({ buffer, offset: 0, bytes: this.peers * this.dim * 4 })));
  }

  setData(x: Float32Array, labels: Int32Array, n: number): void {
    if (this.dataset) [this.dataset.data, this.dataset.labels].forEach((b) => b.destroy());
    this.dataset = this.upload(x, labels, n, 'dataset');
  }

  /** One step for every peer on rows idx of setData's dataset; `t` is the 1-based step number (Adam). */
  async stepIndices(idx: Int32Array, t: number): Promise<void> {
    if (!this.dataset) throw new InputError('batched engine: call setData before stepIndices');
    const B = idx.length / this.peers;
    const plan = await this.plan('dataset', this.dataset, B);
    this.runStep(plan, idx, t);
  }

  /**
   * One step for every peer from its own batch. Batches that are rows of a dataset read a device
   * copy of the peers' datasets (made once); other batches are uploaded into a fresh dataset.
   */
  async stepBatches(batches: readonly Batch[], t: number): Promise<void> {
    const B = batches[0].size;
    const F = this.graph.featureSize;
    if (batches.every((b) => b.source && b.rows)) {
      const shards = this.shardData(batches);
      const idx = new Int32Array(this.peers * B);
      batches.forEach((b, p) => {
        const n = b.source!.n;
        for (let i = 0; i < B; i++) {
          const r = b.rows![i];
          if (!(r >= 0 && r < n)) throw new InputError(`batched engine: batch row ${r} outside its dataset [0, ${n})`);
          idx[p * B + i] = shards.offsets[p] + r;
        }
      });
      this.runStep(await this.plan('shards', shards, B), idx, t);
      return;
    }
    const x = new Float32Array(this.peers * B * F);
    const y = new Int32Array(this.peers * B);
    batches.forEach((b, p) => {
      x.set(b.x.subarray(0, B * F), p * B * F);
      y.set(b.labels.subarray(0, B), p * B);
    });
    this.setData(x, y, this.peers * B);
    this.runStep(await this.plan('dataset', this.dataset!, B), Int32Array.from({ length: this.peers * B }, (_, i) => i), t);
  }

  /** Per-peer sums of mean losses since the last call (then zeroed). */
  async takeLossSums(): Promise<Float32Array> {
    const [sums] = await this.rt.read([{ buffer: this.stats, offset: 0, bytes: this.peers * 4 }]);
    this.rt.write(this.stats, 0, new Float32Array(this.peers));
    return sums;
  }

  /** X ← W·X with W the P×P mixing matrix (row-major). */
  async mix(matrix: Float32Array): Promise<void> {
    const P = this.peers;
    if (!this.mixMatrix) this.mixMatrix = this.rt.storage(P * P * 4, 'mixing matrix');
    this.mixDispatch ??= (async () => {
      const k = gemmKernel({
        name: 'mix', batch: 1, M: P, N: this.dim, K: P,
        a: { transposed: false, offset: 0, batchStride: 0, ld: P },
        b: { transposed: false, offset: 0, batchStride: 0, ld: this.dim },
        out: { offset: 0, batchStride: 0, ld: this.dim },
        epilogue: { kind: 'store' },
      });
      const pipeline = await this.rt.pipeline(k);
      const ranges: Record<string, BufferRange> = { A: { buffer: this.mixMatrix! }, B: { buffer: this.weights }, Out: { buffer: this.mixed } };
      return { pipeline, bindGroup: this.rt.bindGroup(k, pipeline, ranges), grid: k.grid };
    })();
    this.rt.write(this.mixMatrix, 0, matrix);
    this.rt.submit([await this.mixDispatch], [{ from: this.mixed, to: this.weights, bytes: P * this.dim * 4 }]);
  }

  dispose(): void {
    const all = [this.weights, this.mixed, this.grad, ...this.slots, this.hyper, this.stats, this.mixMatrix, this.idx];
    for (const d of [this.dataset, this.shards]) if (d) all.push(d.data, d.labels);
    for (const b of all) b?.destroy();
    this.scratch.destroy();
    this.plans.clear();
  }

  private upload(x: Float32Array, labels: Int32Array, n: number, label: string): DataOnDevice {
    const d = { data: this.rt.storage(n * this.graph.featureSize * 4, label), labels: this.rt.storage(n * 4, `${label} labels`), n };
    this.rt.write(d.data, 0, x.subarray(0, n * this.graph.featureSize));
    this.rt.write(d.labels, 0, labels.subarray(0, n));
    return d;
  }

  /** The peers' datasets concatenated on the device, rebuilt only when a peer's dataset changes. */
  private shardData(batches: readonly Batch[]): NonNullable<WebGpuStack['shards']> {
    const keys = batches.map((b) => b.source!.x);
    if (this.shards && this.shards.keys.every((k, i) => k === keys[i])) return this.shards;
    const F = this.graph.featureSize;
    const offsets = new Int32Array(this.peers);
    let n = 0;
    batches.forEach((b, p) => {
      offsets[p] = n;
      n += b.source!.n;
    });
    const x = new Float32Array(n * F);
    const y = new Int32Array(n);
    batches.forEach((b, p) => {
      const s = b.source!;
      x.set(s.x.subarray(0, s.n * F), offsets[p] * F);
      for (let i = 0; i < s.n; i++) y[offsets[p] + i] = s.y[i];
    });
    if (this.shards) [this.shards.data, this.shards.labels].forEach((b) => b.destroy());
    this.plans.forEach((_, key) => key.startsWith('shards') && this.plans.delete(key));
    this.shards = { ...this.upload(x, y, n, 'peer datasets'), keys, offsets };
    return this.shards;
  }

  private plan(kind: 'dataset' | 'shards', data: DataOnDevice, B: number): Promise<StepPlan> {
    const key = `${kind}:${B}:${data.n}`;
    let p = this.plans.get(key);
    if (!p) {
      const idx = this.ensureIdx(B);
      const bufs: PlanBuffers = {
        weights: this.weights, grad: this.grad, slots: this.slots, data: data.data, labels: data.labels,
        idx, idxSlotBytes: idxSlotBytes(this.peers * B), hyper: this.hyper, stats: this.stats,
      };
      p = StepPlan.build(this.rt, this.graph, this.optimizer, this.peers, B, bufs, 1, 'train', this.scratch);
      this.plans.set(key, p);
    }
    return p;
  }

  /** One index buffer sized for the largest batch seen; plans bound to a smaller one are rebuilt. */
  private ensureIdx(B: number): GPUBuffer {
    const bytes = idxSlotBytes(this.peers * B);
    if (this.idx && this.idx.size >= bytes) return this.idx;
    this.idx?.destroy();
    this.idx = this.rt.storage(bytes, 'idx');
    this.plans.clear();
    return this.idx;
  }

  private runStep(plan: StepPlan, idx: Int32Array, t: number): void {
    this.rt.write(this.idx!, 0, idx);
    if (this.optimizer.kind === 'adam') this.rt.write(this.hyper, 0, new Float32Array([adamStepSize(this.optimizer, t)]));
    this.rt.submit(plan.step(0));
  }
}
