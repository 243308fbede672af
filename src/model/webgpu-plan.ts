/// <reference types="@webgpu/types" />
// A zoo model's training step (or forward pass) for P stacked peers with batch B, compiled to
// a fixed list of WebGPU dispatches over buffers allocated once: the "plan".
//
// Dispatches per step (batch 32): MLP 784-128-10, 7; LeNet-5, 22. The bias gradients come out
// of the weight-gradient GEMMs, the optimizer update runs in the kernels that finish each
// gradient, the loss sums in the softmax, and a long-K GEMM over few tiles is split over K
// (one more dispatch to add the parts). What changes between steps is
// bound, not uploaded per dispatch: the step's sample indices (an Idx range) and, for Adam, the
// step's bias-corrected step size (a Hyper range). A plan holds one bind group per step slot,
// so k steps are encoded back to back into one compute pass with no host work between them.
import { GpuRuntime, alignBytes, type BufferRange, type Dispatch } from '../compute/webgpu/runtime.js';
import type { Kernel } from '../compute/webgpu/wgsl.js';
import { defaultTile, gemmKernel, gemmSplitReduceKernel, type GemmSpec, type GemmTile, type Operand } from '../compute/webgpu/gemm.js';
import {
  convForwardKernel,
  convGradChunks,
  convInputGradKernel,
  convKernelGradPartialKernel,
  convKernelGradReduceKernel,
  convOut,
  maxPoolKernel,
  maxPoolReluGradKernel,
  softmaxXentKernel,
  softmaxXentLossKernel,
  evalAccumulateKernel,
  type ConvShape,
  type PoolShape,
} from '../compute/webgpu/nn.js';
import { peerEvalAccumulateKernel } from '../compute/webgpu/stack-ops.js';
import type { Model } from './zoo.js';
import type { OptimizerSpec } from './optimizer.js';

/** The largest output channel count of the convolution-gradient kernel (its per-thread accumulator). */
export const MAX_GPU_CONV_CHANNELS = 64;

interface DenseLayer {
  readonly inWidth: number;
  readonly outWidth: number;
  readonly kernelOffset: number;
  readonly biasOffset: number;
}

interface ConvLayer {
  readonly inShape: readonly [number, number, number];
  readonly outChannels: number;
  readonly kernel: number;
  readonly pad: number;
  readonly kernelOffset: number;
  readonly biasOffset: number;
}

/** The layers the plan compiles: optional convolutions (each followed by ReLU and a 2×2 max-pool), then dense layers. */
export interface ModelGraph {
  readonly featureSize: number;
  readonly classes: number;
  readonly dim: number;
  readonly convs: readonly ConvLayer[];
  readonly dense: readonly DenseLayer[];
}

/** The graph of a zoo model, or a reason why the WebGPU plan cannot run it. */
export function modelGraph(model: Model): ModelGraph | string {
  const t = model.layout.tensors;
  const featureSize = model.inputShape.reduce((a, b) => a * b, 1);
  const convs: ConvLayer[] = [];
  let first = 0;
  if (model.spec.kind === 'cnn') {
    let [h, w, c] = model.inputShape as [number, number, number];
    for (let i = 0; i < 2; i++) {
      const k = t[2 * i];
      const [kh, kw, ci, co] = k.shape;
      if (kh !== kw || ci !== c) return `conv${i} has an unexpected kernel shape [${k.shape.join(', ')}]`;
      if (co > MAX_GPU_CONV_CHANNELS) return `conv${i} has ${co} output channels; the WebGPU kernels take at most ${MAX_GPU_CONV_CHANNELS}`;
      // The zoo's CNN: the first convolution is 'same' (pad (k−1)/2), the second 'valid'.
      const pad = i === 0 ? (kh - 1) / 2 : 0;
      convs.push({ inShape: [h, w, c], outChannels: co, kernel: kh, pad, kernelOffset: k.offset, biasOffset: t[2 * i + 1].offset });
      h = Math.floor((h + 2 * pad - kh + 1) / 2);
      w = Math.floor((w + 2 * pad - kw + 1) / 2);
      c = co;
    }
    first = 4;
  }
  const dense: DenseLayer[] = [];
  for (let i = first; i + 1 < t.length; i += 2) {
    const l = { inWidth: t[i].shape[0], outWidth: t[i].shape[1], kernelOffset: t[i].offset, biasOffset: t[i + 1].offset };
    // The weight-gradient GEMM writes the bias gradient as the kernel's extra last row.
    if (l.biasOffset !== l.kernelOffset + l.inWidth * l.outWidth) return `dense layer ${t[i].name}'s bias does not follow its kernel in the layout`;
    dense.push(l);
  }
  return { featureSize, classes: model.numClasses, dim: model.layout.size, convs, dense };
}

/** Buffers a plan reads and writes that outlive it (the engine owns them). */
export interface PlanBuffers {
  /** [P, d] parameters. */
  readonly weights: GPUBuffer;
  /** [P, d] gradient scratch. */
  readonly grad: GPUBuffer;
  /** Optimizer slots, [P, d] each (momentum: m; Adam: m, v). */
  readonly slots: readonly GPUBuffer[];
  /** Samples [rows, featureSize] and their int32 labels. */
  readonly data: GPUBuffer;
  readonly labels: GPUBuffer;
  /** int32 sample indices: slot s holds P·B rows of `data` at byte offset s·idxSlotBytes. */
  readonly idx: GPUBuffer;
  readonly idxSlotBytes: number;
  /** Adam's step size per slot at s·256 bytes (unused otherwise). */
  readonly hyper: GPUBuffer;
  /** Training: [P] summed per-peer mean losses. Evaluation: [2] summed loss and hits; [2P], per peer, for P > 1. */
  readonly stats: GPUBuffer;
}

interface Op {
  readonly kernel: Kernel;
  /** The buffer ranges of each binding; `slot` is the step slot. */
  readonly bind: (slot: number) => Record<string, BufferRange>;
  readonly perSlot: boolean;
}

/** A compiled step: its dispatches for each step slot. */
export class StepPlan {
  private constructor(
    private readonly perSlot: Dispatch[][],
    /** Each dispatch's kernel name, in step order (for profiles). */
    readonly names: readonly string[],
  ) {}

  /**
   * Compiles the plan: `mode` 'train' (forward, backward, optimizer, loss sums into stats[p]) or
   * 'eval' (forward and summed loss and hits into stats[0..1]); `slots` step slots. Scratch
   * buffers come from `scratch`, which may hand the same buffer to plans of the same shape:
   * steps run one after another in queue order, so they can share activations.
   */
  static async build(
    rt: GpuRuntime,
    graph: ModelGraph,
    optimizer: OptimizerSpec,
    peers: number,
    batch: number,
    bufs: PlanBuffers,
    slots: number,
    mode: 'train' | 'eval',
    scratch: ScratchPool,
  ): Promise<StepPlan> {
    const ops = planOps(graph, optimizer, peers, batch, bufs, mode, (floats, label) => scratch.get(floats, `${label} P${peers} B${batch}`));
    const pipelines = await Promise.all(ops.map((op) => rt.pipeline(op.kernel)));
    const shared = ops.map((op, i) => (op.perSlot ? undefined : rt.bindGroup(op.kernel, pipelines[i], op.bind(0))));
    const perSlot = Array.from({ length: slots }, (_, s) =>
      ops.map((op, i) => ({
        pipeline: pipelines[i],
        bindGroup: shared[i] ?? rt.bindGroup(op.kernel, pipelines[i], op.bind(s)),
        grid: op.kernel.grid,
      })),
    );
    return new StepPlan(perSlot, ops.map((op) => op.kernel.name));
  }

  /** The dispatches of one step that reads its indices (and step size) from `slot`. */
  step(slot: number): readonly Dispatch[] {
    return this.perSlot[slot];
  }
}

/** Scratch buffers by role and size, shared by the plans of one owner (who destroys them). */
export class ScratchPool {
  private readonly buffers = new Map<string, GPUBuffer>();
  constructor(private readonly rt: GpuRuntime) {}

  get(floats: number, label: string): GPUBuffer {
    const key = `${label}:${floats}`;
    let b = this.buffers.get(key);
    if (!b) {
      b = this.rt.storage(floats * 4, label);
      this.buffers.set(key, b);
    }
    return b;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

function planOps(
  g: ModelGraph,
  optimizer: OptimizerSpec,
  P: number,
  B: number,
  bufs: PlanBuffers,
  mode: 'train' | 'eval',
  alloc: (floats: number, label: string) => GPUBuffer,
): Op[] {
  const d = g.dim;
  const C = g.classes;
  const ops: Op[] = [];
  const whole = (buffer: GPUBuffer): BufferRange => ({ buffer });
  const idxRange = (slot: number): BufferRange => ({ buffer: bufs.idx, offset: slot * bufs.idxSlotBytes, size: P * B * 4 });
  /** A dispatch over whole buffers, plus ranges that depend on the step slot (indices, Adam's step size). */
  const op = (kernel: Kernel, ranges: Record<string, GPUBuffer>, perStep?: (slot: number) => Record<string, BufferRange>): Op => {
    const r = Object.fromEntries(Object.entries(ranges).map(([k, v]) => [k, whole(v)]));
    return perStep ? { kernel, bind: (s) => ({ ...r, ...perStep(s) }), perSlot: true } : { kernel, bind: () => r, perSlot: false };
  };
  const byIdx = (slot: number) => ({ Idx: idxRange(slot) });
  // The optimizer's update runs in the kernels that finish each gradient (dW GEMMs, the conv
  // reductions), so gradients never go to memory and no separate update pass reads them back.
  const update: Record<string, GPUBuffer> = { W: bufs.weights, ...(bufs.slots[0] ? { M: bufs.slots[0] } : {}), ...(bufs.slots[1] ? { V: bufs.slots[1] } : {}) };
  const hyper = optimizer.kind === 'adam' ? (sl: number) => ({ Hyper: { buffer: bufs.hyper, offset: sl * 256, size: 4 } }) : undefined;
  /** A GEMM as one dispatch, or two when its K is split (partial sums, then their sum and the epilogue). */
  const gemm = (spec: GemmSpec, ranges: Record<string, GPUBuffer>, gathered: boolean) => {
    const full: GemmSpec = { ...gemmShape(spec.batch, spec.M, spec.N, spec.K), ...spec };
    const perStep = (sl: number) => ({ ...(gathered ? byIdx(sl) : {}), ...(hyper ? hyper(sl) : {}) });
    const stepped = gathered || (spec.epilogue.kind === 'update' && hyper) ? perStep : undefined;
    if ((full.splitK ?? 1) <= 1) {
      ops.push(op(gemmKernel(full), { ...ranges, ...update }, stepped));
      return;
    }
    const partial = alloc(full.splitK! * spec.batch * spec.M * spec.N, `${spec.name} partial`);
    ops.push(op(gemmKernel(full), { A: ranges.A, B: ranges.B, Out: partial }, gathered ? byIdx : undefined));
    ops.push(op(gemmSplitReduceKernel(full), { ...ranges, ...update, Partial: partial }, spec.epilogue.kind === 'update' ? hyper : undefined));
  };

  // ---- forward ----
  // Convolutions: ReLU(conv) → A, max-pool → pooled; the first reads the data through Idx.
  const convShapes: ConvShape[] = [];
  const convActs: GPUBuffer[] = [];
  const convInputs: GPUBuffer[] = [];
  let input: GPUBuffer = bufs.data;
  let gathered = true;
  g.convs.forEach((c, i) => {
    const [h, w, ci] = c.inShape;
    const s: ConvShape = {
      peers: P, batch: B, height: h, width: w, inChannels: ci, outChannels: c.outChannels, kernel: c.kernel, pad: c.pad,
      kernelOffset: c.kernelOffset, biasOffset: c.biasOffset, dim: d, gathered,
    };
    const [oh, ow] = convOut(s);
    const act = alloc(P * B * oh * ow * c.outChannels, `conv${i} act`);
    const pooled = alloc(P * B * Math.floor(oh / 2) * Math.floor(ow / 2) * c.outChannels, `conv${i} pooled`);
    const k = convForwardKernel(s);
    ops.push(op(k, { X: input, W: bufs.weights, Out: act }, gathered ? byIdx : undefined));
    ops.push(op(maxPoolKernel({ rows: P * B, height: oh, width: ow, channels: c.outChannels }), { A: act, Out: pooled }));
    convShapes.push(s);
    convActs.push(act);
    convInputs.push(input);
    input = pooled;
    gathered = false;
  });
  // Dense layers: H_{l+1} = act(H_l·W_l + b_l); the logits last.
  const denseInputs: { buffer: GPUBuffer; gathered: boolean }[] = [];
  g.dense.forEach((l, i) => {
    const last = i + 1 === g.dense.length;
    const out = alloc(P * B * l.outWidth, last ? 'logits' : `dense${i} act`);
    const a: Operand = gathered
      ? { transposed: false, offset: 0, batchStride: 0, ld: l.inWidth, gatherRows: B }
      : { transposed: false, offset: 0, batchStride: B * l.inWidth, ld: l.inWidth };
    const k: GemmSpec = {
      name: `dense${i} forward`, batch: P, M: B, N: l.outWidth, K: l.inWidth, a,
      b: { transposed: false, offset: l.kernelOffset, batchStride: d, ld: l.outWidth },
      out: { offset: 0, batchStride: B * l.outWidth, ld: l.outWidth },
      epilogue: { kind: 'store', bias: { offset: l.biasOffset, batchStride: d }, relu: !last },
    };
    gemm(k, { A: input, B: bufs.weights, Out: out }, gathered);
    denseInputs.push({ buffer: input, gathered });
    input = out;
    gathered = false;
  });
  const logits = input;
  const G = alloc(P * B * (C + 2), 'logit grad');
  if (mode === 'eval') {
    ops.push(op(softmaxXentKernel(P * B, C, B), { Z: logits, Labels: bufs.labels, G }, byIdx));
    ops.push(op(P > 1 ? peerEvalAccumulateKernel(P, B, C) : evalAccumulateKernel(P * B, C), { G, Stats: bufs.stats }));
    return ops;
  }
  ops.push(op(softmaxXentLossKernel(P, B, C), { Z: logits, Labels: bufs.labels, G, LossSum: bufs.stats }, byIdx));

  // ---- backward: dense layers, last first ----
  let grad = G;
  let ldGrad = C + 2;
  for (let i = g.dense.length - 1; i >= 0; i--) {
    const l = g.dense[i];
    const src = denseInputs[i];
    // The gradient of this layer's input, from W before the update (the update comes last).
    const needsInputGrad = i > 0 || g.convs.length > 0;
    let inputGrad: GPUBuffer | undefined;
    if (needsInputGrad) {
      inputGrad = alloc(P * B * l.inWidth, `dense${i} input grad`);
      const masked = i > 0; // a dense input went through ReLU; the pooled conv output's ReLU is handled by the pool's backward
      gemm(
        {
          name: `dense${i} dX`, batch: P, M: B, N: l.inWidth, K: l.outWidth,
          a: { transposed: false, offset: 0, batchStride: B * ldGrad, ld: ldGrad },
          b: { transposed: true, offset: l.kernelOffset, batchStride: d, ld: l.outWidth },
          out: { offset: 0, batchStride: B * l.inWidth, ld: l.inWidth },
          epilogue: masked ? { kind: 'mask' } : { kind: 'store' },
        },
        masked ? { A: grad, B: bufs.weights, Mask: src.buffer, Out: inputGrad } : { A: grad, B: bufs.weights, Out: inputGrad },
        false,
      );
    }
    // [dW; db] = [X 1]^T·G in one GEMM (the bias gradient is the extra row of ones), updating W in place.
    const a: Operand = src.gathered
      ? { transposed: true, offset: 0, batchStride: 0, ld: l.inWidth, gatherRows: B, onesRow: l.inWidth }
      : { transposed: true, offset: 0, batchStride: B * l.inWidth, ld: l.inWidth, onesRow: l.inWidth };
    gemm(
      {
        name: `dense${i} dW`, batch: P, M: l.inWidth + 1, N: l.outWidth, K: B, a,
        b: { transposed: false, offset: 0, batchStride: B * ldGrad, ld: ldGrad },
        out: { offset: l.kernelOffset, batchStride: d, ld: l.outWidth },
        epilogue: { kind: 'update', optimizer },
      },
      { A: src.buffer, B: grad },
      src.gathered,
    );
    if (inputGrad) {
      grad = inputGrad;
      ldGrad = l.inWidth;
    }
  }

  // ---- backward: convolutions, last first ----
  for (let i = g.convs.length - 1; i >= 0; i--) {
    const s = convShapes[i];
    const [oh, ow] = convOut(s);
    const pool: PoolShape = { rows: P * B, height: oh, width: ow, channels: s.outChannels };
    const dAct = alloc(P * B * oh * ow * s.outChannels, `conv${i} act grad`);
    ops.push(op(maxPoolReluGradKernel(pool), { A: convActs[i], DP: grad, DA: dAct }));
    const partial = alloc(P * convGradChunks(s) * (s.kernel * s.kernel * s.inChannels + 1) * s.outChannels, `conv${i} partial`);
    const pk = convKernelGradPartialKernel(s);
    const pr = { X: convInputs[i], DZ: dAct, Partial: partial };
    ops.push(op(pk, pr, s.gathered ? byIdx : undefined));
    if (i > 0) {
      // The input gradient reads this layer's kernel before its update below.
      const dIn = alloc(P * B * s.height * s.width * s.inChannels, `conv${i} input grad`);
      ops.push(op(convInputGradKernel(s), { DZ: dAct, W: bufs.weights, DX: dIn }));
      grad = dIn;
    }
    ops.push(op(convKernelGradReduceKernel(s, optimizer), { Partial: partial, ...update }, hyper));
  }

  return ops;
}

/**
 * Tile and K split of a plan's GEMM with batch × [M×N] outputs over K: a long K over too few
 * output tiles to fill the GPU is split (measured on an H200: docs/gpu.md, "Where the time goes").
 */
export function gemmShape(batch: number, M: number, N: number, K: number): { tile: GemmTile; splitK: number } {
  const tile = defaultTile(M, N);
  const groups = Math.ceil(M / tile.TM) * Math.ceil(N / tile.TN) * batch;
  if (groups >= 32 || K < 256) return { tile, splitK: 1 };
  const want = Math.min(8, Math.ceil(64 / groups), Math.floor(K / 64));
  // Splits of whole TK-deep tiles: as many as K fills (784 over 8 wanted is 7 of 112).
  const KC = Math.ceil(K / want / tile.TK) * tile.TK;
  return { tile, splitK: Math.ceil(K / KC) };
}

/** Byte stride of one step slot's indices for P·B rows (aligned for binding). */
export function idxSlotBytes(rows: number): number {
  return alignBytes(rows * 4);
}
