// FedAvg (McMahan et al. 2017): x = Σ_i (m_i / Σ m) · x_i, m_i = the sender's sample count.
// It averages the contributions only; a peer that wants its own model in the average (an
// aggregator that also trained) passes itself as one more contribution.
import { paramsFrom, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { weightedSum } from './kernels.js';
import type { AggregationContext, Contribution } from './types.js';
import { validateInputs } from './validate.js';

/** FedAvg: the average of the contributions weighted by their sample counts. */
export function fedAvg(own: Params, received: readonly Contribution[], ctx?: AggregationContext): Params {
  const total = validateInputs('fedavg', own, received, ctx, { positiveTotal: true });
  const out = new Float32Array(own.data.length);
  weightedSum(
    out,
    received.map((c) => c.params.data),
    received.map((c) => c.weight),
    total,
  );
  return paramsFrom(own.layout, out);
}

/**
 * The exact global merge: the (sample-weighted, or plain when `weights` is omitted) average of
 * every peer's model. Used for the final merge and for measuring the merged model's accuracy.
 */
export function globalAverage(models: readonly Params[], weights?: readonly number[]): Params {
  if (models.length === 0) throw new AggregationError('global average: no models to merge; the run has no live peers');
  if (weights !== undefined && weights.length !== models.length) {
    throw new AggregationError(`global average: ${models.length} models but ${weights.length} weights; pass one weight per model`);
  }
  return fedAvg(
    models[0],
    models.map((params, i) => ({ from: `#${i}`, params, weight: weights === undefined ? 1 : weights[i] })),
  );
}
