// The peer algorithm's public API: config, peer state, exchanges, the Transport seam.
export * from './transport.js';
export { Peer, type PeerInit } from './peer.js';
export { gossipExchange, exactMerge, MergeMemo, MERGE_PHASE, type ModelCodec, type GossipPlan, type MergePlan, type ExchangeOutcome, type GossipWire } from './gossip.js';
export { federatedDownload, federatedUpload, type FederatedServer, type TransportHub } from './federated.js';
export { consensusDistance } from './consensus.js';
export { buildCodec, type UpdateCodec, type DeltaCodec, type MessageMeta } from './codec.js';
export { configSchema, currentConfigSchema, parseConfig, parseConfigInput, loadConfigFile, readConfigInput, DEFAULT_CONFIG, type RunConfig, type RunConfigInput, type TopologyInput } from './config.js';
export { applyOverrides, parseOverride, setPath, type Override } from './overrides.js';
export { preflight, components, type PreflightReport } from './preflight.js';
export { checkFinite, findDivergences, DivergenceError, type Divergence, type PeerRoundState } from './divergence.js';
export { asyncGossipStep, publishModel, mixLatest, presentRow, isFresh, asyncConfigProblem, ASYNC_METHODS, type AsyncTransport, type AsyncGossipPlan, type AsyncStepOutcome } from './async-gossip.js';
