// Coordinate-wise robust rules: for each coordinate, sort the group's values and take the
// median, or drop the f largest and f smallest and average the rest (trimmed mean). One
// scratch column is reused for every coordinate; groups are small, so insertion sort wins.
// Contribution weights are not used.
import { paramsFrom, type Params } from '../params/index.js';
import { sortColumn } from './kernels.js';
import { requireGroup, robustGroup, type RobustOptions } from './robust.js';
import type { AggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** Median of each coordinate (mean of the two middle values for an even group). */
function medianInto(out: Float32Array, xs: readonly Float32Array[]): void {
  const n = xs.length;
  const col = new Float64Array(n);
  const lo = (n - 1) >> 1;
  const hi = n >> 1;
  for (let k = 0; k < out.length; k++) {
    for (let j = 0; j < n; j++) col[j] = xs[j][k];
    sortColumn(col);
    out[k] = (col[lo] + col[hi]) / 2;
  }
}

/** Mean of each coordinate's values after dropping its f smallest and f largest. */
function trimmedMeanInto(out: Float32Array, xs: readonly Float32Array[], f: number): void {
  const n = xs.length;
  const col = new Float64Array(n);
  const kept = n - 2 * f;
  for (let k = 0; k < out.length; k++) {
    for (let j = 0; j < n; j++) col[j] = xs[j][k];
    sortColumn(col);
    let s = 0;
    for (let j = f; j < n - f; j++) s += col[j];
    out[k] = s / kept;
  }
}

/** Smallest group for which dropping f at each end leaves at least one value per coordinate. */
export const coordinateMinGroup = (f: number): number => 2 * f + 1;

/** The median withstands any minority of faulty members. */
export const medianTolerates = (n: number): number => Math.max(0, (n - 1) >> 1);

/** Coordinate-wise median; refuses groups smaller than 2f + 1 (f defaults to 0). */
export function coordinateMedian(options: Partial<RobustOptions> = {}): AggregationRule {
  const f = options.f ?? 0;
  const includeSelf = options.includeSelf ?? true;
  return (own: Params, received, ctx) => {
    validateInputs('median', own, received, ctx);
    const xs = robustGroup(own, received, includeSelf);
    requireGroup('median', xs.length, f, coordinateMinGroup(f), '2f + 1', ctx);
    const out = new Float32Array(own.data.length);
    medianInto(out, xs);
    return paramsFrom(own.layout, out);
  };
}

/** Coordinate-wise trimmed mean dropping f values at each end; refuses groups smaller than 2f + 1. */
export function trimmedMean(options: RobustOptions): AggregationRule {
  const { f } = options;
  const includeSelf = options.includeSelf ?? true;
  return (own: Params, received, ctx) => {
    validateInputs('trimmed-mean', own, received, ctx);
    const xs = robustGroup(own, received, includeSelf);
    requireGroup('trimmed-mean', xs.length, f, coordinateMinGroup(f), '2f + 1', ctx);
    const out = new Float32Array(own.data.length);
    trimmedMeanInto(out, xs, f);
    return paramsFrom(own.layout, out);
  };
}
