// PowerSGD (Vogels et al. 2019) as a two-phase group exchange, and PowerSGD+ (RECONSTRUCTED):
// PowerSGD plus, every `refreshEvery` rounds, one dense exchange of M and a reset of Q to the
// top-r right singular vectors of the averaged M.
//
// Per matrix layer (rows × cols, see layers.ts), with error memory E and warm start Q:
//   phase 0: M = G + E; send P = M·Q (rows × r)
//   phase 1: P̂ = orthonormalise(mean P); send Q_i = Mᵀ·P̂ (cols × r)
//   done:    Ĝ = P̂·mean(Q)ᵀ; E ← M − Ĝ; Q ← mean(Q)
// A layer is compressed only if r·(rows + cols) < rows·cols / 2; other layers (and 1-D
// tensors) travel dense in phase 0 and are averaged exactly.
import type { ParamLayout, Params } from '../params/index.js';
import { Rng } from '../util/rng.js';
import type { CompressionContext } from './context.js';
import {
  collectPhase,
  digestOf,
  denseSections,
  f32Section,
  finalEstimate,
  meanLayerInto,
  meanSection,
  phaseMessage,
  planSections,
  startContext,
  withError,
  type GroupCompressor,
  type SessionBase,
} from './group.js';
import { matrixShape, type MatrixShape } from './layers.js';
import { gaussianMatrix, mulLeftTransposed, mulOuter, mulRight, orthonormalizeColumns, topRightSingularVectors } from './linalg.js';
import { ABSENT } from './sections.js';
import type { MethodParams } from './wire.js';

/** Options for PowerSGD. */
export interface PowerSgdOptions {
  readonly rank: number;
  readonly seed: number;
  /** PowerSGD+: a dense exchange and SVD reset every this many rounds (rounds where round % refreshEvery = 0). */
  readonly refreshEvery?: number;
}

/** PowerSGD's memory: the error feedback and the warm-start Q per layer. */
export interface PowerSgdState {
  readonly error: Float32Array;
  /** Warm start per layer (cols × r, row-major); null for layers sent dense or not yet started. */
  readonly q: readonly (Float32Array | null)[];
}

/** A PowerSGD round in progress. */
export interface PowerSgdSession extends SessionBase<PowerSgdState> {
  readonly mode: 'dense' | 'low-rank';
  readonly m: Float32Array;
  /** Estimate of the layers already known (dense layers after phase 0). */
  readonly estimate?: Float32Array;
  readonly pHat?: readonly (Float64Array | null)[];
}

/** Which layers PowerSGD compresses at rank r (undefined = dense). */
export function powerSgdPlan(layout: ParamLayout, rank: number): (MatrixShape | undefined)[] {
  return layout.tensors.map((t) => {
    const m = matrixShape(t);
    return m && rank * (m.rows + m.cols) < (m.rows * m.cols) / 2 ? m : undefined;
  });
}

/** PowerSGD: a rank-r approximation of each matrix by one power iteration, all-reduced in two phases. */
export function powerSgd(options: PowerSgdOptions): GroupCompressor<PowerSgdState, PowerSgdSession> {
  const { rank: r, seed, refreshEvery } = options;
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`PowerSGD: rank must be a positive integer, got ${r}`);
  if (refreshEvery !== undefined && (!Number.isInteger(refreshEvery) || refreshEvery < 1)) {
    throw new RangeError(`PowerSGD+: refreshEvery must be a positive integer, got ${refreshEvery}`);
  }
  const plus = refreshEvery !== undefined;
  const method = plus ? 'powersgd-plus' : 'powersgd';
  const params: MethodParams = plus ? { rank: r, seed, refreshEvery } : { rank: r, seed };
  const checkSeed = (ctx: CompressionContext) => {
    if (ctx.seed !== seed) throw new RangeError(`${method}: context seed ${ctx.seed} differs from the compressor's seed ${seed}`);
  };

  const warmStart = (state: PowerSgdState, l: number, cols: number): Float64Array => {
    const q = state.q[l];
    if (q && q.length === cols * r) return Float64Array.from(q);
    return gaussianMatrix(Rng.derive(seed, 'powersgd-q', l), cols, r);
  };

  const finish = (s: PowerSgdSession, estimate: Float32Array, error: Float32Array, q: (Float32Array | null)[], excluded: SessionBase<unknown>['excluded']) => ({
    kind: 'done' as const,
    estimate: finalEstimate(s.layout, estimate),
    state: { error, q },
    excluded,
  });

  return {
    kind: 'group',
    name: method,
    initialState: (layout) => ({ error: new Float32Array(layout.size), q: layout.tensors.map(() => null) }),
    begin(update: Params, state, ctx) {
      startContext(update, ctx);
      checkSeed(ctx);
      const { layout } = update;
      const m = withError(update.data, state.error);
      const base = { ctx, layout, state, phase: 0, excluded: [], m };
      if (plus && ctx.round % refreshEvery === 0) {
        return { kind: 'send', phase: 0, message: phaseMessage(method, params, ctx, 0, layout, denseSections(m, layout)), session: { ...base, mode: 'dense' } };
      }
      const plan = powerSgdPlan(layout, r);
      const sections = planSections(m, layout, plan, (view, shape, l) => mulRight(view, shape.rows, shape.cols, warmStart(state, l, shape.cols), r));
      return { kind: 'send', phase: 0, message: phaseMessage(method, params, ctx, 0, layout, sections), session: { ...base, mode: 'low-rank' } };
    },
    step(s, received, limits) {
      const { layout, ctx } = s;
      const { messages, excluded } = collectPhase(received, s, method, params, limits);
      const allExcluded = [...s.excluded, ...excluded];
      const plan = powerSgdPlan(layout, r);
      if (s.mode === 'dense') {
        const estimate = new Float32Array(layout.size);
        layout.tensors.forEach((_, l) => meanLayerInto(messages, layout, l, estimate));
        const error = new Float32Array(layout.size);
        const q = layout.tensors.map((t, l) => {
          const shape = plan[l];
          if (!shape) return null;
          for (let i = t.offset; i < t.offset + t.size; i++) error[i] = s.m[i] - estimate[i];
          const rng = Rng.derive(seed, 'powersgd-plus-svd', ctx.round, l);
          return Float32Array.from(topRightSingularVectors(estimate.subarray(t.offset, t.offset + t.size), shape.rows, shape.cols, r, rng));
        });
        return finish(s, estimate, error, q, allExcluded);
      }
      if (s.phase === 0) {
        const estimate = new Float32Array(layout.size);
        const pHat = layout.tensors.map((t, l) => {
          const shape = plan[l];
          if (!shape) {
            meanLayerInto(messages, layout, l, estimate);
            return null;
          }
          return orthonormalizeColumns(meanSection(messages, l, shape.rows * r), shape.rows, r);
        });
        if (pHat.every((p) => p === null)) return finish(s, estimate, new Float32Array(layout.size), s.state.q.slice(), allExcluded);
        const sections = layout.tensors.map((t, l) => {
          const p = pHat[l];
          const shape = plan[l];
          return p && shape ? f32Section(mulLeftTransposed(s.m.subarray(t.offset, t.offset + t.size), shape.rows, shape.cols, p, r)) : ABSENT;
        });
        const digest = digestOf(pHat);
        const next: PowerSgdSession = { ...s, phase: 1, estimate, pHat, excluded: allExcluded };
        return { kind: 'send', phase: 1, message: phaseMessage(method, { ...params, digest }, ctx, 1, layout, sections), session: next };
      }
      const estimate = s.estimate!;
      const error = new Float32Array(layout.size);
      const q = layout.tensors.map((t, l) => {
        const p = s.pHat![l];
        const shape = plan[l];
        if (!p || !shape) return null;
        const qMean = meanSection(messages, l, shape.cols * r);
        const view = estimate.subarray(t.offset, t.offset + t.size);
        mulOuter(p, qMean, shape.rows, shape.cols, r, view);
        for (let i = t.offset; i < t.offset + t.size; i++) error[i] = s.m[i] - estimate[i];
        return Float32Array.from(qMean);
      });
      return finish(s, estimate, error, q, allExcluded);
    },
  };
}
