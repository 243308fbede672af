// Custom WebGPU kernels for the batched engine, run through tfjs-backend-webgpu's
// runWebGPUProgram so they share its device, buffers and command queue.
//
// Why: tfjs's generic kernels cost one dispatch (and one intermediate buffer) per op; a dense
// training step for P stacked peers is ~40 of them, plus a per-variable optimizer and a gather.
// These kernels do the same step in 9 dispatches: a batched GEMM with the row gather, bias, ReLU,
// ReLU-mask and SGD/momentum update fused into its load and store stages, a softmax
// cross-entropy kernel, and bias/momentum/loss kernels. Sizes are baked into the WGSL (each
// distinct shape compiles once and is cached by tfjs); learning rates are uniforms.
//
// All matrices are flat float32 buffers addressed as offset + p·batchStride + row·ld + col, so
// one buffer can hold every peer's parameters as [P, d] rows (the Params layout per row).
import { tf } from './tf.js';
import type { tf as TF } from './tf.js';

/** The slice of tfjs-backend-webgpu's WebGPUBackend that these kernels use. */
interface WebGpuBackendLike {
  runWebGPUProgram(program: Program, inputs: TF.TensorInfo[], dtype: 'float32' | 'int32', uniforms?: Uniform[], output?: TF.TensorInfo): TF.TensorInfo;
}
interface Uniform {
  type: 'float32' | 'int32';
  data: number[];
}
interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

/** True when the active tfjs backend is WebGPU (the kernels here need it). */
export function webgpuActive(): boolean {
  return tf.getBackend() === 'webgpu';
}

function backend(): WebGpuBackendLike {
  if (!webgpuActive()) throw new Error('webgpu kernels need the webgpu backend to be active');
  return tf.backend() as unknown as WebGpuBackendLike;
}

/** How a GEMM operand is stored: element (row, col) at offset + p·batchStride + row·ld + col. */
export interface Operand {
  /** Stored as the transpose of the logical operand (A: [K, M]; B: [N, K]). */
  readonly transposed: boolean;
  readonly offset: number;
  readonly batchStride: number;
  readonly ld: number;
  /** Stored rows are looked up through the Idx input: row r of batch p is idx[p·rows + r]. */
  readonly gatherRows?: number;
}

export type Epilogue =
  /** out[p, m, n] = act(acc + bias[p, n]) into a new [batch·M·ld] buffer. */
  | { readonly kind: 'store'; readonly ld: number; readonly bias?: { readonly offset: number; readonly batchStride: number }; readonly relu?: boolean }
  /** out = acc · (mask > 0), mask laid out like out: the ReLU derivative fused into dH. */
  | { readonly kind: 'mask'; readonly ld: number }
  /** In place into `target` (the parameter stack): w ← w − lr·(acc + wd·w). */
  | { readonly kind: 'sgd'; readonly offset: number; readonly batchStride: number; readonly ld: number }
  /** In place into `target` (a momentum slot): m ← μ·m + acc + wd·w, w read from the W input. */
  | { readonly kind: 'momentum'; readonly offset: number; readonly batchStride: number; readonly ld: number };

export interface GemmSpec {
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: Operand;
  readonly b: Operand;
  readonly epilogue: Epilogue;
  /** Tile shape; picked from M when absent. */
  readonly tile?: GemmTile;
}

/** Tile shape of the fused WebGPU GEMM kernel (rows, columns and depth per workgroup). */
export interface GemmTile {
  readonly TM: number;
  readonly TN: number;
  readonly RM: number;
  readonly RN: number;
  readonly TK: number;
}

export interface GemmInputs {
  readonly a: TF.Tensor;
  readonly b: TF.Tensor;
  /** int32 row indices for a gathered operand. */
  readonly idx?: TF.Tensor;
  /** The mask (epilogue 'mask') or the weights (epilogue 'momentum'). */
  readonly extra?: TF.Tensor;
  /** The buffer updated in place (epilogues 'sgd' and 'momentum'). */
  readonly target?: TF.Tensor;
}

export interface UpdateHyper {
  readonly lr: number;
  readonly weightDecay: number;
  readonly momentum: number;
}

export function defaultTile(M: number, N: number): GemmTile {
  if (M <= 32) return { TM: 32, TN: 64, RM: 2, RN: 4, TK: 16 };
  if (M >= 128 && N >= 4096) return { TM: 128, TN: 128, RM: 8, RN: 8, TK: 8 };
  return { TM: 64, TN: 64, RM: 4, RN: 4, TK: 16 };
}

function operandAddress(name: 'A' | 'B', op: Operand, row: string, col: string): string {
  const r = op.gatherRows ? `Idx[p * ${op.gatherRows} + ${row}]` : row;
  return `${name}[${op.offset} + p * ${op.batchStride} + (${r}) * ${op.ld} + ${col}]`;
}

function gemmProgram(spec: GemmSpec, withIdx: boolean, withExtra: boolean): Program {
  const { batch, M, N, K, a, b, epilogue } = spec;
  const t = spec.tile ?? defaultTile(M, N);
  const threadsX = t.TN / t.RN;
  const threadsY = t.TM / t.RM;
  const threads = threadsX * threadsY;
  if ((t.TM * t.TK) % threads || (t.TN * t.TK) % threads) throw new Error(`gemm: tile ${JSON.stringify(t)} does not split evenly over ${threads} threads`);
  const variableNames = ['A', 'B', ...(withIdx ? ['Idx'] : []), ...(withExtra ? ['Extra'] : [])];
  // Tile loads walk the stored (contiguous) column fastest, so neighbouring threads read
  // neighbouring addresses whichever way the operand is stored.
  const aLoad = a.transposed
    ? { kk: 'i / TM', mm: 'i % TM', addr: operandAddress('A', a, 'k0 + kk', 'm0 + mm') }
    : { kk: 'i % TK', mm: 'i / TK', addr: operandAddress('A', a, 'm0 + mm', 'k0 + kk') };
  const bLoad = b.transposed
    ? { kk: 'i % TK', nn: 'i / TK', addr: operandAddress('B', b, 'n0 + nn', 'k0 + kk') }
    : { kk: 'i / TN', nn: 'i % TN', addr: operandAddress('B', b, 'k0 + kk', 'n0 + nn') };
  let store: string;
  switch (epilogue.kind) {
    case 'store': {
      const bias = epilogue.bias ? ` + B[${epilogue.bias.offset} + p * ${epilogue.bias.batchStride} + n]` : '';
      const act = epilogue.relu ? 'max(v, 0.0)' : 'v';
      store = `let v = acc[r * RN + c]${bias}; result[p * ${M * epilogue.ld} + m * ${epilogue.ld} + n] = ${act};`;
      break;
    }
    case 'mask':
      store = `let o = p * ${M * epilogue.ld} + m * ${epilogue.ld} + n; result[o] = select(0.0, acc[r * RN + c], Extra[o] > 0.0);`;
      break;
    case 'sgd':
      store = `let o = ${epilogue.offset} + p * ${epilogue.batchStride} + m * ${epilogue.ld} + n; let w = result[o]; result[o] = w - uniforms.lr * (acc[r * RN + c] + uniforms.wd * w);`;
      break;
    case 'momentum':
      store = `let o = ${epilogue.offset} + p * ${epilogue.batchStride} + m * ${epilogue.ld} + n; result[o] = uniforms.mu * result[o] + acc[r * RN + c] + uniforms.wd * Extra[o];`;
      break;
  }
  const key = JSON.stringify([batch, M, N, K, a, b, epilogue, t, withIdx, withExtra]);
  return {
    outputShape: [1],
    shaderKey: `gossipflGemm${key}`,
    dispatchLayout: { x: [0], y: [1], z: [2] },
    dispatch: [Math.ceil(N / t.TN), Math.ceil(M / t.TM), batch],
    variableNames,
    workgroupSize: [threadsX, threadsY, 1],
    uniforms: 'lr : f32, wd : f32, mu : f32,',
    getUserCode: () => `
      const GM = ${M}; const GN = ${N}; const GK = ${K};
      const TM = ${t.TM}; const TN = ${t.TN}; const TK = ${t.TK}; const RM = ${t.RM}; const RN = ${t.RN};
      const TX = ${threadsX}; const TY = ${threadsY}; const NT = ${threads};
      const LA = ${(t.TM * t.TK) / threads}; const LB = ${(t.TN * t.TK) / threads};
      // Shared tiles padded by one word a row: tile stores walk kk fastest for some operand
      // layouts, and an unpadded power-of-two stride would put them all in one bank.
      const SA = ${t.TM + 1}; const SB = ${t.TN + 1};
      var<workgroup> As : array<f32, ${t.TK * (t.TM + 1)}>;
      var<workgroup> Bs : array<f32, ${t.TK * (t.TN + 1)}>;
      fn loadA(p : i32, m0 : i32, k0 : i32, i : i32) -> f32 {
        let kk = ${aLoad.kk}; let mm = ${aLoad.mm};
        if (m0 + mm < GM && k0 + kk < GK) { return ${aLoad.addr}; }
        return 0.0;
      }
      fn loadB(p : i32, n0 : i32, k0 : i32, i : i32) -> f32 {
        let kk = ${bLoad.kk}; let nn = ${bLoad.nn};
        if (n0 + nn < GN && k0 + kk < GK) { return ${bLoad.addr}; }
        return 0.0;
      }
      fn main() {
        _ = uniforms.NAN; // keeps the uniform binding in the auto layout whatever the epilogue uses
        let p = i32(workgroupId.z);
        let m0 = i32(workgroupId.y) * TM;
        let n0 = i32(workgroupId.x) * TN;
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * TX + tx;
        var acc : array<f32, ${t.RM * t.RN}>;
        // The next tiles are fetched into registers while the current ones are multiplied.
        var pa : array<f32, LA>;
        var pb : array<f32, LB>;
        for (var j = 0; j < LA; j = j + 1) { pa[j] = loadA(p, m0, 0, tid + j * NT); }
        for (var j = 0; j < LB; j = j + 1) { pb[j] = loadB(p, n0, 0, tid + j * NT); }
        for (var k0 = 0; k0 < GK; k0 = k0 + TK) {
          for (var j = 0; j < LA; j = j + 1) {
            let i = tid + j * NT;
            let kk = ${aLoad.kk}; let mm = ${aLoad.mm};
            As[kk * SA + mm] = pa[j];
          }
          for (var j = 0; j < LB; j = j + 1) {
            let i = tid + j * NT;
            let kk = ${bLoad.kk}; let nn = ${bLoad.nn};
            Bs[kk * SB + nn] = pb[j];
          }
          workgroupBarrier();
          if (k0 + TK < GK) {
            for (var j = 0; j < LA; j = j + 1) { pa[j] = loadA(p, m0, k0 + TK, tid + j * NT); }
            for (var j = 0; j < LB; j = j + 1) { pb[j] = loadB(p, n0, k0 + TK, tid + j * NT); }
          }
          for (var kk = 0; kk < TK; kk = kk + 1) {
            var av : array<f32, ${t.RM}>;
            for (var r = 0; r < RM; r = r + 1) { av[r] = As[kk * SA + ty + r * TY]; }
            for (var c = 0; c < RN; c = c + 1) {
              let bv = Bs[kk * SB + tx + c * TX];
              for (var r = 0; r < RM; r = r + 1) { acc[r * RN + c] = fma(av[r], bv, acc[r * RN + c]); }
            }
          }
          workgroupBarrier();
        }
        for (var r = 0; r < RM; r = r + 1) {
          let m = m0 + ty + r * TY;
          for (var c = 0; c < RN; c = c + 1) {
            let n = n0 + tx + c * TX;
            if (m < GM && n < GN) { ${store} }
          }
        }
      }`,
  };
}

/** A WGSL float literal (always with a decimal point or exponent). */
function f32(x: number): string {
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function hyperUniforms(h?: UpdateHyper): Uniform[] {
  return [
    { type: 'float32', data: [h?.lr ?? 0] },
    { type: 'float32', data: [h?.weightDecay ?? 0] },
    { type: 'float32', data: [h?.momentum ?? 0] },
  ];
}

/**
 * Batched C = op(A)·op(B) with a fused epilogue. Returns the new tensor for 'store'/'mask'
 * (shape [batch·M·ld]); updates `inputs.target` in place and returns it for 'sgd'/'momentum'.
 */
export function gemm(spec: GemmSpec, inputs: GemmInputs, hyper?: UpdateHyper): TF.Tensor {
  const needsIdx = Boolean(spec.a.gatherRows || spec.b.gatherRows);
  const needsExtra = spec.epilogue.kind === 'mask' || spec.epilogue.kind === 'momentum';
  if (needsIdx && !inputs.idx) throw new Error('gemm: a gathered operand needs inputs.idx');
  if (needsExtra && !inputs.extra) throw new Error(`gemm: epilogue '${spec.epilogue.kind}' needs inputs.extra`);
  const program = gemmProgram(spec, needsIdx, needsExtra);
  const ins = [inputs.a, inputs.b, ...(needsIdx ? [inputs.idx!] : []), ...(needsExtra ? [inputs.extra!] : [])];
  if (spec.epilogue.kind === 'sgd' || spec.epilogue.kind === 'momentum') {
    if (!inputs.target) throw new Error(`gemm: epilogue '${spec.epilogue.kind}' needs inputs.target`);
    backend().runWebGPUProgram(program, ins, 'float32', hyperUniforms(hyper), inputs.target);
    return inputs.target;
  }
  program.outputShape = [spec.batch * spec.M * spec.epilogue.ld];
  const info = backend().runWebGPUProgram(program, ins, 'float32', hyperUniforms(hyper));
  return tf.engine().makeTensorFromTensorInfo(info);
}

function flatProgram(key: string, size: number, variableNames: string[], body: string, uniforms?: string): Program {
  const wg = 128;
  return {
    outputShape: [size],
    shaderKey: `gossipfl${key}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(size / wg), 1, 1],
    variableNames,
    workgroupSize: [wg, 1, 1],
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => `
      fn main(index : i32) {
        _ = uniforms.NAN; // keeps the uniform binding in the auto layout
        if (index >= ${size}) { return; }
        ${body}
      }`,
  };
}

export interface SoftmaxXentSpec {
  readonly rows: number;
  readonly classes: number;
  /** Samples per peer: the gradient is divided by it (the loss is a per-peer mean). */
  readonly batch: number;
  /** Labels are looked up as Labels[Idx[row]] (data kept on the device) instead of Labels[row]. */
  readonly gathered: boolean;
}

/**
 * Softmax cross-entropy on logits [rows, classes]: returns G [rows, classes + 1] with
 * G[r, k] = (softmax_k − onehot_k)/batch (the logits' gradient of the per-peer mean loss) and
 * G[r, classes] = the sample's loss.
 */
export function softmaxXent(spec: SoftmaxXentSpec, logits: TF.Tensor, labels: TF.Tensor, idx?: TF.Tensor): TF.Tensor {
  const C = spec.classes;
  const ld = C + 1;
  const label = spec.gathered ? 'Labels[Idx[index]]' : 'Labels[index]';
  const body = `
        let z0 = index * ${C};
        var mx = Z[z0];
        for (var k = 1; k < ${C}; k = k + 1) { mx = max(mx, Z[z0 + k]); }
        var s = 0.0;
        for (var k = 0; k < ${C}; k = k + 1) { s = s + exp(Z[z0 + k] - mx); }
        let y = ${label};
        let lse = mx + log(s);
        let o = index * ${ld};
        for (var k = 0; k < ${C}; k = k + 1) {
          let pk = exp(Z[z0 + k] - lse);
          result[o + k] = (pk - select(0.0, 1.0, k == y)) * ${f32(1 / spec.batch)};
        }
        result[o + ${C}] = lse - Z[z0 + y];`;
  const names = ['Z', 'Labels', ...(spec.gathered ? ['Idx'] : [])];
  const program = flatProgram(`Xent${JSON.stringify(spec)}`, spec.rows, names, body);
  program.outputShape = [spec.rows * ld];
  const info = backend().runWebGPUProgram(program, [logits, labels, ...(spec.gathered ? [idx!] : [])], 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

export interface BiasGradSpec {
  readonly peers: number;
  readonly width: number;
  readonly batch: number;
  /** Row stride of the gradient rows (classes + 1 for the output layer, the width otherwise). */
  readonly ld: number;
  /** Where the bias of peer p starts in the target buffer: offset + p·batchStride. */
  readonly offset: number;
  readonly batchStride: number;
  /** 'sgd': target is the stack, b ← b − lr·(g + wd·b). 'momentum': target is the slot, m ← μm + g + wd·b (b read from W). */
  readonly kind: 'sgd' | 'momentum';
}

/** Bias gradient (sum over each peer's batch of G) fused with its update, in place into `target`. */
export function biasUpdate(spec: BiasGradSpec, grad: TF.Tensor, target: TF.Tensor, hyper: UpdateHyper, weights?: TF.Tensor): void {
  const { width, batch, ld, offset, batchStride } = spec;
  const sum = `
        let p = index / ${width};
        let j = index % ${width};
        var g = 0.0;
        for (var b = 0; b < ${batch}; b = b + 1) { g = g + G[(p * ${batch} + b) * ${ld} + j]; }
        let o = ${offset} + p * ${batchStride} + j;`;
  const body =
    spec.kind === 'sgd'
      ? `${sum} let w = result[o]; result[o] = w - uniforms.lr * (g + uniforms.wd * w);`
      : `${sum} result[o] = uniforms.mu * result[o] + g + uniforms.wd * W[o];`;
  const names = spec.kind === 'sgd' ? ['G'] : ['G', 'W'];
  const program = flatProgram(`Bias${JSON.stringify(spec)}`, spec.peers * width, names, body, 'lr : f32, wd : f32, mu : f32,');
  const ins = spec.kind === 'sgd' ? [grad] : [grad, weights!];
  backend().runWebGPUProgram(program, ins, 'float32', hyperUniforms(hyper), target);
}

/** w ← w − lr·m over the whole stack, in place (the second half of a momentum step). */
export function applyMomentum(stack: TF.Tensor, slot: TF.Tensor, lr: number): void {
  const size = stack.size;
  const program = flatProgram(`ApplyMomentum${size}`, size, ['Mom'], 'result[index] = result[index] - uniforms.lr * Mom[index];', 'lr : f32,');
  backend().runWebGPUProgram(program, [slot], 'float32', [{ type: 'float32', data: [lr] }], stack);
}

/** acc[p] += mean over peer p's batch of G[·, lossColumn], in place. */
export function accumulateLoss(acc: TF.Tensor, grad: TF.Tensor, peers: number, batch: number, ld: number): void {
  const body = `
        var s = 0.0;
        for (var b = 0; b < ${batch}; b = b + 1) { s = s + G[(index * ${batch} + b) * ${ld} + ${ld - 1}]; }
        result[index] = result[index] + s * ${f32(1 / batch)};`;
  const program = flatProgram(`LossAcc${peers}_${batch}_${ld}`, peers, ['G'], body);
  backend().runWebGPUProgram(program, [grad], 'float32', undefined, acc);
}
