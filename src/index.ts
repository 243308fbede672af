// Public API of gossipfl. Each layer is re-exported from here so users never need deep imports.
export * from './params/index.js';
export { Rng, deriveSeed } from './util/rng.js';
export * from './util/errors.js';
export * from './compute/index.js';
export * from './model/index.js';
export * from './data/index.js';
export * from './aggregation/index.js';
export * from './schedule/index.js';
export * as node from './node/index.js';
export * from './peer/index.js';
export * from './sim/index.js';
export * as topology from './topology/index.js';
export * from './report/index.js';
export { BatchedTrainer, type BatchedOptions, type BatchedKernels } from './model/batched.js';
export * as compression from './compression/index.js';
