// buildAggregation: one config object in, one uniform Aggregator out, through the rule registry
// (./registry.ts), so a registered plug-in rule builds like a built-in one.
import { aggregationRegistry } from './registry.js';
import { parseAggregationSpec, type AggregationSpec } from './spec.js';
import type { Aggregator } from './aggregator.js';

export type { AggregationState, Aggregator, LocalTrainingNeeds } from './aggregator.js';

/** Builds the rule a config names. The config is validated first (ConfigError on bad values or an unknown name). */
export function buildAggregation(config: AggregationSpec | { readonly name: string }): Aggregator {
  const spec = parseAggregationSpec(config);
  return aggregationRegistry.get(spec.name).build(spec);
}
