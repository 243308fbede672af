// Gossip mixing with the topology's weights on full models:
//   x_i ← x_i + Σ_j W_ij (x_j − x_i)
// over the neighbours j whose models arrived. This is Σ_j W_ij x_j with W_ii = 1 − Σ_{j≠i} W_ij,
// written as differences so that a neighbour that did not arrive (straggler, loss) hands its
// weight back to self instead of shrinking the model, and no message at all leaves x_i as is.
import { paramsFrom, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { addWeightedDifferences } from './kernels.js';
import type { AggregationContext, Contribution } from './types.js';
import { validateInputs } from './validate.js';

/** Mixing weights may exceed 1 in total by this much (rounding in 1/3 + 1/3 + 1/3 and the like). */
export const WEIGHT_SUM_TOLERANCE = 1e-9;

/** Refuses neighbour weights that would leave a negative self weight. */
export function checkRowWeights(rule: string, total: number, ctx?: AggregationContext): void {
  if (total > 1 + WEIGHT_SUM_TOLERANCE) {
    const at = ctx?.round === undefined ? '' : ` (round ${ctx.round})`;
    throw new AggregationError(
      `${rule}${at}: neighbour weights W_ij sum to ${total} > 1, which leaves a negative self weight; use a row-stochastic mixing matrix`,
    );
  }
}

/** Gossip averaging: the own model and the received ones mixed with the topology row's weights. */
export const gossipMix: (own: Params, received: readonly Contribution[], ctx?: AggregationContext) => Params = scaledMix('gossip', 1);

/** x_i + s·Σ_j W_ij (x_j − x_i) over the received, for rule `rule` (s = 1: gossip; s = 1/2: the lazy (I + W)/2). */
export function scaledMix(rule: string, scale: number) {
  return (own: Params, received: readonly Contribution[], ctx?: AggregationContext): Params => {
    const total = validateInputs(rule, own, received, ctx);
    checkRowWeights(rule, total, ctx);
    const out = new Float32Array(own.data.length);
    addWeightedDifferences(
      out,
      own.data,
      own.data,
      received.map((c) => c.params.data),
      received.map((c) => c.weight),
      scale,
    );
    return paramsFrom(own.layout, out);
  };
}
