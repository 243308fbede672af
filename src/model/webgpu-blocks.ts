/// <reference types="@webgpu/types" />
// A batched WebGPU stack split over several device buffers. A kernel binds a buffer whole, and
// a GPU binds at most maxStorageBufferBindingSize bytes at once (2 GiB on Dawn/Vulkan: about
// 5,275 MLP 784-128-10 peers), so a larger population is held as blocks of peers, each a
// WebGpuStack of its own. Work within a peer (steps, evaluation) runs per block; work across
// peers is composed here:
// - mixing: a block's new rows start as its old rows (or zero) and get one accumulate dispatch
//   per source block that holds some of their neighbours, all in one submit that reads the old
//   rows before any block's rows are replaced;
// - means, merges and consensus: each block's column means and squared deviations come back
//   (2d numbers per block) and are combined in float64 on the host (the parallel-variance sum).
import type { BufferPrep, BufferRange, Dispatch } from '../compute/webgpu/runtime.js';
import { GpuRuntime } from '../compute/webgpu/runtime.js';
import { mixRowsAddKernel } from '../compute/webgpu/stack-ops.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import type { Batch } from './batch.js';
import type { EvalData } from './trainer.js';
import type { RowsEval, RowsSummary, StackMixing } from './batched.js';
import { WebGpuStack } from './webgpu-stack.js';
import { InputError } from '../util/errors.js';

/** One block: its first peer, its peer count and its stack. */
interface Block {
  readonly start: number;
  readonly peers: number;
  readonly stack: WebGpuStack;
}

/** The entries of a mixing product from one source block into one destination block, rows and columns local. */
interface PairCsr {
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
  readonly vals: Float32Array;
}

/** Device copies of one pair's entries, grown to the largest seen. */
interface PairBuffers {
  rowStart: GPUBuffer;
  cols: GPUBuffer;
  vals: GPUBuffer;
  capacity: number;
}

/** How to split P peers into blocks of at most `maxPeers`: as equal as possible (equal blocks share compiled kernels). */
export function blockSizes(peers: number, maxPeers: number): number[] {
  if (!(Number.isInteger(maxPeers) && maxPeers >= 1)) throw new InputError(`batched engine: peers per block must be a positive integer, got ${maxPeers}`);
  const count = Math.ceil(peers / maxPeers);
  const base = Math.floor(peers / count);
  const extra = peers - base * count;
  return Array.from({ length: count }, (_, b) => base + (b < extra ? 1 : 0));
}

/**
 * Splits a mixing product's rows (global row and column indices) into per-(destination, source)
 * block pairs with local indices. Pairs without entries are left out.
 */
export function splitMixing(
  m: Pick<StackMixing, 'rowStart' | 'cols' | 'vals'>,
  starts: readonly number[],
  sizes: readonly number[],
): Map<string, PairCsr> {
  const blockOf = (col: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= col) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const out = new Map<string, PairCsr>();
  for (let a = 0; a < starts.length; a++) {
    const counts = new Map<number, Int32Array>();
    for (let i = 0; i < sizes[a]; i++) {
      const row = starts[a] + i;
      for (let k = m.rowStart[row]; k < m.rowStart[row + 1]; k++) {
        const b = blockOf(m.cols[k]);
        let c = counts.get(b);
        if (!c) counts.set(b, (c = new Int32Array(sizes[a] + 1)));
        c[i + 1]++;
      }
    }
    for (const [b, c] of counts) {
      for (let i = 0; i < sizes[a]; i++) c[i + 1] += c[i];
      const cols = new Int32Array(c[sizes[a]]);
      const vals = new Float32Array(c[sizes[a]]);
      const fill = c.slice(0, sizes[a]);
      for (let i = 0; i < sizes[a]; i++) {
        const row = starts[a] + i;
        for (let k = m.rowStart[row]; k < m.rowStart[row + 1]; k++) {
          if (blockOf(m.cols[k]) !== b) continue;
          cols[fill[i]] = m.cols[k] - starts[b];
          vals[fill[i]] = m.vals[k];
          fill[i]++;
        }
      }
      out.set(`${a},${b}`, { rowStart: c, cols, vals });
    }
  }
  return out;
}

/** P peers' stack as blocks of WebGpuStack, for populations past one storage binding. */
export class WebGpuBlocks {
  private readonly blocks: readonly Block[];
  private readonly dim: number;
  private readonly rt: GpuRuntime;
  private readonly pairs = new Map<string, PairBuffers>();
  private aux: GPUBuffer[] = [];

  constructor(model: Model, optimizer: OptimizerSpec, private readonly peers: number, maxBlockPeers: number) {
    this.dim = model.layout.size;
    this.rt = GpuRuntime.fromTfjs();
    const sizes = blockSizes(peers, maxBlockPeers);
    const blocks: Block[] = [];
    let start = 0;
    try {
      for (const n of sizes) {
        blocks.push({ start, peers: n, stack: new WebGpuStack(model, optimizer, n) });
        start += n;
      }
    } catch (err) {
      for (const b of blocks) b.stack.dispose();
      throw err;
    }
    this.blocks = blocks;
  }

  /** How many blocks the stack is split into. */
  get blockCount(): number {
    return this.blocks.length;
  }

  loadAll(flat: Float32Array): void {
    for (const b of this.blocks) b.stack.loadAll(flat.subarray(b.start * this.dim, (b.start + b.peers) * this.dim));
  }

  async readAll(): Promise<Float32Array> {
    const out = new Float32Array(this.peers * this.dim);
    for (let p = 0; p < this.peers; p++) out.set(await this.readPeer(p), p * this.dim);
    return out;
  }

  loadPeer(peer: number, row: Float32Array): void {
    const b = this.blockOf(peer);
    b.stack.loadPeer(peer - b.start, row);
  }

  readPeer(peer: number): Promise<Float32Array> {
    const b = this.blockOf(peer);
    return b.stack.readPeer(peer - b.start);
  }

  loadSlots(slots: readonly Float32Array[]): void {
    for (const b of this.blocks) b.stack.loadSlots(slots.map((s) => s.subarray(b.start * this.dim, (b.start + b.peers) * this.dim)));
  }

  async readSlots(): Promise<Float32Array[]> {
    let out: Float32Array[] = [];
    for (const b of this.blocks) {
      const slots = await b.stack.readSlots();
      if (!out.length) out = slots.map(() => new Float32Array(this.peers * this.dim));
      slots.forEach((s, i) => out[i].set(s, b.start * this.dim));
    }
    return out;
  }

  setData(x: Float32Array, labels: Int32Array, n: number): void {
    for (const b of this.blocks) b.stack.setData(x, labels, n);
  }

  async stepIndices(idx: Int32Array, t: number): Promise<void> {
    const B = idx.length / this.peers;
    for (const b of this.blocks) await b.stack.stepIndices(idx.subarray(b.start * B, (b.start + b.peers) * B), t);
  }

  async stepBatches(batches: readonly Batch[], t: number): Promise<void> {
    for (const b of this.blocks) await b.stack.stepBatches(batches.slice(b.start, b.start + b.peers), t);
  }

  async takeLossSums(): Promise<Float32Array> {
    const out = new Float32Array(this.peers);
    for (const b of this.blocks) out.set(await b.stack.takeLossSums(), b.start);
    return out;
  }

  /** X ← W·X: each block's rows start at zero and add every source block's share (reference 0). */
  async mix(matrix: Float32Array): Promise<void> {
    const P = this.peers;
    const rowStart = new Int32Array(P + 1);
    for (let i = 0; i < P; i++) {
      let nz = 0;
      for (let j = 0; j < P; j++) if (matrix[i * P + j] !== 0) nz++;
      rowStart[i + 1] = rowStart[i] + nz;
    }
    const cols = new Int32Array(rowStart[P]);
    const vals = new Float32Array(rowStart[P]);
    for (let i = 0, k = 0; i < P; i++) {
      for (let j = 0; j < P; j++) {
        if (matrix[i * P + j] === 0) continue;
        cols[k] = j;
        vals[k++] = matrix[i * P + j];
      }
    }
    await this.mixProduct({ rowStart, cols, vals, scale: 1 }, 'zero');
  }

  /** Row i ← base_i + scale·Σ_k vals[k]·(nbr[cols[k]] − ref_i), as StackMixing says, across blocks. */
  async mixRows(m: StackMixing): Promise<void> {
    await this.mixProduct(m, 'base');
  }

  async mergeRows(rows: Int32Array): Promise<void> {
    const parts = this.split(rows);
    const { mean } = await this.combinedMoments(parts);
    const row = Float32Array.from(mean);
    for (const [b, local] of parts) await b.stack.fillRows(local, row);
  }

  async meanRows(rows: Int32Array): Promise<Float32Array> {
    return Float32Array.from((await this.combinedMoments(this.split(rows))).mean);
  }

  async evaluate(rows: Int32Array, data: EvalData): Promise<RowsEval> {
    const loss = new Float64Array(rows.length);
    const accuracy = new Float64Array(rows.length);
    const at = new Map<number, number[]>();
    rows.forEach((r, j) => {
      const list = at.get(r) ?? [];
      list.push(j);
      at.set(r, list);
    });
    for (const [b, local] of this.split(rows)) {
      const part = await b.stack.evaluate(local, data);
      local.forEach((r, j) => {
        for (const k of at.get(b.start + r)!) {
          loss[k] = part.loss[j];
          accuracy[k] = part.accuracy[j];
        }
      });
    }
    return { loss, accuracy };
  }

  async summarize(rows: Int32Array, data: EvalData | null): Promise<RowsSummary> {
    const { mean, consensus } = await this.combinedMoments(this.split(rows));
    const result = data && data.n > 0 ? await this.blocks[0].stack.evaluateRow(Float32Array.from(mean), data) : null;
    return { consensus, mean: result };
  }

  dispose(): void {
    for (const p of this.pairs.values()) [p.rowStart, p.cols, p.vals].forEach((b) => b.destroy());
    for (const b of this.aux) b.destroy();
    for (const b of this.blocks) b.stack.dispose();
  }

  private blockOf(peer: number): Block {
    for (const b of this.blocks) if (peer < b.start + b.peers) return b;
    throw new InputError(`batched engine: peer ${peer} outside [0, ${this.peers})`);
  }

  /** Rows grouped by block, as local indices, in the order given. */
  private split(rows: Int32Array): Array<[Block, Int32Array]> {
    const out: Array<[Block, Int32Array]> = [];
    for (const b of this.blocks) {
      const local = Array.from(rows).filter((r) => r >= b.start && r < b.start + b.peers).map((r) => r - b.start);
      if (local.length) out.push([b, Int32Array.from(local)]);
    }
    return out;
  }

  /**
   * The mean of the rows over all blocks and their consensus distance (mean ‖x_i − x̄‖²), from
   * each block's column means and squared deviations: Σ_b [Sq_b + n_b·‖mean_b − x̄‖²] / n.
   */
  private async combinedMoments(parts: Array<[Block, Int32Array]>): Promise<{ mean: Float64Array; consensus: number }> {
    const moments = [];
    for (const [b, local] of parts) moments.push({ n: local.length, ...(await b.stack.moments(local)) });
    const n = moments.reduce((s, m) => s + m.n, 0);
    const mean = new Float64Array(this.dim);
    for (const m of moments) for (let c = 0; c < this.dim; c++) mean[c] += (m.n / n) * m.mean[c];
    let total = 0;
    for (const m of moments) {
      for (let c = 0; c < this.dim; c++) {
        const e = m.mean[c] - mean[c];
        total += m.sq[c] + m.n * e * e;
      }
    }
    return { mean, consensus: total / n };
  }

  /**
   * One submit: each block's output buffer starts as its rows ('base') or zero, gets one
   * accumulate dispatch per source block with entries, then replaces the block's rows.
   */
  private async mixProduct(m: StackMixing, start: 'base' | 'zero'): Promise<void> {
    const starts = this.blocks.map((b) => b.start);
    const sizes = this.blocks.map((b) => b.peers);
    const pairs = splitMixing(m, starts, sizes);
    // Neighbours given on the host (decoded copies) go to one device buffer per block.
    const nbr = this.blocks.map((b, i) => {
      if (!m.neighbours) return b.stack.buffers.weights;
      this.aux[i] ??= this.rt.storage(b.peers * this.dim * 4, 'neighbour rows');
      this.rt.write(this.aux[i], 0, m.neighbours.subarray(b.start * this.dim, (b.start + b.peers) * this.dim));
      return this.aux[i];
    });
    const before: BufferPrep[] = [];
    const after = [];
    const dispatches: Dispatch[] = [];
    for (let a = 0; a < this.blocks.length; a++) {
      const { weights, mixed, rowBytes } = this.blocks[a].stack.buffers;
      const bytes = this.blocks[a].peers * rowBytes;
      before.push(start === 'base' ? { from: weights, to: mixed, bytes } : { clear: mixed, bytes });
      after.push({ from: mixed, to: weights, bytes });
      const ref = start === 'zero' ? null : m.reference === 'neighbours' ? nbr[a] : weights;
      for (let b = 0; b < this.blocks.length; b++) {
        const csr = pairs.get(`${a},${b}`);
        if (!csr) continue;
        const bufs = this.pairBuffers(`${a},${b}`, this.blocks[a].peers, csr);
        const k = mixRowsAddKernel(this.blocks[a].peers, this.dim, m.scale, ref !== null);
        const ranges: Record<string, BufferRange> = { Nbr: { buffer: nbr[b] }, RowStart: { buffer: bufs.rowStart }, Cols: { buffer: bufs.cols }, Vals: { buffer: bufs.vals }, Out: { buffer: mixed } };
        if (ref) ranges.Ref = { buffer: ref };
        dispatches.push(await this.blocks[a].stack.dispatchOf(k, ranges));
      }
    }
    this.rt.submit(dispatches, after, before);
  }

  private pairBuffers(key: string, rows: number, csr: PairCsr): PairBuffers {
    const nnz = csr.cols.length;
    let p = this.pairs.get(key);
    if (!p || p.capacity < Math.max(1, nnz)) {
      if (p) [p.rowStart, p.cols, p.vals].forEach((b) => b.destroy());
      const capacity = Math.max(1, nnz, p ? 2 * p.capacity : 0);
      p = { rowStart: this.rt.storage((rows + 1) * 4, 'mix row starts'), cols: this.rt.storage(capacity * 4, 'mix columns'), vals: this.rt.storage(capacity * 4, 'mix weights'), capacity };
      this.pairs.set(key, p);
    }
    this.rt.write(p.rowStart, 0, csr.rowStart);
    if (nnz) {
      this.rt.write(p.cols, 0, csr.cols);
      this.rt.write(p.vals, 0, csr.vals);
    }
    return p;
  }
}
