// Aggregation rules: pure functions from (own params, received contributions) to new params,
// with an explicit state object for the rules that need memory. See docs/aggregation.md.
export type { AggregationContext, AggregationRule, Contribution, StatefulAggregationRule, StatefulResult } from './types.js';
export { fedAvg, globalAverage } from './fedavg.js';
export { gossipMix, WEIGHT_SUM_TOLERANCE } from './gossip.js';
export { chocoGossip, chocoInitialState, type ChocoState } from './choco.js';
export { varianceCorrected, VCA_DEFAULTS, type TargetVariance, type VcaOptions } from './vca.js';
export { coordinateMedian, trimmedMean } from './coordinate.js';
export type { RobustOptions } from './robust.js';
export { krum, krumScores, type KrumOptions } from './krum.js';
export { nearestNeighbourAverage } from './nna.js';
export { fedAu, fedAuInitialState, fedAuStep, type FedAuPeerRecord, type FedAuState } from './fedau.js';
export { fedAvgM, fedAvgMInitialState, type FedAvgMOptions, type FedAvgMState } from './fedavg-m.js';
export {
  serverOptimizer,
  serverOptimizerInitialState,
  SERVER_OPTIMIZER_DEFAULTS,
  type ServerOptimizerKind,
  type ServerOptimizerOptions,
  type ServerOptimizerState,
} from './server-opt.js';
export {
  controlParams,
  scaffold,
  scaffoldClientUpdate,
  scaffoldCorrection,
  scaffoldInitialState,
  type ScaffoldClientInput,
  type ScaffoldOptions,
  type ScaffoldState,
} from './scaffold.js';
export {
  estimateParams,
  scaffoldGossip,
  scaffoldGossipInitialState,
  scaffoldGossipStep,
  trackControl,
  type ScaffoldGossipOptions,
  type ScaffoldGossipState,
} from './scaffold-gossip.js';
export { d2Correction, d2Mix, type D2Options } from './d2.js';
export { aggregationSpecSchema, currentAggregationSchema, parseAggregationSpec, type AggregationName, type AggregationSpec } from './spec.js';
export { buildAggregation, type AggregationState, type Aggregator, type LocalTrainingNeeds } from './build.js';
export { stateful, stateless, withstands, type Parts, type RuleSpec } from './aggregator.js';
export { aggregationRegistry, AGGREGATION_RULES, defineRule, rulesFor, rulesWhere, type RuleCapabilities, type RuleEntry, type RuleMode } from './registry.js';
