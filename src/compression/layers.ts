// How compressors see a tensor. Low-rank methods treat a tensor of two or more dimensions as a
// matrix with rows = shape[0] and cols = the product of the other dimensions (a conv kernel
// [out, in, kh, kw] becomes out × (in·kh·kw)); 1-D tensors (biases) travel uncompressed.
import type { ParamLayout, TensorSpec } from '../params/index.js';

/** A tensor seen as a matrix: rows × cols. */
export interface MatrixShape {
  readonly rows: number;
  readonly cols: number;
}

/** The 2-D view of a tensor, or undefined for 1-D tensors. */
export function matrixShape(spec: TensorSpec): MatrixShape | undefined {
  if (spec.shape.length < 2) return undefined;
  return { rows: spec.shape[0], cols: spec.size / spec.shape[0] };
}

/** Dense float32 size of a layout in bytes: the honest baseline every ratio is measured against. */
export function denseBytes(layout: ParamLayout): number {
  return 4 * layout.size;
}

/** Number of kept entries for a keep-ratio: ⌈ratio·n⌉, at least 1, at most n. */
export function keepCount(ratio: number, n: number): number {
  // toPrecision drops float noise such as 0.01 · 1e7 = 100000.00000000001.
  return Math.min(n, Math.max(1, Math.ceil(Number((ratio * n).toPrecision(12)))));
}
