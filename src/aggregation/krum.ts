// Krum and Multi-Krum (Blanchard et al. 2017). Score each member of the group of n by the sum
// of squared distances to its n − f − 2 nearest other members; Krum returns the member with
// the lowest score, Multi-Krum (m > 1) the plain mean of the m lowest-scoring members. Ties go
// to the earlier member (own first when included, then received order), so results are
// deterministic. Needs n ≥ 2f + 3. Contribution weights are not used.
import { paramsFrom, squaredDistance, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { meanOf } from './kernels.js';
import { requireGroup, robustGroup, type RobustOptions } from './robust.js';
import type { AggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** Options for Krum and Multi-Krum. */
export interface KrumOptions extends RobustOptions {
  /** How many lowest-scoring members to average: 1 is Krum, more is Multi-Krum. Default 1. */
  readonly m?: number;
}

export const krumMinGroup = (f: number): number => 2 * f + 3;

/** Krum scores of every member of the group (sum of squared distances to its n − f − 2 nearest). */
export function krumScores(xs: readonly Float32Array[], f: number): Float64Array {
  const n = xs.length;
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = squaredDistance(xs[i], xs[j]);
      dist[i * n + j] = d;
      dist[j * n + i] = d;
    }
  }
  const nearest = n - f - 2;
  const scores = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j < n; j++) if (j !== i) row[w++] = dist[i * n + j];
    row.sort();
    let s = 0;
    for (let j = 0; j < nearest; j++) s += row[j];
    scores[i] = s;
  }
  return scores;
}

/** Krum (m = 1) or Multi-Krum: averages the m contributions closest to their nearest neighbours. */
export function krum(options: KrumOptions): AggregationRule {
  const { f } = options;
  const m = options.m ?? 1;
  const includeSelf = options.includeSelf ?? true;
  const rule = m === 1 ? 'krum' : 'multi-krum';
  return (own: Params, received, ctx) => {
    validateInputs(rule, own, received, ctx);
    const xs = robustGroup(own, received, includeSelf);
    requireGroup(rule, xs.length, f, krumMinGroup(f), '2f + 3', ctx);
    if (m > xs.length - f) {
      throw new AggregationError(`${rule}: m = ${m} exceeds n − f = ${xs.length - f} for a group of ${xs.length}; lower m`);
    }
    const scores = krumScores(xs, f);
    const order = Array.from(xs.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
    const out = new Float32Array(own.data.length);
    meanOf(
      out,
      order.slice(0, m).map((i) => xs[i]),
    );
    return paramsFrom(own.layout, out);
  };
}
