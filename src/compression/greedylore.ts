// GreedyLore as a group exchange. Per matrix layer (rows × cols, see layers.ts), with error
// memory E and a basis U (rows × m, m = min(rows, cols)) shared by the group:
//   refresh rounds (round % refreshEvery = 0): one dense exchange of G; the estimate is the
//     mean; U ← left singular vectors of that mean (all m of them); E ← 0
//   other rounds:
//     phase 0: M = G + E; score each basis vector by s_j = u_jᵀ·M·z with a Gaussian probe z
//              shared by the group; send s (m values)
//     phase 1: pick the r basis vectors with the largest mean(s)²: P (rows × r); send Pᵀ·M (r × cols)
//     done:    Ĝ = P·mean(PᵀM); E ← M − P·PᵀM
// A layer is compressed only if m + r·cols < rows·cols / 2; others travel dense in phase 0.
// When rows > cols, U spans the mean gradient's column space at the refresh (m = cols); a
// direction with zero singular value stays a zero column (it carries nothing). The SVD is an
// eigen-decomposition of the smaller Gram matrix by Jacobi rotations: O(m³) per refresh.
import type { ParamLayout } from '../params/index.js';
import { GossipflError } from '../util/errors.js';
import type { CompressionContext } from './context.js';
import { layerRng } from './context.js';
import {
  collectPhase,
  denseSections,
  digestOf,
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
import { mulLeftTransposed, mulOuter, orthonormalizeColumns, symmetricEigen } from './linalg.js';
import { ABSENT } from './sections.js';
import { topScores } from './select.js';
import type { MethodParams } from './wire.js';

/** Options for GreedyLore. */
export interface GreedyLoreOptions {
  readonly rank: number;
  readonly refreshEvery: number;
  readonly seed: number;
}

/** GreedyLore's memory: the error feedback and a basis per layer. */
export interface GreedyLoreState {
  readonly error: Float32Array;
  /** Per layer the basis U (rows × m, row-major); null before the first refresh or for dense layers. */
  readonly basis: readonly (Float64Array | null)[];
}

/** A GreedyLore round in progress. */
export interface GreedyLoreSession extends SessionBase<GreedyLoreState> {
  readonly mode: 'refresh' | 'greedy';
  readonly m: Float32Array;
  readonly estimate?: Float32Array;
  /** Chosen basis columns per layer: P (rows × r). */
  readonly chosen?: readonly (Float64Array | null)[];
}

/** How GreedyLore compresses one matrix layer: its shape and the basis width m. */
export interface LoreLayer extends MatrixShape {
  readonly m: number;
}

/** GreedyLore's per-layer plan for a layout (undefined for layers sent dense). */
export function greedyLorePlan(layout: ParamLayout, rank: number): (LoreLayer | undefined)[] {
  return layout.tensors.map((t) => {
    const s = matrixShape(t);
    if (!s) return undefined;
    const m = Math.min(s.rows, s.cols);
    return rank < m && m + rank * s.cols < (s.rows * s.cols) / 2 ? { ...s, m } : undefined;
  });
}

/** All m = min(rows, cols) left singular vectors of G (rows × cols), as the columns of a rows × m matrix, by singular value. */
export function leftSingularBasis(g: Float32Array, rows: number, cols: number): Float64Array {
  if (rows <= cols) {
    const a = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) {
      for (let j = i; j < rows; j++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += g[i * cols + c] * g[j * cols + c];
        a[i * rows + j] = s;
        a[j * rows + i] = s;
      }
    }
    return symmetricEigen(a, rows).vectors;
  }
  const a = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const x = g[i * cols + c];
      if (x === 0) continue;
      for (let d = c; d < cols; d++) a[c * cols + d] += x * g[i * cols + d];
    }
  }
  for (let c = 0; c < cols; c++) for (let d = 0; d < c; d++) a[c * cols + d] = a[d * cols + c];
  const { vectors } = symmetricEigen(a, cols);
  // U = G·V, columns normalised (zero singular values give zero columns).
  const u = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const x = g[i * cols + c];
      if (x === 0) continue;
      for (let j = 0; j < cols; j++) u[i * cols + j] += x * vectors[c * cols + j];
    }
  }
  return orthonormalizeColumns(u, rows, cols);
}

/** GreedyLore: sends each matrix in the r directions of a shared, periodically refreshed basis that score highest this round. */
export function greedyLore(options: GreedyLoreOptions): GroupCompressor<GreedyLoreState, GreedyLoreSession> {
  const { rank: r, refreshEvery, seed } = options;
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`GreedyLore: rank must be a positive integer, got ${r}`);
  if (!Number.isInteger(refreshEvery) || refreshEvery < 1) throw new RangeError(`GreedyLore: refreshEvery must be a positive integer, got ${refreshEvery}`);
  const params: MethodParams = { rank: r, refreshEvery, seed };
  const probe = (ctx: CompressionContext, l: number, cols: number) => {
    const rng = layerRng({ ...ctx, seed }, 'greedylore-probe', l, false);
    const z = new Float64Array(cols);
    for (let c = 0; c < cols; c++) z[c] = rng.normal();
    return z;
  };

  return {
    kind: 'group',
    name: 'greedylore',
    initialState: (layout) => ({ error: new Float32Array(layout.size), basis: layout.tensors.map(() => null) }),
    begin(update, state, ctx) {
      startContext(update, ctx);
      if (ctx.seed !== seed) throw new RangeError(`greedylore: context seed ${ctx.seed} differs from the compressor's seed ${seed}`);
      const { layout } = update;
      const base = { ctx, layout, state, phase: 0, excluded: [] };
      if (ctx.round % refreshEvery === 0) {
        return { kind: 'send', phase: 0, message: phaseMessage('greedylore', params, ctx, 0, layout, denseSections(update.data, layout)), session: { ...base, mode: 'refresh', m: update.data } };
      }
      const plan = greedyLorePlan(layout, r);
      const m = withError(update.data, state.error);
      const sections = planSections(m, layout, plan, (view, a, l) => {
        const u = state.basis[l];
        if (!u || u.length !== a.rows * a.m) {
          throw new GossipflError('state', `GreedyLore has no basis for layer '${layout.tensors[l].name}' in round ${ctx.round}: a peer must take part in a refresh round (round % ${refreshEvery} = 0) first`);
        }
        // s = Uᵀ(M z)
        const z = probe(ctx, l, a.cols);
        const scores = new Float64Array(a.m);
        for (let i = 0; i < a.rows; i++) {
          let w = 0;
          for (let c = 0; c < a.cols; c++) w += view[i * a.cols + c] * z[c];
          if (w === 0) continue;
          for (let j = 0; j < a.m; j++) scores[j] += u[i * a.m + j] * w;
        }
        return scores;
      });
      return { kind: 'send', phase: 0, message: phaseMessage('greedylore', params, ctx, 0, layout, sections), session: { ...base, mode: 'greedy', m } };
    },
    step(s, received, limits) {
      const { layout, ctx } = s;
      const { messages, excluded } = collectPhase(received, s, 'greedylore', params, limits);
      const allExcluded = [...s.excluded, ...excluded];
      const plan = greedyLorePlan(layout, r);
      if (s.mode === 'refresh') {
        const estimate = new Float32Array(layout.size);
        layout.tensors.forEach((_, l) => meanLayerInto(messages, layout, l, estimate));
        const basis = layout.tensors.map((t, l) => {
          const a = plan[l];
          return a ? leftSingularBasis(estimate.subarray(t.offset, t.offset + t.size), a.rows, a.cols) : null;
        });
        return { kind: 'done', estimate: finalEstimate(layout, estimate), state: { error: new Float32Array(layout.size), basis }, excluded: allExcluded };
      }
      if (s.phase === 0) {
        const estimate = new Float32Array(layout.size);
        const picks = layout.tensors.map((_, l) => {
          const a = plan[l];
          if (!a) {
            meanLayerInto(messages, layout, l, estimate);
            return null;
          }
          const mean = meanSection(messages, l, a.m);
          for (let j = 0; j < a.m; j++) mean[j] *= mean[j];
          return topScores(mean, r);
        });
        if (picks.every((p) => p === null)) return { kind: 'done', estimate: finalEstimate(layout, estimate), state: s.state, excluded: allExcluded };
        const chosen = layout.tensors.map((_, l) => {
          const pick = picks[l];
          const a = plan[l];
          const u = s.state.basis[l];
          if (!pick || !a || !u) return null;
          const p = new Float64Array(a.rows * r);
          for (let i = 0; i < a.rows; i++) for (let b = 0; b < r; b++) p[i * r + b] = u[i * a.m + pick[b]];
          return p;
        });
        const sections = layout.tensors.map((t, l) => {
          const p = chosen[l];
          const a = plan[l];
          return p && a ? f32Section(transpose(mulLeftTransposed(s.m.subarray(t.offset, t.offset + t.size), a.rows, a.cols, p, r), a.cols, r)) : ABSENT;
        });
        const next: GreedyLoreSession = { ...s, phase: 1, estimate, chosen, excluded: allExcluded };
        return { kind: 'send', phase: 1, message: phaseMessage('greedylore', { ...params, digest: digestOf(picks) }, ctx, 1, layout, sections), session: next };
      }
      const estimate = s.estimate!;
      const error = new Float32Array(layout.size);
      layout.tensors.forEach((t, l) => {
        const p = s.chosen![l];
        const a = plan[l];
        if (!p || !a) return;
        const view = s.m.subarray(t.offset, t.offset + t.size);
        // Own PᵀM again (cols × r) for the error; the mean of everyone's for the estimate.
        const own = mulLeftTransposed(view, a.rows, a.cols, p, r);
        const local = mulOuter(p, own, a.rows, a.cols, r, new Float32Array(t.size));
        const mean = transpose(meanSection(messages, l, r * a.cols), r, a.cols);
        mulOuter(p, mean, a.rows, a.cols, r, estimate.subarray(t.offset, t.offset + t.size));
        for (let i = 0; i < t.size; i++) error[t.offset + i] = view[i] - local[i];
      });
      return { kind: 'done', estimate: finalEstimate(layout, estimate), state: { error, basis: s.state.basis }, excluded: allExcluded };
    },
  };
}

/** Transpose of a row-major rows × cols matrix. */
function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j];
  return out;
}
