// The registry of benchmark suites; each layer adds its own file and one entry here.
import type { BenchSuite } from './lib.js';
import { trainingSuite } from './training.js';
import { topologySuite } from './topology.js';
import { compression } from './compression.js';
import { aggregationSuite } from './aggregation.js';
import { simulatorSuite } from './simulator.js';
import { batchedSuite } from './batched.js';
import { network } from './network.js';
import { networkTlsCeiling } from './network-tls-ceiling.js';
import { networkQuic } from './network-quic.js';

export const suites: BenchSuite[] = [trainingSuite, topologySuite, compression, aggregationSuite, simulatorSuite, batchedSuite, network, networkTlsCeiling, networkQuic];
