export * from './zoo.js';
export * from './optimizer.js';
export * from './batch.js';
export * from './trainer.js';
export * from './registry.js';
