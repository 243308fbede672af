// A dataset as plain data: inputs row-major in one Float32Array, integer labels in a typed
// array. Everything in src/data produces or consumes this shape; nothing here touches tfjs.
import { ConfigError, InputError } from '../util/errors.js';

/** Labels are Uint8Array when every class id fits in a byte (≤ 256 classes), else Int32Array. */
export type Labels = Uint8Array | Int32Array;

/** A labelled dataset in memory: row-major Float32 inputs of `featureShape`, integer labels, class count. */
export interface Dataset {
  readonly name: string;
  /** Inputs, row-major: sample i is x[i·featureSize, (i+1)·featureSize). */
  readonly x: Float32Array;
  /** Class id of each sample, in [0, numClasses). */
  readonly y: Labels;
  readonly n: number;
  /** Shape of one sample: [height, width, channels] for images, [d] for vectors. */
  readonly featureShape: readonly number[];
  /** Product of featureShape (the row length of x). */
  readonly featureSize: number;
  readonly numClasses: number;
}

/** The number of elements of a shape (product of its dimensions; 1 for []). */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** A label array of the right width for numClasses. */
export function allocLabels(n: number, numClasses: number): Labels {
  return numClasses <= 256 ? new Uint8Array(n) : new Int32Array(n);
}

/**
 * Builds a Dataset after checking that the parts agree (row count, shape, label range), so a
 * mistake is reported where the data is made rather than deep inside training.
 */
export function makeDataset(parts: {
  name: string;
  x: Float32Array;
  y: Labels;
  featureShape: readonly number[];
  numClasses: number;
}): Dataset {
  const { name, x, y, featureShape, numClasses } = parts;
  if (featureShape.length === 0 || !featureShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ConfigError(`dataset ${name}: featureShape must be positive integers, got [${featureShape.join(', ')}]`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ConfigError(`dataset ${name}: numClasses must be an integer ≥ 1, got ${numClasses}`);
  }
  if (y instanceof Uint8Array && numClasses > 256) {
    throw new ConfigError(`dataset ${name}: ${numClasses} classes do not fit Uint8Array labels; use Int32Array`);
  }
  const featureSize = shapeSize(featureShape);
  const n = y.length;
  if (x.length !== n * featureSize) {
    throw new InputError(
      `dataset ${name}: ${n} labels need ${n * featureSize} input values (${featureSize} per sample), got ${x.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (y[i] >= numClasses || y[i] < 0) {
      throw new InputError(`dataset ${name}: sample ${i} has label ${y[i]}, outside [0, ${numClasses})`);
    }
  }
  return { name, x, y, n, featureShape: [...featureShape], featureSize, numClasses };
}

/**
 * A new Dataset holding copies of the given rows, in the given order, so that whoever gets
 * it (a peer) owns its data and cannot alias another's.
 */
export function subset(ds: Dataset, indices: ArrayLike<number>, name = `${ds.name}/subset`): Dataset {
  const { featureSize } = ds;
  const m = indices.length;
  const x = new Float32Array(m * featureSize);
  const y = allocLabels(m, ds.numClasses);
  for (let k = 0; k < m; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new RangeError(`subset of ${ds.name}: index ${i} at position ${k} is outside [0, ${ds.n})`);
    }
    x.set(ds.x.subarray(i * featureSize, (i + 1) * featureSize), k * featureSize);
    y[k] = ds.y[i];
  }
  return { name, x, y, n: m, featureShape: ds.featureShape, featureSize, numClasses: ds.numClasses };
}

/** Count of each class among the given samples (all of them when indices is omitted). */
export function labelHistogram(y: ArrayLike<number>, numClasses: number, indices?: ArrayLike<number>): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  if (indices === undefined) {
    for (let i = 0; i < y.length; i++) counts[y[i]]++;
  } else {
    for (let k = 0; k < indices.length; k++) counts[y[indices[k]]]++;
  }
  return counts;
}
