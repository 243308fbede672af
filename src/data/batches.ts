// Seeded minibatches over a Dataset, written into buffers allocated once per iterator.
//
// Policy: each epoch visits every sample exactly once, in a fresh seeded permutation. Every
// batch is full: a batch that runs past the end of an epoch continues with the first samples
// of the next epoch's permutation (so no sample is dropped and no batch is short).
import { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';

/** One minibatch: inputs [size × featureSize] row-major, integer labels, and the dataset rows they came from. */
export interface DataBatch {
  /** Filled on first read: a trainer that holds the dataset on its device reads only `rows`. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
  readonly source: Dataset;
  readonly rows: Int32Array;
}

/** Seeded minibatches from one dataset, reusing its buffers. */
export interface BatchIterator {
  /** Fills and returns the iterator's own buffers; the previous batch is overwritten. */
  next(): DataBatch;
  /** Completed passes over the dataset. */
  readonly epochs: number;
}

/** Full minibatches of `batchSize` samples from `ds`; each epoch visits every sample once in a fresh seeded order. */
export function batchIterator(ds: Dataset, batchSize: number, seed: number): BatchIterator {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  if (ds.n < 1) throw new RangeError(`dataset ${ds.name} is empty; cannot draw batches from it`);
  const rng = new Rng(seed);
  const { featureSize } = ds;
  const order = rng.permutation(ds.n);
  const x = new Float32Array(batchSize * featureSize);
  const rows = new Int32Array(batchSize);
  let filled = false;
  const batch: DataBatch = {
    get x() {
      if (!filled) {
        for (let b = 0; b < batchSize; b++) x.set(ds.x.subarray(rows[b] * featureSize, (rows[b] + 1) * featureSize), b * featureSize);
        filled = true;
      }
      return x;
    },
    labels: new Int32Array(batchSize),
    size: batchSize,
    source: ds,
    rows,
  };
  let position = 0;
  let epochs = 0;
  return {
    next(): DataBatch {
      filled = false;
      for (let b = 0; b < batchSize; b++) {
        const i = order[position++];
        rows[b] = i;
        batch.labels[b] = ds.y[i];
        if (position === ds.n) {
          rng.shuffle(order); // reshuffle in place: no allocation per epoch either
          position = 0;
          epochs++;
        }
      }
      return batch;
    },
    get epochs() {
      return epochs;
    },
  };
}
