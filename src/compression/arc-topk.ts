// ARC-Top-K (all-reduce-compatible top-k) as a two-phase group exchange. Per matrix layer
// (rows × cols, see layers.ts) with error memory E (EF14, kept per peer):
//   phase 0: M = G + E; send the sketch P = M·V (rows × r), V ~ N(0,1)^{cols×r} from the
//            group's seed, fresh every round
//   phase 1: score row j by ‖mean(P)_j‖²; every peer picks the same K = max(1, ⌊ρ·rows⌋)
//            rows (so no indices travel); send those K rows of M
//   done:    the estimate is the mean of those rows (other rows 0); E ← M with those rows zeroed
// Layers where rows·r + K·cols ≥ rows·cols, and 1-D tensors, travel dense in phase 0.
// The first `denseRounds` rounds are one dense exchange (E ← 0).
import type { ParamLayout } from '../params/index.js';
import type { CompressionContext } from './context.js';
import { layerRng } from './context.js';
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
import { matrixShape } from './layers.js';
import { gaussianMatrix, mulRight } from './linalg.js';
import { ABSENT } from './sections.js';
import { topScores } from './select.js';
import type { MethodParams } from './wire.js';

/** Options for ARC-Top-K. */
export interface ArcTopKOptions {
  /** Fraction of rows kept (default 0.2). */
  readonly rho?: number;
  /** Columns of the sketch V (default 4). */
  readonly sketchRank?: number;
  /** Rounds 0..denseRounds−1 exchange dense (default 0). */
  readonly denseRounds?: number;
  readonly seed: number;
}

/** ARC-Top-K's memory: the error feedback. */
export interface ArcTopKState {
  readonly error: Float32Array;
}

/** An ARC-Top-K round in progress. */
export interface ArcTopKSession extends SessionBase<ArcTopKState> {
  readonly mode: 'dense' | 'sketch';
  readonly m: Float32Array;
  readonly estimate?: Float32Array;
  /** Chosen rows per compressed layer (ascending). */
  readonly rows?: readonly (Uint32Array | null)[];
}

/** How ARC-Top-K compresses one matrix layer: its shape and how many rows it keeps. */
export interface ArcLayer {
  readonly rows: number;
  readonly cols: number;
  readonly keep: number;
}

/** ARC-Top-K's per-layer plan for a layout (undefined for layers sent dense). */
export function arcTopKPlan(layout: ParamLayout, rho: number, r: number): (ArcLayer | undefined)[] {
  return layout.tensors.map((t) => {
    const m = matrixShape(t);
    if (!m) return undefined;
    const keep = Math.max(1, Math.floor(rho * m.rows));
    return m.rows * r + keep * m.cols < m.rows * m.cols ? { ...m, keep } : undefined;
  });
}

/** ARC-Top-K: peers pick the same rows to keep from a shared sketch, then all-reduce those rows. */
export function arcTopK(options: ArcTopKOptions): GroupCompressor<ArcTopKState, ArcTopKSession> {
  const rho = options.rho ?? 0.2;
  const r = options.sketchRank ?? 4;
  const denseRounds = options.denseRounds ?? 0;
  const { seed } = options;
  if (!(rho > 0 && rho <= 1)) throw new RangeError(`ARC-Top-K: rho must be in (0, 1], got ${rho}`);
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`ARC-Top-K: sketchRank must be a positive integer, got ${r}`);
  if (!Number.isInteger(denseRounds) || denseRounds < 0) throw new RangeError(`ARC-Top-K: denseRounds must be a non-negative integer, got ${denseRounds}`);
  const params: MethodParams = { rho, sketchRank: r, denseRounds, seed };
  const sketch = (ctx: CompressionContext, l: number, cols: number) => gaussianMatrix(layerRng({ ...ctx, seed }, 'arc-top-k-v', l, false), cols, r);

  return {
    kind: 'group',
    name: 'arc-top-k',
    initialState: (layout) => ({ error: new Float32Array(layout.size) }),
    begin(update, state, ctx) {
      startContext(update, ctx);
      if (ctx.seed !== seed) throw new RangeError(`arc-top-k: context seed ${ctx.seed} differs from the compressor's seed ${seed}`);
      const { layout } = update;
      const m = withError(update.data, state.error);
      const base = { ctx, layout, state, phase: 0, excluded: [], m };
      if (ctx.round < denseRounds) {
        return { kind: 'send', phase: 0, message: phaseMessage('arc-top-k', params, ctx, 0, layout, denseSections(m, layout)), session: { ...base, mode: 'dense' } };
      }
      const plan = arcTopKPlan(layout, rho, r);
      const sections = planSections(m, layout, plan, (view, a, l) => mulRight(view, a.rows, a.cols, sketch(ctx, l, a.cols), r));
      return { kind: 'send', phase: 0, message: phaseMessage('arc-top-k', params, ctx, 0, layout, sections), session: { ...base, mode: 'sketch' } };
    },
    step(s, received, limits) {
      const { layout, ctx } = s;
      const { messages, excluded } = collectPhase(received, s, 'arc-top-k', params, limits);
      const allExcluded = [...s.excluded, ...excluded];
      const plan = arcTopKPlan(layout, rho, r);
      if (s.mode === 'dense' || (s.phase === 0 && plan.every((a) => !a))) {
        const estimate = new Float32Array(layout.size);
        layout.tensors.forEach((_, l) => (s.mode === 'dense' || !plan[l]) && meanLayerInto(messages, layout, l, estimate));
        return { kind: 'done', estimate: finalEstimate(layout, estimate), state: { error: new Float32Array(layout.size) }, excluded: allExcluded };
      }
      if (s.phase === 0) {
        const estimate = new Float32Array(layout.size);
        const rows = layout.tensors.map((t, l) => {
          const a = plan[l];
          if (!a) {
            meanLayerInto(messages, layout, l, estimate);
            return null;
          }
          const p = meanSection(messages, l, a.rows * r);
          const scores = new Float64Array(a.rows);
          for (let j = 0; j < a.rows; j++) for (let b = 0; b < r; b++) scores[j] += p[j * r + b] ** 2;
          return topScores(scores, a.keep);
        });
        const sections = layout.tensors.map((t, l) => {
          const chosen = rows[l];
          const a = plan[l];
          if (!chosen || !a) return ABSENT;
          const out = new Float32Array(chosen.length * a.cols);
          chosen.forEach((row, j) => out.set(s.m.subarray(t.offset + row * a.cols, t.offset + (row + 1) * a.cols), j * a.cols));
          return f32Section(out);
        });
        const digest = digestOf(rows);
        const next: ArcTopKSession = { ...s, phase: 1, estimate, rows, excluded: allExcluded };
        return { kind: 'send', phase: 1, message: phaseMessage('arc-top-k', { ...params, digest }, ctx, 1, layout, sections), session: next };
      }
      const estimate = s.estimate!;
      const error = new Float32Array(layout.size);
      layout.tensors.forEach((t, l) => {
        const chosen = s.rows![l];
        const a = plan[l];
        if (!chosen || !a) return;
        error.set(s.m.subarray(t.offset, t.offset + t.size), t.offset);
        const mean = meanSection(messages, l, chosen.length * a.cols);
        chosen.forEach((row, j) => {
          const at = t.offset + row * a.cols;
          for (let c = 0; c < a.cols; c++) {
            estimate[at + c] = mean[j * a.cols + c];
            error[at + c] = 0;
          }
        });
      });
      return { kind: 'done', estimate: finalEstimate(layout, estimate), state: { error }, excluded: allExcluded };
    },
  };
}
