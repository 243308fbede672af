/// <reference types="@webgpu/types" />
// The batched engine's WebGPU path: P peers' weights as the rows of one [P, d] device buffer,
// each step one compiled plan (./webgpu-plan.ts) for all peers, gossip X ← W·X as one GEMM.
//
// Steps are submitted one at a time and reuse one index slot: the queue runs writes and
// submits in order, so the next step's indices never overwrite ones a running step still reads.
import type { BufferRange, Dispatch } from '../compute/webgpu/runtime.js';
import { adamStepSize } from '../compute/webgpu/nn.js';
import { gemmKernel } from '../compute/webgpu/gemm.js';
import { columnMomentsKernel, fillRowsKernel, mergeRowsKernel, mixRowsKernel } from '../compute/webgpu/stack-ops.js';
import type { Kernel } from '../compute/webgpu/wgsl.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import type { Batch } from './batch.js';
import type { EvalData } from './trainer.js';
import type { RowsEval, RowsSummary, StackMixing } from './batched.js';
import { StepPlan, idxSlotBytes } from './webgpu-plan.js';
import { DeviceModel, type DataOnDevice } from './webgpu-state.js';
import { InputError } from '../util/errors.js';

/** Floats of activations one evaluation chunk may hold (peers × samples × widest layer). */
const EVAL_FLOATS = 1 << 26;

/** The compiled evaluation of every peer (and of the mean model) on one test set. */
interface EvalPlans {
  readonly key: Float32Array;
  readonly data: DataOnDevice;
  /** Plans for full chunks and for the last, shorter one (the same plan when n divides). */
  readonly peers: readonly [StepPlan, StepPlan];
  readonly mean: readonly [StepPlan, StepPlan];
  readonly chunk: number;
  readonly chunks: number;
  readonly peerIdx: GPUBuffer;
  readonly meanIdx: GPUBuffer;
}

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
  /** Compressed mixing rows (grown to the largest seen) and the neighbours' rows when they are not the stack. */
  private csr: { rowStart: GPUBuffer; cols: GPUBuffer; vals: GPUBuffer; capacity: number } | undefined;
  private aux: GPUBuffer | undefined;
  private readonly rowLists = new Map<number, GPUBuffer>();
  /** The mean of a set of rows as a one-peer model (its weights buffer is the mean), with its column sums of squares. */
  private meanModel: DeviceModel | undefined;
  private sq: GPUBuffer | undefined;
  private evalPlans: Promise<EvalPlans> | undefined;
  private evalStats: GPUBuffer | undefined;

  constructor(model: Model, optimizer: OptimizerSpec, private readonly peers: number) {
    this.device = new DeviceModel(model, optimizer, peers, 1, 'batched engine');
    this.mixed = this.device.rt.storage(peers * this.device.rowBytes, 'mixed stack');
  }

  /** Gossip by compressed rows (StackMixing): one dispatch over P·d values, then the result replaces the stack. */
  async mixRows(m: StackMixing): Promise<void> {
    const { rt, graph, weights } = this.device;
    const P = this.peers;
    const nnz = m.rowStart[P];
    if (!this.csr || this.csr.capacity < Math.max(1, nnz)) {
      this.csr && [this.csr.rowStart, this.csr.cols, this.csr.vals].forEach((b) => b.destroy());
      const capacity = Math.max(1, nnz, this.csr ? 2 * this.csr.capacity : 0);
      this.csr = { rowStart: rt.storage((P + 1) * 4, 'mix row starts'), cols: rt.storage(capacity * 4, 'mix columns'), vals: rt.storage(capacity * 4, 'mix weights'), capacity };
    }
    rt.write(this.csr.rowStart, 0, m.rowStart);
    if (nnz) {
      rt.write(this.csr.cols, 0, m.cols.subarray(0, nnz));
      rt.write(this.csr.vals, 0, m.vals.subarray(0, nnz));
    }
    let nbr = weights;
    if (m.neighbours) {
      this.aux ??= rt.storage(P * this.device.rowBytes, 'neighbour rows');
      rt.write(this.aux, 0, m.neighbours);
      nbr = this.aux;
    }
    const ref = m.reference === 'neighbours' ? nbr : weights;
    const k = mixRowsKernel(P, graph.dim, m.scale);
    const ranges = { Base: { buffer: weights }, Ref: { buffer: ref }, Nbr: { buffer: nbr }, RowStart: { buffer: this.csr.rowStart }, Cols: { buffer: this.csr.cols }, Vals: { buffer: this.csr.vals }, Out: { buffer: this.mixed } };
    rt.submit([await this.dispatch(k, ranges)], [{ from: this.mixed, to: weights, bytes: P * this.device.rowBytes }]);
  }

  /** Rows `rows` of the stack become their mean, in place. */
  async mergeRows(rows: Int32Array): Promise<void> {
    const { rt, graph, weights } = this.device;
    const k = mergeRowsKernel(graph.dim, rows.length);
    rt.submit([await this.dispatch(k, { X: { buffer: weights }, Rows: { buffer: this.rowList(rows) } })]);
  }

  /** Per-peer test loss and accuracy of rows `rows`: one forward of all P peers per test chunk, 2P numbers read back. */
  async evaluate(rows: Int32Array, data: EvalData): Promise<RowsEval> {
    const plans = await this.evalFor(data);
    const { rt } = this.device;
    const P = this.peers;
    this.evalStats ??= rt.storage(2 * Math.max(2, P) * 4, 'eval stats');
    rt.write(this.evalStats, 0, new Float32Array(2 * Math.max(2, P)));
    const dispatches = [];
    for (let c = 0; c < plans.chunks; c++) dispatches.push(...plans.peers[c + 1 < plans.chunks || data.n % plans.chunk === 0 ? 0 : 1].step(c));
    rt.submit(dispatches);
    const [stats] = await rt.read([{ buffer: this.evalStats, offset: 0, bytes: 2 * P * 4 }]);
    const loss = new Float64Array(rows.length);
    const accuracy = new Float64Array(rows.length);
    // A one-peer plan sums into stats[0..1] exactly as the P-peer one does for peer 0.
    rows.forEach((r, j) => {
      loss[j] = stats[2 * r] / data.n;
      accuracy[j] = stats[2 * r + 1] / data.n;
    });
    return { loss, accuracy };
  }

  /** The device buffers a split stack (./webgpu-blocks.ts) reads and writes across blocks. */
  get buffers(): { readonly weights: GPUBuffer; readonly mixed: GPUBuffer; readonly rowBytes: number } {
    return { weights: this.device.weights, mixed: this.mixed, rowBytes: this.device.rowBytes };
  }

  /** A dispatch of a kernel over these buffers, for a split stack's cross-block products. */
  dispatchOf(k: Kernel, ranges: Record<string, BufferRange>): Promise<Dispatch> {
    return this.dispatch(k, ranges);
  }

  /** Column means and column sums of squared deviations of rows `rows`: 2d numbers read back. */
  async moments(rows: Int32Array): Promise<{ readonly mean: Float32Array; readonly sq: Float32Array }> {
    const { rt, graph, weights } = this.device;
    const mean = this.meanDevice();
    this.sq ??= rt.storage(this.device.rowBytes, 'column squares');
    const k = columnMomentsKernel(graph.dim, rows.length);
    rt.submit([await this.dispatch(k, { X: { buffer: weights }, Rows: { buffer: this.rowList(rows) }, Mean: { buffer: mean.weights }, Sq: { buffer: this.sq } })]);
    const [m, sq] = await rt.read([
      { buffer: mean.weights, offset: 0, bytes: this.device.rowBytes },
      { buffer: this.sq, offset: 0, bytes: this.device.rowBytes },
    ]);
    return { mean: m, sq };
  }

  /** Rows `rows` of the stack become `row` (one upload of d values, one dispatch). */
  async fillRows(rows: Int32Array, row: Float32Array): Promise<void> {
    const { rt, graph, weights } = this.device;
    const src = this.meanDevice().weights;
    rt.write(src, 0, row);
    rt.submit([await this.dispatch(fillRowsKernel(graph.dim, rows.length), { X: { buffer: weights }, Rows: { buffer: this.rowList(rows) }, Src: { buffer: src } })]);
  }

  /** Test loss and accuracy of one model given as a row (not a row of the stack). */
  async evaluateRow(row: Float32Array, data: EvalData): Promise<{ loss: number; accuracy: number; samples: number }> {
    const { rt } = this.device;
    const mean = this.meanDevice();
    const plans = await this.evalFor(data);
    rt.write(mean.weights, 0, row);
    rt.write(mean.stats, 0, new Float32Array(2));
    const dispatches = [];
    for (let c = 0; c < plans.chunks; c++) dispatches.push(...plans.mean[c + 1 < plans.chunks || data.n % plans.chunk === 0 ? 0 : 1].step(c));
    rt.submit(dispatches);
    const [stats] = await rt.read([{ buffer: mean.stats, offset: 0, bytes: 8 }]);
    return { loss: stats[0] / data.n, accuracy: stats[1] / data.n, samples: data.n };
  }

  /** Consensus distance of rows `rows` and, with data, the loss and accuracy of their mean: d + 2 numbers read back. */
  async summarize(rows: Int32Array, data: EvalData | null): Promise<RowsSummary> {
    const { rt, graph, weights } = this.device;
    const mean = this.meanDevice();
    this.sq ??= rt.storage(this.device.rowBytes, 'column squares');
    const k = columnMomentsKernel(graph.dim, rows.length);
    rt.submit([await this.dispatch(k, { X: { buffer: weights }, Rows: { buffer: this.rowList(rows) }, Mean: { buffer: mean.weights }, Sq: { buffer: this.sq } })]);
    let result: RowsSummary['mean'] = null;
    if (data && data.n > 0) {
      const plans = await this.evalFor(data);
      rt.write(mean.stats, 0, new Float32Array(2));
      const dispatches = [];
      for (let c = 0; c < plans.chunks; c++) dispatches.push(...plans.mean[c + 1 < plans.chunks || data.n % plans.chunk === 0 ? 0 : 1].step(c));
      rt.submit(dispatches);
    }
    const [sq, stats] = await rt.read([
      { buffer: this.sq, offset: 0, bytes: this.device.rowBytes },
      { buffer: mean.stats, offset: 0, bytes: 8 },
    ]);
    let total = 0;
    for (let c = 0; c < sq.length; c++) total += sq[c];
    if (data && data.n > 0) result = { loss: stats[0] / data.n, accuracy: stats[1] / data.n, samples: data.n };
    return { consensus: total / rows.length, mean: result };
  }

  /** The mean of rows `rows`, as one row: the consensus kernel's mean, d numbers read back. */
  async meanRows(rows: Int32Array): Promise<Float32Array> {
    const { rt, graph, weights } = this.device;
    const mean = this.meanDevice();
    this.sq ??= rt.storage(this.device.rowBytes, 'column squares');
    const k = columnMomentsKernel(graph.dim, rows.length);
    rt.submit([await this.dispatch(k, { X: { buffer: weights }, Rows: { buffer: this.rowList(rows) }, Mean: { buffer: mean.weights }, Sq: { buffer: this.sq } })]);
    const [row] = await rt.read([{ buffer: mean.weights, offset: 0, bytes: this.device.rowBytes }]);
    return row;
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
    for (const b of [this.mixed, this.mixMatrix, this.idx, this.aux, this.sq, this.evalStats, ...this.rowLists.values()]) b?.destroy();
    if (this.csr) [this.csr.rowStart, this.csr.cols, this.csr.vals].forEach((b) => b.destroy());
    void this.evalPlans?.then((e) => [e.data.data, e.data.labels, e.peerIdx, e.meanIdx].forEach((b) => b.destroy()));
    this.meanModel?.destroy();
    this.device.destroy();
    this.plans.clear();
  }

  /** One dispatch of a kernel over these buffers (pipelines are cached by their code; the bind group is cheap). */
  private async dispatch(k: Kernel, ranges: Record<string, BufferRange>): Promise<Dispatch> {
    const pipeline = await this.device.rt.pipeline(k);
    return { pipeline, bindGroup: this.device.rt.bindGroup(k, pipeline, ranges), grid: k.grid };
  }

  /** A device copy of a list of row indices (one buffer per list length, rewritten each call). */
  private rowList(rows: Int32Array): GPUBuffer {
    let b = this.rowLists.get(rows.length);
    if (!b) this.rowLists.set(rows.length, (b = this.device.rt.storage(Math.max(1, rows.length) * 4, 'row list')));
    this.device.rt.write(b, 0, rows);
    return b;
  }

  private meanDevice(): DeviceModel {
    this.meanModel ??= new DeviceModel(this.device.model, this.device.optimizer, 1, 1, 'mean model');
    return this.meanModel;
  }

  /**
   * The test set on the device and the compiled forward passes over it, for all P peers and for
   * the mean model, in chunks of samples small enough for P peers' activations.
   */
  private evalFor(data: EvalData): Promise<EvalPlans> {
    const cached = this.evalPlans;
    if (cached) return cached.then((e) => (e.key === data.x ? e : this.buildEval(data, e)));
    return (this.evalPlans = this.buildEval(data));
  }

  private buildEval(data: EvalData, old?: EvalPlans): Promise<EvalPlans> {
    if (old) [old.data.data, old.data.labels, old.peerIdx, old.meanIdx].forEach((b) => b.destroy());
    this.evalPlans = (async () => {
      const { rt, graph } = this.device;
      const P = this.peers;
      const n = data.n;
      const widest = Math.max(graph.classes + 2, ...graph.dense.map((l) => l.outWidth), ...graph.convs.map((c) => c.inShape[0] * c.inShape[1] * c.outChannels));
      const chunk = Math.max(1, Math.min(n, 1024, Math.floor(EVAL_FLOATS / (P * widest))));
      const chunks = Math.ceil(n / chunk);
      const testData = this.device.upload(data.x, data.y, n, 'test set');
      // Slot c: every peer reads samples c·chunk … (clamped to the last sample in the short chunk).
      const slot = idxSlotBytes(P * chunk);
      const peerIdx = rt.storage(chunks * slot, 'eval idx');
      const meanSlot = idxSlotBytes(chunk);
      const meanIdx = rt.storage(chunks * meanSlot, 'mean eval idx');
      const all = new Int32Array((chunks * slot) / 4);
      const one = new Int32Array((chunks * meanSlot) / 4);
      for (let c = 0; c < chunks; c++) {
        const size = Math.min(chunk, n - c * chunk);
        for (let b = 0; b < size; b++) {
          one[(c * meanSlot) / 4 + b] = c * chunk + b;
          for (let p = 0; p < P; p++) all[(c * slot) / 4 + p * size + b] = c * chunk + b;
        }
      }
      rt.write(peerIdx, 0, all);
      rt.write(meanIdx, 0, one);
      this.evalStats ??= rt.storage(2 * Math.max(2, P) * 4, 'eval stats');
      const mean = this.meanDevice();
      const rest = n % chunk;
      const build = (B: number) =>
        Promise.all([this.device.build(B, testData, peerIdx, slot, chunks, 'eval', this.evalStats), mean.build(B, testData, meanIdx, meanSlot, chunks, 'eval')]);
      const full = await build(chunk);
      const last = rest ? await build(rest) : full;
      return { key: data.x, data: testData, peers: [full[0], last[0]], mean: [full[1], last[1]], chunk, chunks, peerIdx, meanIdx };
    })();
    return this.evalPlans;
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
