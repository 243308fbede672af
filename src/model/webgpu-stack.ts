/// <reference types="@webgpu/types" />
// The batched engine's WebGPU path: P peers' weights as the rows of one [P, d] device buffer,
// each step one compiled plan (./webgpu-plan.ts) for all peers, gossip X ← W·X as one GEMM.
//
// Steps are submitted one at a time and reuse one index slot: the queue runs writes and
// submits in order, so the next step's indices never overwrite ones a running step still reads.
import type { BufferRange, Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import { gemmKernel } from '../compute/webgpu/gemm.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import type { Batch } from './batch.js';
import { StepPlan, idxSlotBytes } from './webgpu-plan.js';
import { DeviceModel, type DataOnDevice } from './webgpu-state.js';
import { InputError } from '../util/errors.js';

/** Where a step's samples come from. */
type Source = 'dataset' | 'shards' | 'uploaded';

/** P peers' weights, optimizer state and steps on the WebGPU device. */
export class WebGpuStack {
  private readonly device: DeviceModel;
  private readonly mixed: GPUBuffer;
  private idx: GPUBuffer | undefined;
  /** setData's dataset; the peers' own datasets concatenated; the last plain batches uploaded. */
  private readonly data = new Map<Source, DataOnDevice>();
  private shardKeys: readonly Float32Array[] = [];
  private shardOffsets = new Int32Array(0);
  private readonly plans = new Map<string, Promise<StepPlan>>();
  private mixMatrix: GPUBuffer | undefined;
  private mixDispatch: Promise<Dispatch> | undefined;

  constructor(model: Model, optimizer: OptimizerSpec, private readonly peers: number) {
    this.device = new DeviceModel(model, optimizer, peers, 1, 'batched engine');
    this.mixed = this.device.rt.storage(peers * this.device.rowBytes, 'mixed stack');
  }

  loadAll(flat: Float32Array): void {
    this.device.rt.write(this.device.weights, 0, flat);
  }

  async readAll(): Promise<Float32Array> {
    const [all] = await this.device.rt.read([{ buffer: this.device.weights, offset: 0, bytes: this.peers * this.device.rowBytes }]);
    return all;
  }

  loadPeer(peer: number, row: Float32Array): void {
    this.device.rt.write(this.device.weights, peer * this.device.rowBytes, row);
  }

  async readPeer(peer: number): Promise<Float32Array> {
    const [row] = await this.device.rt.read([{ buffer: this.device.weights, offset: peer * this.device.rowBytes, bytes: this.device.rowBytes }]);
    return row;
  }

  loadSlots(slots: readonly Float32Array[]): void {
    slots.forEach((s, i) => this.device.rt.write(this.device.slots[i], 0, s));
  }

  async readSlots(): Promise<Float32Array[]> {
    return this.device.rt.read(this.device.slots.map((buffer) => ({ buffer, offset: 0, bytes: this.peers * this.device.rowBytes })));
  }

  setData(x: Float32Array, labels: Int32Array, n: number): void {
    this.replaceData('dataset', this.device.upload(x, labels, n, 'dataset'));
  }

  /** One step for every peer on rows idx of setData's dataset; `t` is the 1-based step number (Adam). */
  async stepIndices(idx: Int32Array, t: number): Promise<void> {
    if (!this.data.has('dataset')) throw new InputError('batched engine: call setData before stepIndices');
    this.runStep(await this.plan('dataset', idx.length / this.peers), idx, t);
  }

  /**
   * One step for every peer from its own batch. Batches that are rows of a dataset read a device
   * copy of the peers' datasets (made once); other batches are uploaded, into buffers kept for
   * their size.
   */
  async stepBatches(batches: readonly Batch[], t: number): Promise<void> {
    const B = batches[0].size;
    const P = this.peers;
    if (batches.every((b) => b.source && b.rows)) {
      this.shardData(batches);
      const idx = new Int32Array(P * B);
      batches.forEach((b, p) => {
        const n = b.source!.n;
        for (let i = 0; i < B; i++) {
          const r = b.rows![i];
          if (!(r >= 0 && r < n)) throw new InputError(`batched engine: batch row ${r} outside its dataset [0, ${n})`);
          idx[p * B + i] = this.shardOffsets[p] + r;
        }
      });
      this.runStep(await this.plan('shards', B), idx, t);
      return;
    }
    const F = this.device.graph.featureSize;
    let up = this.data.get('uploaded');
    if (up?.n !== P * B) {
      const rt = this.device.rt;
      up = { data: rt.storage(P * B * F * 4, 'batches'), labels: rt.storage(P * B * 4, 'batch labels'), n: P * B };
      this.replaceData('uploaded', up);
    }
    batches.forEach((b, p) => {
      this.device.rt.write(up.data, p * B * F * 4, b.x.subarray(0, B * F));
      this.device.rt.write(up.labels, p * B * 4, b.labels.subarray(0, B));
    });
    this.runStep(await this.plan('uploaded', B), Int32Array.from({ length: P * B }, (_, i) => i), t);
  }

  /** Per-peer sums of mean losses since the last call (then zeroed). */
  async takeLossSums(): Promise<Float32Array> {
    const [sums] = await this.device.rt.read([{ buffer: this.device.stats, offset: 0, bytes: this.peers * 4 }]);
    this.device.rt.write(this.device.stats, 0, new Float32Array(this.peers));
    return sums;
  }

  /** X ← W·X with W the P×P mixing matrix (row-major). */
  async mix(matrix: Float32Array): Promise<void> {
    const P = this.peers;
    const { rt, graph, weights } = this.device;
    this.mixMatrix ??= rt.storage(P * P * 4, 'mixing matrix');
    const mixMatrix = this.mixMatrix;
    this.mixDispatch ??= (async () => {
      const k = gemmKernel({
        name: 'mix', batch: 1, M: P, N: graph.dim, K: P,
        a: { transposed: false, offset: 0, batchStride: 0, ld: P },
        b: { transposed: false, offset: 0, batchStride: 0, ld: graph.dim },
        out: { offset: 0, batchStride: 0, ld: graph.dim },
        epilogue: { kind: 'store' },
      });
      const pipeline = await rt.pipeline(k);
      const ranges: Record<string, BufferRange> = { A: { buffer: mixMatrix }, B: { buffer: weights }, Out: { buffer: this.mixed } };
      return { pipeline, bindGroup: rt.bindGroup(k, pipeline, ranges), grid: k.grid };
    })();
    rt.write(mixMatrix, 0, matrix);
    rt.submit([await this.mixDispatch], [{ from: this.mixed, to: weights, bytes: P * this.device.rowBytes }]);
  }

  dispose(): void {
    for (const d of this.data.values()) [d.data, d.labels].forEach((b) => b.destroy());
    for (const b of [this.mixed, this.mixMatrix, this.idx]) b?.destroy();
    this.device.destroy();
    this.plans.clear();
  }

  /** Installs a dataset for a source; the plans bound to the one it replaces go with it. */
  private replaceData(source: Source, next: DataOnDevice): void {
    const old = this.data.get(source);
    if (old) [old.data, old.labels].forEach((b) => b.destroy());
    this.data.set(source, next);
    for (const key of [...this.plans.keys()]) if (key.startsWith(`${source}:`)) this.plans.delete(key);
  }

  /** The peers' datasets concatenated on the device, rebuilt only when a peer's dataset changes. */
  private shardData(batches: readonly Batch[]): void {
    const keys = batches.map((b) => b.source!.x);
    if (this.data.has('shards') && this.shardKeys.every((k, i) => k === keys[i])) return;
    const F = this.device.graph.featureSize;
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
    this.replaceData('shards', this.device.upload(x, y, n, 'peer datasets'));
    this.shardKeys = keys;
    this.shardOffsets = offsets;
  }

  /** The compiled step reading `source` with batches of B per peer (built once per source and size). */
  private plan(source: Source, B: number): Promise<StepPlan> {
    const key = `${source}:${B}`;
    let p = this.plans.get(key);
    if (!p) {
      const idx = this.ensureIdx(B);
      p = this.device.build(B, this.data.get(source)!, idx, idxSlotBytes(this.peers * B), 1, 'train');
      this.plans.set(key, p);
    }
    return p;
  }

  /** One index buffer sized for the largest batch seen; plans bound to a smaller one are rebuilt. */
  private ensureIdx(B: number): GPUBuffer {
    const bytes = idxSlotBytes(this.peers * B);
    if (this.idx && this.idx.size >= bytes) return this.idx;
    this.idx?.destroy();
    this.idx = this.device.rt.storage(bytes, 'idx');
    this.plans.clear();
    return this.idx;
  }

  private runStep(plan: StepPlan, idx: Int32Array, t: number): void {
    const { rt, optimizer } = this.device;
    rt.write(this.idx!, 0, idx);
    if (optimizer.kind === 'adam') rt.write(this.device.hyper, 0, new Float32Array([adamStepSize(optimizer, t)]));
    rt.submit(plan.step(0));
  }
}
