// A minibatch as plain data: inputs row-major [size × featureSize] and integer labels.
/** A minibatch: `size` samples, inputs row-major in `x`, integer class labels in `labels`. */
export interface Batch {
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
}

/** Anything that hands out the next minibatch (a peer's seeded sampler, a fixed list in tests). */
export type BatchSource = () => Batch;
