// The training kernels besides the GEMM: softmax cross-entropy, bias gradients, the optimizer
// update, and the convolution and max-pool layers of the LeNet-style CNN (NHWC, as tfjs).
//
// Shapes are per peer and every kernel runs all P peers at once: peer p's parameters and
// gradient are row p of [P, d] buffers (offset p·d + tensor offset), its activations rows
// p·B … p·B + B − 1 of [P·B, …] buffers. Input samples are gathered through Idx: sample b of
// peer p is row Idx[p·B + b] of the data buffer, so the same kernels read a freshly uploaded
// batch or a dataset that stays on the device.
import type { OptimizerSpec } from '../optimizer-spec.js';
import { f32, flatKernel, declare, reads, readsInt, writes, type Kernel } from './wgsl.js';

/**
 * Softmax cross-entropy of logits Z [rows, C] against Labels[Idx[row]]: writes G [rows, C + 2]
 * with G[r, k] = (softmax_k − onehot_k)/batch (the logits' gradient of each peer's mean loss),
 * G[r, C] = the sample's loss and G[r, C + 1] = 1 if the first arg-max is the label, else 0.
 */
export function softmaxXentKernel(rows: number, classes: number, batch: number): Kernel {
  return flatKernel(`xent ${rows}×${classes}`, [...reads('Z'), readsInt('Labels'), readsInt('Idx'), writes('G')], rows, xentRow(classes, batch));
}

/** WGSL for row i of softmaxXentKernel; leaves the row's loss in `l`. */
function xentRow(C: number, batch: number): string {
  return `  let z0 = i * ${C};
  var mx = Z[z0];
  var arg = 0;
  for (var k = 1; k < ${C}; k = k + 1) { let z = Z[z0 + k]; if (z > mx) { mx = z; arg = k; } }
  var s = 0.0;
  for (var k = 0; k < ${C}; k = k + 1) { s = s + exp(Z[z0 + k] - mx); }
  let y = Labels[Idx[i]];
  let lse = mx + log(s);
  let o = i * ${C + 2};
  for (var k = 0; k < ${C}; k = k + 1) {
    G[o + k] = (exp(Z[z0 + k] - lse) - select(0.0, 1.0, k == y)) * ${f32(1 / batch)};
  }
  let l = lse - Z[z0 + y];
  G[o + ${C}] = l;
  G[o + ${C + 1}] = select(0.0, 1.0, arg == y);`;
}

const XENT_THREADS = 64;

/**
 * softmaxXentKernel and lossAccumulateKernel in one dispatch: workgroup p handles peer p's B
 * rows (same G as softmaxXentKernel) and adds the mean of their losses to LossSum[p].
 */
export function softmaxXentLossKernel(peers: number, batch: number, classes: number): Kernel {
  const C = classes;
  const bindings = [...reads('Z'), readsInt('Labels'), readsInt('Idx'), writes('G'), writes('LossSum')];
  const code = `${declare(bindings)}
var<workgroup> part : array<f32, ${XENT_THREADS}>;
@compute @workgroup_size(${XENT_THREADS})
fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u) {
  let p = i32(wg.x);
  let tid = i32(lid.x);
  var loss = 0.0;
  for (var b = tid; b < ${batch}; b = b + ${XENT_THREADS}) {
    let i = p * ${batch} + b;
${xentRow(C, batch)}
    loss = loss + l;
  }
  part[tid] = loss;
  workgroupBarrier();
  for (var half = ${XENT_THREADS / 2}; half > 0; half = half / 2) {
    if (tid < half) { part[tid] = part[tid] + part[tid + half]; }
    workgroupBarrier();
  }
  if (tid == 0) { LossSum[p] = LossSum[p] + part[0] * ${f32(1 / batch)}; }
}`;
  return { name: `xent+loss ${peers}×${batch}×${C}`, code, bindings, grid: [peers, 1, 1] };
}

/** LossSum[p] += mean over peer p's batch of the loss column of G. */
export function lossAccumulateKernel(peers: number, batch: number, classes: number): Kernel {
  const ld = classes + 2;
  return flatKernel(
    `loss ${peers}×${batch}`,
    [...reads('G'), writes('LossSum')],
    peers,
    `  var s = 0.0;
  for (var b = 0; b < ${batch}; b = b + 1) { s = s + G[(i * ${batch} + b) * ${ld} + ${classes}]; }
  LossSum[i] = LossSum[i] + s * ${f32(1 / batch)};`,
  );
}

/** Stats[0] += Σ losses, Stats[1] += Σ hits over the rows of G (evaluation; one thread each). */
export function evalAccumulateKernel(rows: number, classes: number): Kernel {
  const ld = classes + 2;
  return flatKernel(
    `eval sums ${rows}`,
    [...reads('G'), writes('Stats')],
    2,
    `  var s = 0.0;
  for (var r = 0; r < ${rows}; r = r + 1) { s = s + G[r * ${ld} + ${classes} + i]; }
  Stats[i] = Stats[i] + s;`,
  );
}

/** Grad[p·d + offset + j] = Σ_b G[(p·B + b)·ld + j]: a dense layer's bias gradient. */
export function biasGradKernel(peers: number, batch: number, width: number, ld: number, offset: number, dim: number): Kernel {
  return flatKernel(
    `bias grad ${peers}×${width}`,
    [...reads('G'), writes('Grad')],
    peers * width,
    `  let p = i / ${width};
  let j = i % ${width};
  var g = 0.0;
  for (var b = 0; b < ${batch}; b = b + 1) { g = g + G[(p * ${batch} + b) * ${ld} + j]; }
  Grad[p * ${dim} + ${offset} + j] = g;`,
  );
}

/** The bindings an optimizer update reads and writes besides the gradient: W, then M (momentum, Adam), V and Hyper (Adam). */
export function updateBindings(o: OptimizerSpec) {
  if (o.kind === 'sgd' && !o.momentum) return [writes('W')];
  if (o.kind === 'sgd') return [writes('W'), writes('M')];
  return [...reads('Hyper'), writes('W'), writes('M'), writes('V')];
}

/**
 * WGSL statements that apply one parameter's update at index `at` from its gradient `grad` (a
 * WGSL expression evaluated once), the same formulas as the tfjs Trainer: SGD w ← w − lr(g + λw);
 * heavy ball m ← μm + g + λw, w ← w − lr·m; Adam with the step's bias-corrected step size read
 * from Hyper[0] (one Hyper range bound per step). Used by the optimizer kernel and by the kernels
 * that finish a gradient (they update in place, so the gradient never goes to memory).
 */
export function updateStatements(o: OptimizerSpec, at: string, grad: string): string {
  const wd = o.weightDecay ?? 0;
  const g = `let g_ = ${grad}${wd ? ` + ${f32(wd)} * W[${at}]` : ''};`;
  if (o.kind === 'sgd' && !o.momentum) return `${g} W[${at}] = W[${at}] - ${f32(o.lr)} * g_;`;
  if (o.kind === 'sgd') return `${g} let m_ = ${f32(o.momentum!)} * M[${at}] + g_; M[${at}] = m_; W[${at}] = W[${at}] - ${f32(o.lr)} * m_;`;
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  return `${g} let m_ = ${f32(b1)} * M[${at}] + ${f32(1 - b1)} * g_; let v_ = ${f32(b2)} * V[${at}] + ${f32(1 - b2)} * g_ * g_;
  M[${at}] = m_; V[${at}] = v_; W[${at}] = W[${at}] - m_ / (sqrt(v_) + ${f32(o.epsilon ?? 1e-8)}) * Hyper[0];`;
}

/** The optimizer update over the whole [P, d] stack from the gradient buffer (updateStatements for every index). */
export function optimizerKernel(size: number, o: OptimizerSpec): Kernel {
  return flatKernel(`${o.kind === 'sgd' && o.momentum ? 'momentum' : o.kind} ${size}`, [...reads('Grad'), ...updateBindings(o)], size, `  ${updateStatements(o, 'i', 'Grad[i]')}`);
}

/** Adam's step size for step t (1-based), as the Trainer computes it. */
export function adamStepSize(o: Extract<OptimizerSpec, { kind: 'adam' }>, t: number): number {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  return (o.lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
}

/** A 2-D convolution layer's shape, per peer: NHWC input, [KH, KW, Cin, Cout] kernel, stride 1. */
export interface ConvShape {
  readonly peers: number;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  /** Zero padding on each side (2 for a 5×5 'same' convolution, 0 for 'valid'). */
  readonly pad: number;
  /** Where the kernel and the bias of peer p start in the parameter buffer: p·dim + offset. */
  readonly kernelOffset: number;
  readonly biasOffset: number;
  readonly dim: number;
  /** The input is the data buffer, sample b of peer p at row Idx[p·B + b]; otherwise a [P·B, H, W, Cin] activation. */
  readonly gathered: boolean;
}

/** Output height and width of a stride-1 convolution. */
export function convOut(s: ConvShape): [number, number] {
  return [s.height + 2 * s.pad - s.kernel + 1, s.width + 2 * s.pad - s.kernel + 1];
}

/** WGSL for the start of sample (p, b) of the convolution's input. */
function sampleBase(s: ConvShape, p: string, b: string): string {
  const row = s.height * s.width * s.inChannels;
  return s.gathered ? `Idx[${p} * ${s.batch} + ${b}] * ${row}` : `(${p} * ${s.batch} + ${b}) * ${row}`;
}

function inputBindings(s: ConvShape) {
  return s.gathered ? [...reads('X'), readsInt('Idx')] : reads('X');
}

/** Out[p, b, oh, ow, co] = ReLU(bias + Σ X·K): the forward convolution with bias and ReLU. */
export function convForwardKernel(s: ConvShape): Kernel {
  const [OH, OW] = convOut(s);
  const { inChannels: CI, outChannels: CO, kernel: KS } = s;
  return flatKernel(
    `conv ${s.height}×${s.width}×${CI}→${CO}`,
    [...inputBindings(s), ...reads('W'), writes('Out')],
    s.peers * s.batch * OH * OW * CO,
    `  let co = i % ${CO};
  var t = i / ${CO};
  let ow = t % ${OW}; t = t / ${OW};
  let oh = t % ${OH}; t = t / ${OH};
  let b = t % ${s.batch};
  let p = t / ${s.batch};
  let base = ${sampleBase(s, 'p', 'b')};
  let wBase = p * ${s.dim} + ${s.kernelOffset};
  var acc = W[p * ${s.dim} + ${s.biasOffset} + co];
  for (var kh = 0; kh < ${KS}; kh = kh + 1) {
    let ih = oh + kh - ${s.pad};
    if (ih < 0 || ih >= ${s.height}) { continue; }
    for (var kw = 0; kw < ${KS}; kw = kw + 1) {
      let iw = ow + kw - ${s.pad};
      if (iw < 0 || iw >= ${s.width}) { continue; }
      let x0 = base + (ih * ${s.width} + iw) * ${CI};
      let k0 = wBase + ((kh * ${KS} + kw) * ${CI}) * ${CO} + co;
      for (var ci = 0; ci < ${CI}; ci = ci + 1) { acc = fma(X[x0 + ci], W[k0 + ci * ${CO}], acc); }
    }
  }
  Out[i] = max(acc, 0.0);`,
  );
}

/**
 * dX[p, b, h, w, ci] = Σ dZ[p, b, h + pad − kh, w + pad − kw, co]·K[kh, kw, ci, co]: the
 * gradient with respect to a (non-gathered) convolution input.
 */
export function convInputGradKernel(s: ConvShape): Kernel {
  const [OH, OW] = convOut(s);
  const { inChannels: CI, outChannels: CO, kernel: KS } = s;
  return flatKernel(
    `conv dX ${s.height}×${s.width}×${CI}`,
    [...reads('DZ', 'W'), writes('DX')],
    s.peers * s.batch * s.height * s.width * CI,
    `  let ci = i % ${CI};
  var t = i / ${CI};
  let w = t % ${s.width}; t = t / ${s.width};
  let h = t % ${s.height};
  let pb = t / ${s.height};
  let p = pb / ${s.batch};
  let wBase = p * ${s.dim} + ${s.kernelOffset} + ci * ${CO};
  var acc = 0.0;
  for (var kh = 0; kh < ${KS}; kh = kh + 1) {
    let oh = h + ${s.pad} - kh;
    if (oh < 0 || oh >= ${OH}) { continue; }
    for (var kw = 0; kw < ${KS}; kw = kw + 1) {
      let ow = w + ${s.pad} - kw;
      if (ow < 0 || ow >= ${OW}) { continue; }
      let z0 = ((pb * ${OH} + oh) * ${OW} + ow) * ${CO};
      let k0 = wBase + (kh * ${KS} + kw) * ${CI * CO};
      for (var co = 0; co < ${CO}; co = co + 1) { acc = fma(DZ[z0 + co], W[k0 + co], acc); }
    }
  }
  DX[i] = acc;`,
  );
}

/** Positions of the output each partial-sum workgroup of the kernel gradient covers. */
export const CONV_GRAD_CHUNK = 256;
const CONV_GRAD_THREADS = 64;

/** Number of chunks the kernel gradient's sum over (b, oh, ow) is split into. */
export function convGradChunks(s: ConvShape): number {
  const [OH, OW] = convOut(s);
  return Math.ceil((s.batch * OH * OW) / CONV_GRAD_CHUNK);
}

/**
 * Partial sums of the kernel and bias gradients: workgroup (q, c, p) sums, over output
 * positions c·CHUNK … of peer p, X[tap q]·dZ[·, co] for every co (q = KH·KW·Cin is the bias,
 * whose "input" is 1). Partial[((p·chunks + c)·(Q + 1) + q)·Cout + co]. Split this way so the
 * long sum over the batch runs on thousands of workgroups instead of a few hundred threads.
 */
export function convKernelGradPartialKernel(s: ConvShape): Kernel {
  const [OH, OW] = convOut(s);
  const { inChannels: CI, outChannels: CO, kernel: KS } = s;
  const taps = KS * KS * CI;
  const positions = s.batch * OH * OW;
  const chunks = convGradChunks(s);
  const bindings = [...inputBindings(s), ...reads('DZ'), writes('Partial')];
  const code = `${declare(bindings)}
var<workgroup> sums : array<f32, ${CONV_GRAD_THREADS * CO}>;
@compute @workgroup_size(${CONV_GRAD_THREADS})
fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u) {
  let q = i32(wg.x);
  let c = i32(wg.y);
  let p = i32(wg.z);
  let tid = i32(lid.x);
  let ci = q % ${CI};
  let kw = (q / ${CI}) % ${KS};
  let kh = q / ${CI * KS};
  var acc : array<f32, ${CO}>;
  for (var j = tid; j < ${CONV_GRAD_CHUNK}; j = j + ${CONV_GRAD_THREADS}) {
    let r = c * ${CONV_GRAD_CHUNK} + j;
    if (r >= ${positions}) { break; }
    let ow = r % ${OW};
    let oh = (r / ${OW}) % ${OH};
    let b = r / ${OH * OW};
    var xv = 1.0;
    if (q < ${taps}) {
      let ih = oh + kh - ${s.pad};
      let iw = ow + kw - ${s.pad};
      xv = 0.0;
      if (ih >= 0 && ih < ${s.height} && iw >= 0 && iw < ${s.width}) {
        xv = X[${sampleBase(s, 'p', 'b')} + (ih * ${s.width} + iw) * ${CI} + ci];
      }
    }
    let z0 = (p * ${positions} + r) * ${CO};
    for (var co = 0; co < ${CO}; co = co + 1) { acc[co] = fma(xv, DZ[z0 + co], acc[co]); }
  }
  for (var co = 0; co < ${CO}; co = co + 1) { sums[tid * ${CO} + co] = acc[co]; }
  workgroupBarrier();
  for (var half = ${CONV_GRAD_THREADS / 2}; half > 0; half = half / 2) {
    if (tid < half) {
      for (var co = 0; co < ${CO}; co = co + 1) { sums[tid * ${CO} + co] = sums[tid * ${CO} + co] + sums[(tid + half) * ${CO} + co]; }
    }
    workgroupBarrier();
  }
  if (tid < ${CO}) { Partial[((p * ${chunks} + c) * ${taps + 1} + q) * ${CO} + tid] = sums[tid]; }
}`;
  return { name: `conv dK partial ${s.height}×${s.width}×${CI}→${CO}`, code, bindings, grid: [taps + 1, chunks, s.peers] };
}

/**
 * Sums the partials into the kernel and bias gradients (kernel at kernelOffset, bias at
 * biasOffset): into the Grad buffer, or, with `update`, straight into the optimizer's update of W.
 */
export function convKernelGradReduceKernel(s: ConvShape, update?: OptimizerSpec): Kernel {
  const { inChannels: CI, outChannels: CO, kernel: KS } = s;
  const taps = KS * KS * CI;
  const chunks = convGradChunks(s);
  const at = `select(p * ${s.dim} + ${s.biasOffset} + co, p * ${s.dim} + ${s.kernelOffset} + q * ${CO} + co, q < ${taps})`;
  return flatKernel(
    `conv dK reduce ${CI}→${CO}${update ? ' + update' : ''}`,
    [...reads('Partial'), ...(update ? updateBindings(update) : [writes('Grad')])],
    s.peers * (taps + 1) * CO,
    `  let co = i % ${CO};
  let q = (i / ${CO}) % ${taps + 1};
  let p = i / ${(taps + 1) * CO};
  var g = 0.0;
  for (var c = 0; c < ${chunks}; c = c + 1) { g = g + Partial[((p * ${chunks} + c) * ${taps + 1} + q) * ${CO} + co]; }
  let at = ${at};
  ${update ? updateStatements(update, 'at', 'g') : 'Grad[at] = g;'}`,
  );
}

/** A 2×2, stride-2 max-pool's input shape: [rows, H, W, C] with rows = P·B. */
export interface PoolShape {
  readonly rows: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Out[r, oh, ow, c] = max of the 2×2 window (valid: odd trailing rows/columns are dropped). */
export function maxPoolKernel(s: PoolShape): Kernel {
  const OH = Math.floor(s.height / 2);
  const OW = Math.floor(s.width / 2);
  const C = s.channels;
  return flatKernel(
    `maxpool ${s.height}×${s.width}×${C}`,
    [...reads('A'), writes('Out')],
    s.rows * OH * OW * C,
    `  let c = i % ${C};
  var t = i / ${C};
  let ow = t % ${OW}; t = t / ${OW};
  let oh = t % ${OH};
  let r = t / ${OH};
  let a0 = ((r * ${s.height} + 2 * oh) * ${s.width} + 2 * ow) * ${C} + c;
  Out[i] = max(max(A[a0], A[a0 + ${C}]), max(A[a0 + ${s.width * C}], A[a0 + ${s.width * C + C}]));`,
  );
}

/**
 * The max-pool's backward fused with the ReLU before it: dA[i] = dP[window] if A[i] > 0 and
 * A[i] is the window's first maximum (row-major), else 0.
 */
export function maxPoolReluGradKernel(s: PoolShape): Kernel {
  const OH = Math.floor(s.height / 2);
  const OW = Math.floor(s.width / 2);
  const C = s.channels;
  const row = s.width * C;
  return flatKernel(
    `maxpool dA ${s.height}×${s.width}×${C}`,
    [...reads('A', 'DP'), writes('DA')],
    s.rows * s.height * s.width * C,
    `  let c = i % ${C};
  var t = i / ${C};
  let w = t % ${s.width}; t = t / ${s.width};
  let h = t % ${s.height};
  let r = t / ${s.height};
  let oh = h / 2;
  let ow = w / 2;
  var g = 0.0;
  let a = A[i];
  if (oh < ${OH} && ow < ${OW} && a > 0.0) {
    let a0 = ((r * ${s.height} + 2 * oh) * ${s.width} + 2 * ow) * ${C} + c;
    let v0 = A[a0]; let v1 = A[a0 + ${C}]; let v2 = A[a0 + ${row}]; let v3 = A[a0 + ${row + C}];
    let mx = max(max(v0, v1), max(v2, v3));
    var first = a0 + ${row + C};
    if (v2 == mx) { first = a0 + ${row}; }
    if (v1 == mx) { first = a0 + ${C}; }
    if (v0 == mx) { first = a0; }
    if (first == i) { g = DP[((r * ${OH} + oh) * ${OW} + ow) * ${C} + c]; }
  }
  DA[i] = g;`,
  );
}
