// A minibatch as plain data: inputs row-major [size × featureSize] and integer labels.

/** A dataset a batch's rows index into: inputs row-major, one label per row. */
export interface BatchSourceData {
  readonly x: Float32Array;
  readonly y: ArrayLike<number>;
  readonly n: number;
}

/** A minibatch: `size` samples, inputs row-major in `x`, integer class labels in `labels`. */
export interface Batch {
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
  /**
   * Where the samples came from, when they are rows of one dataset: sample b is row rows[b] of
   * `source`. A trainer that keeps `source` on its device then needs only the row indices.
   */
  readonly source?: BatchSourceData;
  readonly rows?: Int32Array;
}

/** Anything that hands out the next minibatch (a peer's seeded sampler, a fixed list in tests). */
export type BatchSource = () => Batch;
