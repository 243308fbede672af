// Nearest-neighbour averaging, the aggregation of MoNNA (Farhadkhani et al. 2023): sort the
// received models plus your own by Euclidean distance to your own and average the n − f
// closest (own is always among them, at distance 0). MoNNA's momentum lives in the local
// optimizer (model/), not here. Needs n ≥ 2f + 1 so that what is averaged has an honest
// majority. Ties go to own, then to received order. Contribution weights are not used.
import { paramsFrom, squaredDistance, type Params } from '../params/index.js';
import { meanOf } from './kernels.js';
import { requireGroup } from './robust.js';
import type { AggregationRule } from './types.js';
import { validateInputs } from './validate.js';

export const nnaMinGroup = (f: number): number => 2 * f + 1;

/** Nearest-neighbour averaging (MoNNA): averages the n − f models, own included, closest to the own one. */
export function nearestNeighbourAverage(options: { readonly f: number }): AggregationRule {
  const { f } = options;
  return (own: Params, received, ctx) => {
    validateInputs('nna', own, received, ctx);
    const xs = [own.data, ...received.map((c) => c.params.data)];
    requireGroup('nna', xs.length, f, nnaMinGroup(f), '2f + 1', ctx);
    const dist = xs.map((x, i) => (i === 0 ? 0 : squaredDistance(own.data, x)));
    const order = Array.from(xs.keys()).sort((a, b) => dist[a] - dist[b] || a - b);
    const out = new Float32Array(own.data.length);
    meanOf(
      out,
      order.slice(0, xs.length - f).map((i) => xs[i]),
    );
    return paramsFrom(own.layout, out);
  };
}
