// SCAFFOLD over gossip: K-GT (Liu, Lin, Koloskova and Stich, "Decentralized Gradient Tracking
// with Local Steps", Optimization Methods and Software 2024, arXiv:2301.01313), written in
// SCAFFOLD's terms (Karimireddy et al. 2020, control update option II). Without a server there
// is no global control variate c; each peer i keeps its own control variate c_i and ĉ_i, its
// gossip estimate of c = (1/n)·Σ_j c_j. One round of peer i, from x_i:
//   K local steps      y ← y − η·(∇F_i(y) + ĉ_i − c_i)               (trainer's `correction`)
//   control update     c_i⁺ = c_i − ĉ_i + (x_i − y_i)/(K·η),  Δc_i = c_i⁺ − c_i
//   tracked estimate   ĉ_i ← ĉ_i + Δc_i                                (before anything is sent)
//   sent model         v_i = x_i + η_s·(y_i − x_i)                     (η_s = 1: v_i = y_i)
//   mixing             x_i ← v_i + Σ_j W_ij (v_j − v_i),   ĉ_i ← ĉ_i + Σ_j W_ij (ĉ_j − ĉ_i)
// c_i and ĉ_i start at 0. Both c_i and ĉ_i move by Δc_i, and with a doubly stochastic W mixing
// keeps the mean of the ĉ_i, so mean_i ĉ_i = mean_i c_i = SCAFFOLD's c in every round (gradient
// tracking of c). With W = (1/n)·11ᵀ (topology complete) every ĉ_i is c and every x_i the mean
// model: SCAFFOLD with full participation and global step η_s. Writing K-GT's correction as
// ĉ_i − c_i and its z_i as (x_i − y_i)/(K·η), the updates above are K-GT's: the correction
// becomes corr_i − z_i + Σ_j W_ij z_j and the model Σ_j W_ij (x_j − η_s·K·η·z_j).
//
// The local steps and the control update run in the round driver (src/peer/local-training.ts,
// with scaffoldCorrection and scaffoldClientUpdate of ./scaffold.ts); this file is the mixing
// of models and estimates, whose state is ĉ_i. A contribution's `control` carries the sender's
// ĉ_j; one without it (its estimate did not arrive) is mixed as a model only, the estimate's
// weight staying with self, which breaks the mean: like CHOCO, it needs every message to arrive.
import { paramsFrom, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { checkRowWeights } from './gossip.js';
import { addWeightedDifferences } from './kernels.js';
import type { StatefulAggregationRule } from './types.js';
import { checkParams, validateInputs } from './validate.js';

/** A gossip peer's SCAFFOLD memory in the mixing: ĉ_i, its estimate of the global control variate (null = 0). */
export interface ScaffoldGossipState {
  readonly rule: 'scaffold-gossip';
  readonly estimate: Float32Array | null;
}

/** The rule's options: η_s, the step on each peer's round change before mixing (K-GT's server step size). */
export interface ScaffoldGossipOptions {
  readonly stepSize?: number;
}

/** ĉ_i = 0 before the first round. */
export function scaffoldGossipInitialState(): ScaffoldGossipState {
  return { rule: 'scaffold-gossip', estimate: null };
}

/** The estimate after the peer's own control update: ĉ_i + Δc_i (a new array), what it sends. */
export function trackControl(state: ScaffoldGossipState, controlDelta: Float32Array): ScaffoldGossipState {
  const estimate = new Float32Array(controlDelta.length);
  for (let k = 0; k < estimate.length; k++) estimate[k] = (state.estimate ? state.estimate[k] : 0) + controlDelta[k];
  return { rule: 'scaffold-gossip', estimate };
}

/** v = x + η_s·(y − x): the model a peer sends after its local steps from x (a new array; y itself when η_s = 1). */
export function scaffoldGossipStep(start: Float32Array, trained: Float32Array, stepSize: number): Float32Array {
  if (stepSize === 1) return trained.slice();
  const out = new Float32Array(trained.length);
  for (let k = 0; k < out.length; k++) out[k] = start[k] + stepSize * (trained[k] - start[k]);
  return out;
}

/** Mixes the models and, over the contributions that carry one, the estimates ĉ_j, with the row's weights W_ij. */
export function scaffoldGossip(): StatefulAggregationRule<ScaffoldGossipState> {
  return (state, own, received, ctx) => {
    const total = validateInputs('scaffold-gossip', own, received, ctx);
    checkRowWeights('scaffold-gossip', total, ctx);
    const n = own.data.length;
    if (state.estimate && state.estimate.length !== n) throw new AggregationError(`scaffold-gossip: the estimate ĉ holds ${state.estimate.length} values, the model ${n}`);
    const models = new Float32Array(n);
    addWeightedDifferences(models, own.data, own.data, received.map((c) => c.params.data), received.map((c) => c.weight), 1);
    const withControl = received.filter((c) => c.control);
    for (const c of withControl) checkParams(c.control!, own, `estimate ĉ of '${c.from}'`, 'scaffold-gossip');
    const self = state.estimate ?? new Float32Array(n);
    const estimate = new Float32Array(n);
    addWeightedDifferences(estimate, self, self, withControl.map((c) => c.control!.data), withControl.map((c) => c.weight), 1);
    return { params: paramsFrom(own.layout, models), state: { rule: 'scaffold-gossip', estimate } };
  };
}

/** ĉ_i as Params of the model's layout (what a peer sends in the estimate exchange). */
export function estimateParams(like: Params, state: ScaffoldGossipState): Params {
  return paramsFrom(like.layout, state.estimate ?? new Float32Array(like.data.length));
}
