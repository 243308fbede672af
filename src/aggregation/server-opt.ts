// Adaptive server optimizers FedAdagrad, FedYogi and FedAdam (Reddi et al. 2021, "Adaptive
// Federated Optimization", Algorithm 2). The server treats the round's mean client change as a
// pseudo-gradient and takes one adaptive step with it:
//   Δ = Σ_i w_i (x_i − x) / Σ_i w_i           (w_i = sample count; the paper's plain mean when equal)
//   m ← β1·m + (1 − β1)·Δ
//   v ← v + Δ²                                  FedAdagrad
//   v ← v − (1 − β2)·Δ²·sign(v − Δ²)            FedYogi
//   v ← β2·v + (1 − β2)·Δ²                      FedAdam
//   x ← x + η·m / (√v + τ)
// m starts at 0 and v at τ² (the paper asks v₋₁ ≥ τ²); there is no bias correction, as in the
// paper. Per coordinate in float64, stored as float32.
import { paramsFrom } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import type { StatefulAggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** Which second-moment update the server uses. */
export type ServerOptimizerKind = 'fedadagrad' | 'fedyogi' | 'fedadam';

/** The server optimizer's memory: first and second moments (null before the first round). */
export interface ServerOptimizerState {
  readonly rule: ServerOptimizerKind;
  readonly m: Float32Array | null;
  readonly v: Float32Array | null;
  /** Server steps taken. */
  readonly step: number;
}

/** Hyper-parameters of an adaptive server optimizer; see docs/aggregation.md. */
export interface ServerOptimizerOptions {
  /** η, the server learning rate. */
  readonly serverLr: number;
  /** β1, momentum of the pseudo-gradient (default 0.9). */
  readonly beta1?: number;
  /** β2, decay of the second moment (FedYogi, FedAdam; default 0.99). */
  readonly beta2?: number;
  /** τ, the adaptivity: added to √v, and v starts at τ² (default 1e-3). */
  readonly tau?: number;
}

/** The paper's defaults where it fixes them (β1 = 0.9, β2 = 0.99) and its recommended τ = 1e-3. */
export const SERVER_OPTIMIZER_DEFAULTS = { beta1: 0.9, beta2: 0.99, tau: 1e-3 } as const;

/** A server optimizer's memory before the first round. */
export function serverOptimizerInitialState(kind: ServerOptimizerKind): ServerOptimizerState {
  return { rule: kind, m: null, v: null, step: 0 };
}

/** One of FedAdagrad, FedYogi, FedAdam over the round's pseudo-gradient; `own` is the global model. */
export function serverOptimizer(kind: ServerOptimizerKind, options: ServerOptimizerOptions): StatefulAggregationRule<ServerOptimizerState> {
  const eta = options.serverLr;
  const b1 = options.beta1 ?? SERVER_OPTIMIZER_DEFAULTS.beta1;
  const b2 = options.beta2 ?? SERVER_OPTIMIZER_DEFAULTS.beta2;
  const tau = options.tau ?? SERVER_OPTIMIZER_DEFAULTS.tau;
  return (state, own, received, ctx) => {
    const total = validateInputs(kind, own, received, ctx, { positiveTotal: true });
    if (received.length === 0) throw new AggregationError(`${kind}: no participants this round; skip the server step instead`);
    const x = own.data;
    const n = x.length;
    const delta = new Float64Array(n);
    for (const c of received) {
      const w = c.weight / total;
      const xi = c.params.data;
      for (let k = 0; k < n; k++) delta[k] += w * (xi[k] - x[k]);
    }
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const out = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const d = delta[k];
      const d2 = d * d;
      const mk = b1 * (state.m ? state.m[k] : 0) + (1 - b1) * d;
      const vPrev = state.v ? state.v[k] : tau * tau;
      const vk =
        kind === 'fedadagrad' ? vPrev + d2 : kind === 'fedyogi' ? vPrev - (1 - b2) * d2 * Math.sign(vPrev - d2) : b2 * vPrev + (1 - b2) * d2;
      m[k] = mk;
      v[k] = vk;
      // The step reads the stored (float32) moments, so a checkpointed state replays exactly.
      out[k] = x[k] + (eta * m[k]) / (Math.sqrt(v[k]) + tau);
    }
    return { params: paramsFrom(own.layout, out), state: { rule: kind, m, v, step: state.step + 1 } };
  };
}
