// Loading a run's train/test data from a plain spec (the `data` section of a run config), through
// the dataset registry (./registry.ts).
import type { z } from 'zod';
import type { Dataset } from './dataset.js';
import { datasetRegistry, DATASETS } from './registry.js';
import type { SchemasOf } from '../util/registry.js';

/** Where a run's train and test sets come from: one of the registered datasets and its parameters. */
export type DataSourceSpec = z.output<SchemasOf<typeof DATASETS>[number]>;

/** Train and test sets for a spec; `seed` drives the MNIST split and synthetic draws. An unknown dataset is a ConfigError listing the registered ones. */
export function loadDataSource(spec: DataSourceSpec | { readonly dataset: string }, seed: number): { train: Dataset; test: Dataset } {
  return datasetRegistry.get(spec.dataset).load(spec as never, seed);
}
