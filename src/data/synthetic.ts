// Seeded synthetic classification data for quick tests and large simulated runs.
//
// - clusters: class c has a mean μ_c ~ N(0, separation²·I); a sample is μ_c + N(0, noise²·I).
//   Labels are balanced (counts differ by at most one) and in random order.
// - teacher: x ~ N(0, I) and the label is argmax of a random linear map W·x + b with
//   W_ij ~ N(0, 1/d), b_i ~ N(0, 1); `labelNoise` is the chance a label is replaced by a
//   uniformly random class. With no label noise a linear softmax model can fit it exactly.
import { ConfigError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { allocLabels, makeDataset, shapeSize, type Dataset } from './dataset.js';

interface SyntheticCommon {
  /** Number of samples. */
  n: number;
  numClasses: number;
  /** Shape of one sample, e.g. [20] or [8, 8, 1]. */
  featureShape: number[];
  seed: number;
  name?: string;
}

/** Gaussian class clusters: class means ~ N(0, separation²·I), samples add N(0, noise²·I). */
export interface ClustersSpec extends SyntheticCommon {
  kind: 'clusters';
  /** Scale of the class means (default 1). */
  separation?: number;
  /** Standard deviation around a class mean (default 1). */
  noise?: number;
}

/** Labels from a random linear teacher on x ~ N(0, I), with optional label noise. */
export interface TeacherSpec extends SyntheticCommon {
  kind: 'teacher';
  /** Probability that a label is replaced by a random class (default 0). */
  labelNoise?: number;
}

/** A synthetic dataset: Gaussian clusters or a linear teacher. */
export type SyntheticSpec = ClustersSpec | TeacherSpec;

function checkCommon(spec: SyntheticSpec): number {
  const { n, numClasses, featureShape } = spec;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`synthetic n must be an integer ≥ 1, got ${n}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ConfigError(`synthetic numClasses must be an integer ≥ 2, got ${numClasses}`);
  if (featureShape.length === 0 || !featureShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ConfigError(`synthetic featureShape must be positive integers, got [${featureShape.join(', ')}]`);
  }
  if (!Number.isFinite(spec.seed)) throw new ConfigError(`synthetic seed must be a finite number, got ${spec.seed}`);
  return shapeSize(featureShape);
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new ConfigError(`synthetic ${name} must be a finite number ≥ 0, got ${value}`);
  return value;
}

function clusters(spec: ClustersSpec, d: number): Dataset {
  const separation = nonNegative('separation', spec.separation ?? 1);
  const noise = nonNegative('noise', spec.noise ?? 1);
  const { n, numClasses } = spec;
  const meanRng = Rng.derive(spec.seed, 'synthetic-clusters', 'means');
  const sampleRng = Rng.derive(spec.seed, 'synthetic-clusters', 'samples');
  const means = new Float64Array(numClasses * d);
  for (let i = 0; i < means.length; i++) means[i] = separation * meanRng.normal();
  const y = allocLabels(n, numClasses);
  for (let i = 0; i < n; i++) y[i] = i % numClasses;
  sampleRng.shuffle(y);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const mean = y[i] * d;
    for (let j = 0; j < d; j++) x[i * d + j] = means[mean + j] + noise * sampleRng.normal();
  }
  return makeDataset({ name: spec.name ?? 'synthetic-clusters', x, y, featureShape: spec.featureShape, numClasses });
}

function teacher(spec: TeacherSpec, d: number): Dataset {
  const labelNoise = nonNegative('labelNoise', spec.labelNoise ?? 0);
  if (labelNoise > 1) throw new ConfigError(`synthetic labelNoise must be in [0, 1], got ${labelNoise}`);
  const { n, numClasses } = spec;
  const teacherRng = Rng.derive(spec.seed, 'synthetic-teacher', 'weights');
  const sampleRng = Rng.derive(spec.seed, 'synthetic-teacher', 'samples');
  const w = new Float64Array(numClasses * d);
  const b = new Float64Array(numClasses);
  const wScale = 1 / Math.sqrt(d);
  for (let i = 0; i < w.length; i++) w[i] = wScale * teacherRng.normal();
  for (let k = 0; k < numClasses; k++) b[k] = teacherRng.normal();
  const x = new Float32Array(n * d);
  const y = allocLabels(n, numClasses);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) x[row + j] = sampleRng.normal();
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < numClasses; k++) {
      let score = b[k];
      for (let j = 0; j < d; j++) score += w[k * d + j] * x[row + j];
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    // Drawn for every sample so the inputs do not depend on labelNoise.
    const flip = sampleRng.next();
    const random = sampleRng.int(numClasses);
    y[i] = flip < labelNoise ? random : best;
  }
  return makeDataset({ name: spec.name ?? 'synthetic-teacher', x, y, featureShape: spec.featureShape, numClasses });
}

/** A seeded synthetic dataset; the same spec (seed included) gives the same samples. */
export function syntheticDataset(spec: SyntheticSpec): Dataset {
  const d = checkCommon(spec);
  switch (spec.kind) {
    case 'clusters':
      return clusters(spec, d);
    case 'teacher':
      return teacher(spec, d);
    default:
      throw new ConfigError(`unknown synthetic dataset kind '${(spec as { kind: unknown }).kind}'; use 'clusters' or 'teacher'`);
  }
}
