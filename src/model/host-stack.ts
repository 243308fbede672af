// The batched engine's stack on the CPU backends (wasm, cpu) for dense models (logistic
// regression, MLPs): every peer's weights and optimizer slots as rows of plain Float32Arrays,
// a step as one pass over the peers. tfjs on wasm runs a batched [P, B, k]·[P, k, n] product, a
// gather and a slice of the stack far below its 2-D speed (measured at P = 64, MLP 784-128-10:
// 540 ms per batched product, 160 ms per gather of 2,048 rows), so the stack goes round them:
// a batch is copied from the training set's rows, slices are subarrays, a layer's forward
// product is one 2-D tfjs product on wasm (XNNPACK), and the kernel gradient hᵀ·g (inner size
// B, a shape tfjs-wasm runs 30× slower than the forward one) is a loop over four samples at a
// time. Same formulas as the Trainer (mean cross-entropy of the peer's batch; SGD, momentum,
// Adam, weight decay); float32 storage.
import { tf } from '../compute/tf.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';
import { slotCount } from './optimizer.js';
import type { Batch } from './batch.js';
import type { EvalData } from './trainer.js';
import type { RowsEval, RowsSummary, StackMixing } from './batched.js';

/** One dense layer's place in a row: kernel [inWidth, outWidth] then bias [outWidth]. */
export interface DenseLayer {
  readonly inWidth: number;
  readonly outWidth: number;
  readonly kernelOffset: number;
  readonly biasOffset: number;
}

/** Where a peer's batch comes from: B samples of f features and their labels. */
interface BatchSource {
  readonly x: Float32Array;
  /** Row offsets (in samples) of the B samples in x. */
  readonly rows: ArrayLike<number>;
  readonly rowsStart: number;
  readonly labelAt: (b: number) => number;
}

/** Kernel size (inWidth·outWidth) from which a layer's products go through tfjs on wasm. */
const PRODUCT_SIZE = 8192;

/** Samples of an evaluation set evaluated per pass (activations stay small). */
const EVAL_CHUNK = 256;

export class HostStack {
  private readonly dim: number;
  private weights: Float32Array;
  /** The mixing's output rows, swapped with `weights` after each mix (no P×d allocation per step). */
  private spare: Float32Array | undefined;
  private readonly slots: Float32Array[];
  private readonly lossSums: Float64Array;
  private dataX: Float32Array | undefined;
  private dataY: Int32Array | undefined;
  private readonly featureSize: number;
  private readonly classes: number;
  /** Scratch: activations per layer (input excluded) and their gradients, for B samples. */
  private acts: Float32Array[] = [];
  private grads: Float32Array[] = [];
  /** Scratch: the samples' inputs as contiguous rows, and a transposed layer input. */
  private input = new Float32Array(0);
  private transposed = new Float32Array(0);
  /** Whether the big layer products go through tfjs (XNNPACK on wasm) rather than scalar loops. */
  private readonly useProducts = tf.getBackend() === 'wasm';
  private readonly gradient: Float32Array;

  constructor(
    model: Model,
    private readonly optimizer: OptimizerSpec,
    private readonly peers: number,
    private readonly layers: readonly DenseLayer[],
  ) {
    this.dim = model.layout.size;
    this.featureSize = layers[0].inWidth;
    this.classes = layers[layers.length - 1].outWidth;
    this.weights = new Float32Array(peers * this.dim);
    this.slots = Array.from({ length: slotCount(optimizer) }, () => new Float32Array(peers * this.dim));
    this.lossSums = new Float64Array(peers);
    this.gradient = new Float32Array(this.dim);
  }

  loadAll(flat: Float32Array): void {
    this.weights.set(flat);
  }

  async readAll(): Promise<Float32Array> {
    return this.weights.slice();
  }

  loadPeer(peer: number, row: Float32Array): void {
    this.weights.set(row, peer * this.dim);
  }

  async readPeer(peer: number): Promise<Float32Array> {
    return this.weights.slice(peer * this.dim, (peer + 1) * this.dim);
  }

  loadSlots(slots: readonly Float32Array[]): void {
    slots.forEach((s, i) => this.slots[i].set(s));
  }

  async readSlots(): Promise<Float32Array[]> {
    return this.slots.map((s) => s.slice());
  }

  /** Keeps references to the training set (no copy): steps read their rows from it. */
  setData(x: Float32Array, labels: Int32Array, _n: number): void {
    this.dataX = x;
    this.dataY = labels;
  }

  /** One step of every peer; peer p's batch is rows idx[p·B … p·B + B) of the data. */
  async stepIndices(idx: Int32Array, t: number): Promise<void> {
    const B = idx.length / this.peers;
    const x = this.dataX!;
    const y = this.dataY!;
    for (let p = 0; p < this.peers; p++) {
      this.stepPeer(p, t, { x, rows: idx, rowsStart: p * B, labelAt: (b) => y[idx[p * B + b]] }, B);
    }
  }

  /** One step of every peer from plain batches (one each, all of size B). */
  async stepBatches(batches: readonly Batch[], t: number): Promise<void> {
    const B = batches[0].size;
    const rows = Int32Array.from({ length: B }, (_, b) => b);
    batches.forEach((batch, p) => this.stepPeer(p, t, { x: batch.x, rows, rowsStart: 0, labelAt: (b) => batch.labels[b] }, B));
  }

  async takeLossSums(): Promise<Float32Array> {
    const out = Float32Array.from(this.lossSums);
    this.lossSums.fill(0);
    return out;
  }

  /** X ← W·X (W dense, P×P row-major). */
  async mix(matrix: Float32Array): Promise<void> {
    const P = this.peers;
    const d = this.dim;
    const next = this.spareRows();
    next.fill(0);
    for (let i = 0; i < P; i++) {
      const out = next.subarray(i * d, (i + 1) * d);
      for (let j = 0; j < P; j++) {
        const w = matrix[i * P + j];
        if (w !== 0) axpy(out, w, this.weights, j * d);
      }
    }
    this.swap();
  }

  /** Row i ← base_i + scale·Σ_k vals[k]·(nbr[cols[k]] − ref_i) (see StackMixing). */
  async mixRows(m: StackMixing): Promise<void> {
    const P = this.peers;
    const d = this.dim;
    const nbr = m.neighbours ?? this.weights;
    const ref = m.reference === 'neighbours' ? nbr : this.weights;
    const next = this.spareRows();
    const acc = new Float32Array(d);
    for (let i = 0; i < P; i++) {
      const start = m.rowStart[i];
      const end = m.rowStart[i + 1];
      const out = next.subarray(i * d, (i + 1) * d);
      out.set(this.weights.subarray(i * d, (i + 1) * d));
      if (start === end) continue;
      acc.fill(0);
      let rowSum = 0;
      for (let k = start; k < end; k++) {
        axpy(acc, m.vals[k], nbr, m.cols[k] * d);
        rowSum += m.vals[k];
      }
      const r = i * d;
      const s = m.scale;
      for (let c = 0; c < d; c++) out[c] += s * (acc[c] - rowSum * ref[r + c]);
    }
    this.swap();
  }

  /** Rows `rows` become their mean. */
  async mergeRows(rows: Int32Array): Promise<void> {
    if (rows.length === 0) return;
    const mean = this.meanOf(rows);
    for (const r of rows) this.weights.set(mean, r * this.dim);
  }

  /** Per-row test loss and accuracy of rows `rows`. */
  async evaluate(rows: Int32Array, data: EvalData): Promise<RowsEval> {
    const loss = new Float64Array(rows.length);
    const accuracy = new Float64Array(rows.length);
    rows.forEach((r, j) => {
      const e = this.evaluateRow(this.weights, r * this.dim, data);
      loss[j] = e.loss;
      accuracy[j] = e.accuracy;
    });
    return { loss, accuracy };
  }

  /** Consensus distance of rows `rows` (mean ‖x_i − x̄‖²) and, with data, the mean model's loss and accuracy. */
  async summarize(rows: Int32Array, data: EvalData | null): Promise<RowsSummary> {
    const mean = this.meanOf(rows);
    const d = this.dim;
    let spread = 0;
    for (const r of rows) {
      const o = r * d;
      for (let c = 0; c < d; c++) {
        const e = this.weights[o + c] - mean[c];
        spread += e * e;
      }
    }
    const e = data && data.n > 0 ? this.evaluateRow(mean, 0, data) : null;
    return { consensus: spread / rows.length, mean: e ? { loss: e.loss, accuracy: e.accuracy, samples: data!.n } : null };
  }

  dispose(): void {
    this.spare = undefined;
    this.acts = [];
    this.grads = [];
  }

  private spareRows(): Float32Array {
    this.spare ??= new Float32Array(this.weights.length);
    return this.spare;
  }

  private swap(): void {
    const w = this.weights;
    this.weights = this.spare!;
    this.spare = w;
  }

  /** The mean of rows `rows`, as one row. */
  async meanRows(rows: Int32Array): Promise<Float32Array> {
    return this.meanOf(rows);
  }

  private meanOf(rows: Int32Array): Float32Array {
    const d = this.dim;
    const sum = new Float64Array(d);
    for (const r of rows) {
      const o = r * d;
      for (let c = 0; c < d; c++) sum[c] += this.weights[o + c];
    }
    return Float32Array.from(sum, (s) => s / rows.length);
  }

  /** Scratch buffers for n samples' activations and their gradients. */
  private scratch(n: number): void {
    if (this.acts.length && this.acts[0].length >= n * this.layers[0].outWidth) return;
    this.acts = this.layers.map((l) => new Float32Array(n * l.outWidth));
    this.grads = this.layers.map((l) => new Float32Array(n * l.outWidth));
    this.input = new Float32Array(n * this.featureSize);
    this.transposed = new Float32Array(n * Math.max(...this.layers.map((l) => l.inWidth)));
  }

  /** Forward of samples s … s + n − 1 of `src` through the row at `w[o …]`; logits in acts[last]. */
  private forward(w: Float32Array, o: number, x: Float32Array, rows: ArrayLike<number>, rowsStart: number, n: number): void {
    const L = this.layers.length;
    const f = this.featureSize;
    // The samples as contiguous rows (the batch's rows of the training set, or an evaluation chunk).
    const input = this.input;
    for (let b = 0; b < n; b++) input.set(x.subarray(rows[rowsStart + b] * f, (rows[rowsStart + b] + 1) * f), b * f);
    for (let l = 0; l < L; l++) {
      const { inWidth, outWidth, kernelOffset, biasOffset } = this.layers[l];
      const out = this.acts[l];
      const h = l === 0 ? input : this.acts[l - 1];
      const kernel = w.subarray(o + kernelOffset, o + kernelOffset + inWidth * outWidth);
      if (this.useProducts && inWidth * outWidth >= PRODUCT_SIZE) out.set(product(h.subarray(0, n * inWidth), n, inWidth, kernel, outWidth));
      else {
        out.fill(0, 0, n * outWidth);
        for (let b = 0; b < n; b++) addOuter(out, b * outWidth, h, b * inWidth, inWidth, kernel, 0, outWidth);
      }
      for (let b = 0; b < n; b++) {
        const at = b * outWidth;
        for (let j = 0; j < outWidth; j++) out[at + j] += w[o + biasOffset + j];
        if (l + 1 < L) for (let j = 0; j < outWidth; j++) if (out[at + j] < 0) out[at + j] = 0;
      }
    }
  }

  /** One optimizer step of peer p on its batch; adds the batch's mean loss to its sum. */
  private stepPeer(p: number, t: number, src: BatchSource, B: number): void {
    this.scratch(B);
    const d = this.dim;
    const o = p * d;
    const w = this.weights;
    const L = this.layers.length;
    const C = this.classes;
    this.forward(w, o, src.x, src.rows, src.rowsStart, B);
    // Softmax cross-entropy: g = (softmax − onehot) / B.
    const logits = this.acts[L - 1];
    const g = this.grads[L - 1];
    let loss = 0;
    for (let b = 0; b < B; b++) {
      const at = b * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, logits[at + c]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[at + c] - max);
      const logSum = max + Math.log(sum);
      const label = src.labelAt(b);
      loss -= logits[at + label] - logSum;
      for (let c = 0; c < C; c++) g[at + c] = (Math.exp(logits[at + c] - logSum) - (c === label ? 1 : 0)) / B;
    }
    this.lossSums[p] += loss / B;
    const grad = this.gradient;
    grad.fill(0);
    for (let l = L - 1; l >= 0; l--) {
      const { inWidth, outWidth, kernelOffset, biasOffset } = this.layers[l];
      const gl = this.grads[l];
      const input = l === 0 ? this.input : this.acts[l - 1];
      for (let b = 0; b < B; b++) for (let j = 0; j < outWidth; j++) grad[biasOffset + j] += gl[b * outWidth + j];
      // hᵀ·g from h transposed (tfjs's product of this shape, inner size B, is slow on wasm).
      const hT = this.transposed;
      for (let b = 0; b < B; b++) for (let i = 0; i < inWidth; i++) hT[i * B + b] = input[b * inWidth + i];
      addTransposedProduct(grad, kernelOffset, hT, inWidth, B, gl, outWidth);
      if (l === 0) break;
      // g_{l−1} = (g_l · K_lᵀ) ⊙ [h_{l−1} > 0]
      const prev = this.grads[l - 1];
      const h = this.acts[l - 1];
      for (let b = 0; b < B; b++) {
        const gAt = b * outWidth;
        for (let i = 0; i < inWidth; i++) {
          const at = b * inWidth + i;
          if (h[at] <= 0) {
            prev[at] = 0;
            continue;
          }
          const k = o + kernelOffset + i * outWidth;
          let s = 0;
          for (let j = 0; j < outWidth; j++) s += gl[gAt + j] * w[k + j];
          prev[at] = s;
        }
      }
    }
    this.update(o, t);
  }

  /** The optimizer update of one row from this.gradient (the formulas of BatchedTrainer's tfjs path). */
  private update(o: number, t: number): void {
    const opt = this.optimizer;
    const w = this.weights;
    const g = this.gradient;
    const d = this.dim;
    const wd = opt.weightDecay ?? 0;
    const lr = opt.lr;
    if (opt.kind === 'sgd' && !opt.momentum) {
      for (let c = 0; c < d; c++) w[o + c] -= lr * (g[c] + wd * w[o + c]);
      return;
    }
    if (opt.kind === 'sgd') {
      const m = this.slots[0];
      const mu = opt.momentum!;
      for (let c = 0; c < d; c++) {
        m[o + c] = mu * m[o + c] + g[c] + wd * w[o + c];
        w[o + c] -= lr * m[o + c];
      }
      return;
    }
    const b1 = opt.beta1 ?? 0.9;
    const b2 = opt.beta2 ?? 0.999;
    const eps = opt.epsilon ?? 1e-8;
    const [m, v] = this.slots;
    const stepSize = (lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
    for (let c = 0; c < d; c++) {
      const gc = g[c] + wd * w[o + c];
      m[o + c] = b1 * m[o + c] + (1 - b1) * gc;
      v[o + c] = b2 * v[o + c] + (1 - b2) * gc * gc;
      w[o + c] -= (stepSize * m[o + c]) / (Math.sqrt(v[o + c]) + eps);
    }
  }

  /** Mean loss and accuracy of the row at w[o …] on the evaluation set, in chunks of samples. */
  private evaluateRow(w: Float32Array, o: number, data: EvalData): { loss: number; accuracy: number } {
    const C = this.classes;
    const chunk = Math.min(EVAL_CHUNK, data.n);
    this.scratch(chunk);
    const rows = Int32Array.from({ length: data.n }, (_, i) => i);
    const logits = this.acts[this.layers.length - 1];
    let loss = 0;
    let hits = 0;
    for (let s0 = 0; s0 < data.n; s0 += chunk) {
      const n = Math.min(chunk, data.n - s0);
      this.forward(w, o, data.x, rows, s0, n);
      for (let b = 0; b < n; b++) {
        const at = b * C;
        let max = -Infinity;
        let best = 0;
        for (let c = 0; c < C; c++) {
          if (logits[at + c] > max) {
            max = logits[at + c];
            best = c;
          }
        }
        let sum = 0;
        for (let c = 0; c < C; c++) sum += Math.exp(logits[at + c] - max);
        const label = data.y[s0 + b];
        loss -= logits[at + label] - max - Math.log(sum);
        if (best === label) hits++;
      }
    }
    return { loss: loss / data.n, accuracy: hits / data.n };
  }
}

/** out[c] += a · x[from + c] for c < out.length. */
function axpy(out: Float32Array, a: number, x: Float32Array, from: number): void {
  for (let c = 0; c < out.length; c++) out[c] += a * x[from + c];
}

/** out[outAt + j] += Σ_i x[xAt + i] · K[i, j] (K row-major at kAt, n columns), skipping zero inputs. */
function addOuter(out: Float32Array, outAt: number, x: Float32Array, xAt: number, k: number, w: Float32Array, kAt: number, n: number): void {
  for (let i = 0; i < k; i++) {
    const a = x[xAt + i];
    if (a === 0) continue;
    const row = kAt + i * n;
    for (let j = 0; j < n; j++) out[outAt + j] += a * w[row + j];
  }
}

/** a [m×k] · b [k×n] through tfjs (XNNPACK on wasm, several times the speed of scalar loops). */
function product(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float32Array {
  return tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync() as Float32Array);
}

/** G[i, :] += Σ_b hT[i, b] · g[b, :] (G at gOff, k×n; hT k×B; g B×n), four samples per pass over a row of G. */
function addTransposedProduct(grad: Float32Array, gOff: number, hT: Float32Array, k: number, B: number, g: Float32Array, n: number): void {
  const B4 = B - (B % 4);
  for (let i = 0; i < k; i++) {
    const r = gOff + i * n;
    const h = i * B;
    for (let b = 0; b < B4; b += 4) {
      const a0 = hT[h + b];
      const a1 = hT[h + b + 1];
      const a2 = hT[h + b + 2];
      const a3 = hT[h + b + 3];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      const g0 = b * n;
      for (let j = 0; j < n; j++) grad[r + j] += a0 * g[g0 + j] + a1 * g[g0 + n + j] + a2 * g[g0 + 2 * n + j] + a3 * g[g0 + 3 * n + j];
    }
    for (let b = B4; b < B; b++) {
      const a = hT[h + b];
      if (a === 0) continue;
      for (let j = 0; j < n; j++) grad[r + j] += a * g[b * n + j];
    }
  }
}
