// The simulator's public API.
export { simulate, type SimulationHooks, type SimulationPlugins, type SimulationResult } from './simulator.js';
export { SimNetwork, type TrafficCounter } from './memory-transport.js';
export { IDEAL_NETWORK, deliver, type NetworkModel, type Delivery } from './network.js';
