// Loading a run's train/test data from a plain spec (the `data` section of a run config).
import { loadMnist } from './mnist.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadIdxFolder } from './idx.js';
import { loadCsv } from './csv.js';
import { syntheticDataset } from './synthetic.js';
import type { Dataset } from './dataset.js';
import { Rng } from '../util/rng.js';

/** Where a run's train and test sets come from: MNIST digits, Fashion-MNIST, IDX files, CSV files or synthetic data. */
export type DataSourceSpec =
  | { dataset: 'mnist'; train: number; test: number }
  | { dataset: 'fashion-mnist'; train: number; test: number }
  | { dataset: 'idx'; folder: string }
  | { dataset: 'csv'; train: string; test: string; featureShape?: number[] }
  | { dataset: 'synthetic'; train: number; test: number; features: number; classes: number };

/** Train and test sets for a spec; `seed` drives the MNIST split and synthetic draws. */
export function loadDataSource(spec: DataSourceSpec, seed: number): { train: Dataset; test: Dataset } {
  switch (spec.dataset) {
    case 'mnist':
      return loadMnist({ trainSize: spec.train, testSize: spec.test, seed });
    case 'fashion-mnist':
      return loadFashionMnist({ trainSize: spec.train, testSize: spec.test, seed });
    case 'idx':
      return loadIdxFolder(spec.folder);
    case 'csv': {
      const opts = { scale: 1 / 255, ...(spec.featureShape ? { featureShape: spec.featureShape } : {}) };
      const train = loadCsv(spec.train, opts);
      return { train, test: loadCsv(spec.test, { ...opts, numClasses: train.numClasses }) };
    }
    case 'synthetic': {
      // One draw split in two, so train and test share the class means.
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
  }
}
