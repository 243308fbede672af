// Pre-flight of a simulation: the run config's own checks (src/peer/preflight.ts) plus what the
// chosen engine can run, so that `simulate` and `sweep` refuse a misfit before --out is touched.
import type { RunConfig } from '../peer/config.js';
import { preflight, type PreflightReport } from '../peer/preflight.js';
import { checkBatchedWorld } from './batched-world.js';

/** Every check of a config that is about to be simulated; throws one ConfigError naming the key. */
export function preflightSimulation(config: RunConfig): PreflightReport {
  const report = preflight(config);
  if (config.engine === 'batched') checkBatchedWorld(config);
  return report;
}
