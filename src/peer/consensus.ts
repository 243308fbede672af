// Quantities over a set of peers' models: their plain average (the "merged" model) and the
// consensus distance, mean ‖x_i − x̄‖². Accumulated in float64.
import type { Params } from '../params/index.js';
import { assertSameLayout } from '../params/index.js';

/** The element-wise mean of the given models. */
export function averageParams(models: readonly Params[]): Params {
  if (models.length === 0) throw new RangeError('averageParams: no models');
  const layout = models[0].layout;
  const n = layout.size;
  const acc = new Float64Array(n);
  for (const m of models) {
    assertSameLayout(layout, m.layout, 'averageParams');
    const d = m.data;
    for (let i = 0; i < n; i++) acc[i] += d[i];
  }
  const out = new Float32Array(n);
  const inv = 1 / models.length;
  for (let i = 0; i < n; i++) out[i] = acc[i] * inv;
  return { layout, data: out };
}

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
