// Variance-corrected averaging (Vanishing Variance). Averaging independently initialised
// models shrinks each tensor's spread, and the shrunken weights train slowly; VCA averages,
// then rescales each tensor around its mean back to a target variance. Per tensor l at peer
// i with R received models W_j:
//   1. W̄ = c·W_i + (1−c)·(1/R)·Σ_j W_j                       (computed as W_i + (1−c)(mean − W_i))
//   2. σ² = (1/R)·Σ_j Var(W_j)                 'follow-others' (default)
//         = c·Var(W_i) + (1−c)·(1/R)·Σ_j Var(W_j)   'mix'
//         = Var(W_i)                           'own'
//   3. W' = (W̄ − mean(W̄))·s + mean(W̄), s = sqrt((σ² + ε)/(Var(W̄) + ε))   (computed as W̄·s + mean·(1 − s))
//   4. one-element tensors and tensors with role 'norm' are averaged (step 1) but not rescaled.
// Var is the unbiased variance over the tensor's elements, ε = 1e-4. The result's variance is
// Var(W̄)·(σ² + ε)/(Var(W̄) + ε): σ² itself when ε ≪ both variances (exactly σ² with ε = 0).
// Contribution weights are not used (step 1 is a plain mean). With no contribution the rule
// returns own unchanged (an isolated round). Every step is written so that identical inputs
// come back bit for bit.
import { paramsFrom, tensorView, type Params } from '../params/index.js';
import { moments, weightedSum } from './kernels.js';
import type { AggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** Which variance variance-corrected averaging restores: the received models', a mix, or the own model's. */
export type TargetVariance = 'follow-others' | 'mix' | 'own';

/** Options for variance-corrected averaging. */
export interface VcaOptions {
  /** c: weight of the own model in step 1, in [0, 1]. Default 0.5. */
  readonly selfWeight?: number;
  readonly targetVariance?: TargetVariance;
  /** ε in step 3. Default 1e-4. */
  readonly epsilon?: number;
}

/** Default options of variance-corrected averaging. */
export const VCA_DEFAULTS = { selfWeight: 0.5, targetVariance: 'follow-others', epsilon: 1e-4 } as const;

/** Variance-corrected averaging (VCA): averages, then rescales each tensor's spread to a target variance. */
export function varianceCorrected(options: VcaOptions = {}): AggregationRule {
  const c = options.selfWeight ?? VCA_DEFAULTS.selfWeight;
  const mode = options.targetVariance ?? VCA_DEFAULTS.targetVariance;
  const eps = options.epsilon ?? VCA_DEFAULTS.epsilon;
  return (own, received, ctx) => {
    validateInputs('vca', own, received, ctx);
    const R = received.length;
    const out = new Float32Array(own.data.length);
    if (R === 0) {
      out.set(own.data);
      return paramsFrom(own.layout, out);
    }
    // Step 1 over the whole buffer: mean of the received, then pull towards own.
    const xs = received.map((r) => r.params.data);
    weightedSum(out, xs, new Float64Array(R).fill(1), R);
    const x = own.data;
    const pull = 1 - c;
    for (let k = 0; k < out.length; k++) out[k] = x[k] + pull * (out[k] - x[k]);
    const result = paramsFrom(own.layout, out);

    for (const spec of own.layout.tensors) {
      if (spec.size === 1 || spec.role === 'norm') continue;
      const ownVar = moments(tensorView(own, spec)).variance;
      let othersVar = 0;
      // Running mean: exact when every received variance is the same number.
      for (let j = 0; j < R; j++) othersVar += (moments(tensorView(received[j].params, spec)).variance - othersVar) / (j + 1);
      const target = mode === 'own' ? ownVar : mode === 'mix' ? ownVar + pull * (othersVar - ownVar) : othersVar;
      const avg = tensorView(result, spec);
      const m = moments(avg);
      const s = Math.sqrt((target + eps) / (m.variance + eps));
      if (s === 1) continue;
      const shift = m.mean * (1 - s);
      for (let k = 0; k < avg.length; k++) avg[k] = avg[k] * s + shift;
    }
    return result;
  };
}
