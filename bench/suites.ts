// The registry of benchmark suites; each layer adds its own file and one line here.
import type { BenchSuite } from './lib.js';
import { network } from './network.js';

export const suites: BenchSuite[] = [network];
