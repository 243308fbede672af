// Cross-key rules of a run config that its schema cannot say on its own: the rule fits the mode
// (read from the rule registry's capabilities), the topology fits the peers and the schedule, a
// dataset's own limits, rounds named in churn, merges and stragglers exist, and so on. Each
// failure is one ConfigError naming the key and what to do.
import { ConfigError } from '../util/errors.js';
import { isGroupMethod, methodsWhere } from '../compression/index.js';
import { aggregationRegistry, rulesFor } from '../aggregation/registry.js';
import { datasetRegistry } from '../data/registry.js';
import { modelRegistry } from '../model/registry.js';
import { staticGraphNames } from '../topology/spec.js';
import { asyncConfigProblem } from './async-gossip.js';
import { localTrainingMisfit } from './local-training.js';
import type { RunConfig } from './config.js';

/** Rules that need to see what a user wrote rather than what defaults filled in. */
export function checkWritten(raw: Record<string, unknown>, source: string): void {
  if (raw.mode !== undefined && raw.mode !== 'gossip' && raw.topology !== undefined) {
    throw new ConfigError(
      `${source}: topology is set but mode is ${String(raw.mode)}, which does not use it (${raw.mode === 'federated' ? 'a server averages the sampled peers' : raw.mode === 'all-reduce' ? 'every peer averages with all others' : 'trainers and aggregators are drawn each round'}); remove the topology section or use mode: gossip`,
    );
  }
}

/** Cross-field rules of a validated config; returns it unchanged or throws one ConfigError. */
export function checkConsistency(c: RunConfig, source: string): RunConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`${source}: ${msg}`);
  };
  if (c.topology.peers !== undefined && c.topology.peers !== c.peers) {
    fail(`topology.peers is ${c.topology.peers} but the run has peers: ${c.peers}; drop topology.peers or make them equal`);
  }
  if (c.schedule.budget && c.topology.name !== 'pull') {
    fail(`schedule.budget sets r of the 'pull' topology (random-r pull); topology is '${c.topology.name}'`);
  }
  const localTraining = localTrainingMisfit(c, isGroupMethod(c.compression.method));
  if (localTraining) fail(localTraining);
  const rule = c.aggregation && aggregationRegistry.get(c.aggregation.name);
  if (rule && c.mode !== 'gossip' && !rule.modes.includes('federated')) {
    fail(`aggregation '${rule.name}' is a gossip rule; federated mode aggregates with ${rulesFor('federated').join(', ')}`);
  }
  if (rule && c.mode === 'gossip' && !rule.modes.includes('gossip')) {
    fail(`aggregation '${rule.name}' needs mode: federated (gossip mode mixes with the topology's weights: use one of ${rulesFor('gossip').join(', ')})`);
  }
  if (c.mode === 'all-reduce' && !isGroupMethod(c.compression.method)) {
    fail(
      `mode all-reduce averages each round's change through a group compressor: set compression.method to one of ${methodsWhere((e) => e.kind === 'group').join(', ')} (got ${c.compression.method}); for whole models use mode: gossip with topology complete`,
    );
  }
  if (c.privacy?.mode === 'central' && c.mode !== 'federated') {
    fail(`privacy.mode central adds the noise at the server, so it needs mode: federated; use privacy.mode: local for ${c.mode}`);
  }
  for (const r of c.schedule.merge?.rounds ?? []) {
    if (r >= c.rounds) fail(`schedule.merge.rounds: round ${r} is not before the run's end (rounds are 0-based, the last is ${c.rounds - 1})`);
  }
  for (const e of c.heterogeneity.churn) {
    if (e.round > c.rounds) fail(`heterogeneity.churn: round ${e.round} is after the last round (${c.rounds})`);
  }
  for (const s of c.timing.slowPeers) {
    if (s.peer >= c.peers) fail(`timing.slowPeers: peer ${s.peer} is not in [0, ${c.peers}) (peers are numbered by data shard)`);
  }
  if (c.mode === 'modest' && c.modest.trainers > c.peers) {
    fail(`modest.trainers is ${c.modest.trainers} but the run has peers: ${c.peers}; at most every peer trains, so lower modest.trainers or raise peers`);
  }
  if (c.mode === 'modest' && c.modest.aggregators > c.peers) {
    fail(`modest.aggregators is ${c.modest.aggregators} but the run has peers: ${c.peers}; lower modest.aggregators or raise peers`);
  }
  const data = datasetRegistry.get(c.data.dataset);
  const dataProblem = data.check?.(c.data as never);
  if (dataProblem) fail(dataProblem);
  const model = modelRegistry.get(c.model.kind);
  if (model.inputs === 'image' && data.shape && data.shape.length !== 3) {
    fail(`model.kind: ${model.name} takes images [height, width, channels]; dataset ${data.name} has samples of shape [${data.shape.join(', ')}]: use a model of any input (${modelRegistry.entries.filter((m) => m.inputs === 'any').map((m) => m.name).join(', ')})`);
  }
  const asyncProblem = c.timing.mode === 'async' ? asyncConfigProblem(c, staticGraphNames()) : null;
  if (asyncProblem) fail(asyncProblem);
  return c;
}
