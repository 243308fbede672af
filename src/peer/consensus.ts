// Consensus distance of a set of peers' models: mean ‖x_i − x̄‖², accumulated in float64.
// (The average itself is aggregation's globalAverage.)
import type { Params } from '../params/index.js';

/** Mean over models of ‖x_i − x̄‖², given x̄. */
export function consensusDistance(models: readonly Params[], mean: Params): number {
  if (models.length === 0) return 0;
  let total = 0;
  const m = mean.data;
  for (const p of models) {
    const d = p.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) {
      const e = d[i] - m[i];
      s += e * e;
    }
    total += s;
  }
  return total / models.length;
}
