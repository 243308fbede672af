/**
 * Topology layer: graphs (static and time-varying) and mixing weights as plain data, their
 * analysis, and buildTopology(spec) for the simulator and the node. No tfjs, no libp2p.
 * @module
 */
export * from './graph.js';
export * from './generators.js';
export * from './random-graphs.js';
export * from './edge-list.js';
export * from './mixing.js';
export * from './weights.js';
export * from './schedules.js';
export * from './eigen.js';
export * from './spectral.js';
export * from './analysis.js';
export * from './spec.js';
export * from './registry.js';
