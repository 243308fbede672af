// The registry of benchmark suites; each layer adds its own file and one line here.
import type { BenchSuite } from './lib.js';
import { network } from './network.js';
import { aggregationSuite } from './aggregation.js';

export const suites: BenchSuite[] = [network, aggregationSuite];
import { topologySuite } from './topology.js'; suites.push(topologySuite);
import { batchedSuite } from './batched.js'; suites.push(batchedSuite);
